//! The Lambda runtime's view of the handler: one invocation service for both callers of the
//! reference deployment. A function URL (invoke mode `RESPONSE_STREAM`) gets the response as
//! a stream (each SSE `delta` its own chunk, sent while the model is still writing); API
//! Gateway gets it buffered, whole.
#![cfg(feature = "lambda")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use lambda_http::lambda_runtime::{FunctionResponse, StreamResponse};
use lambda_http::request::LambdaRequest;
use lambda_http::{Context, LambdaEvent};
use link::Link;
use link::testing::{ScriptedChatModel, ScriptedExtractor};
use link_server::lambda::{ChunkStream, invocations, is_function_url};
use link_server::{HttpOptions, router};
use serde_json::{Value, json};
use tower::ServiceExt;

const REPLY: &str = "The game is afoot, Watson.";

/// The router over a model that waits before each streamed word, so a reply takes a while.
fn app(model: &ScriptedChatModel) -> axum::Router {
    let link = Link::builder()
        .extractor(Arc::new(ScriptedExtractor::default()))
        .chat_model(Arc::new(model.clone()))
        .build()
        .unwrap();
    let options = HttpOptions {
        max_body_bytes: 65536,
        ..HttpOptions::default()
    };
    router(support::dev_state(link), &options)
}

/// An HTTP API v2 event as API Gateway (`execute-api`) or a function URL (`lambda-url`)
/// sends it: the same shape, told apart by the domain.
fn event(domain: &str, method: &str, path: &str, headers: Value, body: Option<Value>) -> Value {
    let mut all = json!({"content-type": "application/json", "host": domain});
    for (name, value) in headers.as_object().unwrap() {
        all[name] = value.clone();
    }
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": all,
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc", "domainName": domain,
            "domainPrefix": "abc", "requestId": "req-1", "routeKey": "$default", "stage": "$default",
            "time": "04/Dec/2026:04:00:00 +0000", "timeEpoch": 1796356800000u64,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.1", "userAgent": "test"}
        },
        "body": body.map(|b| b.to_string()), "isBase64Encoded": false
    })
}

const API: &str = "abc.execute-api.us-east-1.amazonaws.com";
const URL: &str = "abcdefghij.lambda-url.us-east-1.on.aws";

fn lambda_event(event: &Value) -> LambdaEvent<LambdaRequest> {
    let payload: LambdaRequest = serde_json::from_value(event.clone()).unwrap();
    LambdaEvent::new(payload, Context::default())
}

type Invoked = FunctionResponse<Value, ChunkStream>;

/// One invocation as the Lambda runtime makes it; a buffered answer as the JSON it would send.
async fn invoke(app: &axum::Router, event: &Value) -> Invoked {
    let response = invocations(app.clone())
        .oneshot(lambda_event(event))
        .await
        .unwrap();
    match response {
        FunctionResponse::BufferedResponse(buffered) => {
            FunctionResponse::BufferedResponse(serde_json::to_value(&buffered).unwrap())
        }
        FunctionResponse::StreamingResponse(streamed) => {
            FunctionResponse::StreamingResponse(streamed)
        }
    }
}

/// The JSON body of a buffered API Gateway answer, with its status.
async fn buffered_json(app: &axum::Router, event: &Value) -> (u16, Value) {
    let FunctionResponse::BufferedResponse(answer) = invoke(app, event).await else {
        panic!("API Gateway must get a buffered response");
    };
    let status = answer["statusCode"].as_u64().unwrap() as u16;
    let body = serde_json::from_str(answer["body"].as_str().unwrap_or("null")).unwrap();
    (status, body)
}

/// A request for a dev token for alice, through API Gateway.
fn mint_event() -> Value {
    let body = json!({"username": "alice"});
    event(API, "POST", "/v1/auth/token", json!({}), Some(body))
}

/// A dev token and a new conversation, through API Gateway.
async fn conversation(app: &axum::Router) -> (String, String) {
    let mint = mint_event();
    let (status, minted) = buffered_json(app, &mint).await;
    assert_eq!(status, 200, "{minted}");
    let token = minted["token"].as_str().unwrap().to_owned();
    let create = event(
        API,
        "POST",
        "/v1/conversations",
        json!({"authorization": format!("Bearer {token}")}),
        Some(json!({"persona_request": "Sherlock Holmes"})),
    );
    let (status, created) = buffered_json(app, &create).await;
    assert_eq!(status, 201, "{created}");
    (token, created["id"].as_str().unwrap().to_owned())
}

/// A streamed message (`Accept: text/event-stream`) from `domain`.
fn send(domain: &str, token: &str, id: &str) -> Value {
    event(
        domain,
        "POST",
        &format!("/v1/conversations/{id}/messages"),
        json!({"authorization": format!("Bearer {token}"), "accept": "text/event-stream"}),
        Some(json!({"content": "What do you make of it?"})),
    )
}

/// The text of every `delta` event in `text`.
fn deltas(text: &str) -> Vec<String> {
    (support::parse_sse(text).into_iter())
        .filter(|(name, _)| name == "delta")
        .map(|(_, delta)| delta["text"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_function_url_gets_each_delta_as_its_own_chunk_while_the_model_writes() {
    let model = ScriptedChatModel::replying([REPLY]).with_chunk_delay(Duration::from_millis(40));
    let app = app(&model);
    let (token, id) = conversation(&app).await;

    let FunctionResponse::StreamingResponse(StreamResponse {
        metadata_prelude,
        mut stream,
    }) = invoke(&app, &send(URL, &token, &id)).await
    else {
        panic!("a function URL must get a streamed response");
    };
    assert_eq!(metadata_prelude.status_code, 200);
    let content_type = &metadata_prelude.headers["content-type"];
    assert!(
        content_type
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );

    // Every chunk as it arrives, with whether the model was still streaming then.
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.next().await {
        let text = String::from_utf8(chunk.unwrap().to_vec()).unwrap();
        chunks.push((text, model.live_streams() > 0));
    }
    let delta_chunks: Vec<&(String, bool)> = chunks
        .iter()
        .filter(|(text, _)| text.contains("event: delta"))
        .collect();
    let words = REPLY.split_inclusive(' ').count();
    assert_eq!(delta_chunks.len(), words, "one chunk per delta: {chunks:?}");
    for (text, _) in &delta_chunks {
        assert_eq!(deltas(text).len(), 1, "{text:?}");
    }
    assert!(
        delta_chunks[0].1,
        "the first delta must arrive before the model has finished: {chunks:?}"
    );
    let streamed: String = delta_chunks.iter().flat_map(|(t, _)| deltas(t)).collect();
    assert_eq!(streamed, REPLY);
    let (last, _) = chunks.last().unwrap();
    assert!(last.starts_with("event: done"), "{chunks:?}");
}

#[tokio::test]
async fn api_gateway_still_gets_the_stream_whole() {
    let model = ScriptedChatModel::replying([REPLY]).with_chunk_delay(Duration::from_millis(5));
    let app = app(&model);
    let (token, id) = conversation(&app).await;

    let FunctionResponse::BufferedResponse(answer) = invoke(&app, &send(API, &token, &id)).await
    else {
        panic!("API Gateway must get a buffered response");
    };
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert_eq!(
        model.live_streams(),
        0,
        "buffered means after the model ended"
    );
    let body = answer["body"].as_str().unwrap();
    assert_eq!(deltas(body).concat(), REPLY);
    assert!(body.contains("event: done"), "{body}");
}

#[tokio::test]
async fn json_replies_and_errors_stream_through_a_function_url_too() {
    let model = ScriptedChatModel::replying([REPLY]);
    let app = app(&model);
    let (token, id) = conversation(&app).await;

    let collect = |stream: ChunkStream| async move {
        let bytes: Vec<u8> = stream.map(|chunk| chunk.unwrap().to_vec()).concat().await;
        serde_json::from_slice::<Value>(&bytes).unwrap()
    };
    let auth = json!({"authorization": format!("Bearer {token}")});
    let get = event(URL, "GET", &format!("/v1/conversations/{id}"), auth, None);
    let FunctionResponse::StreamingResponse(read) = invoke(&app, &get).await else {
        panic!("a function URL must get a streamed response");
    };
    assert_eq!(read.metadata_prelude.status_code, 200);
    assert_eq!(collect(read.stream).await["id"], json!(id));

    // Link checks the token itself: nothing in front of a function URL does.
    let forged = json!({"authorization": "Bearer not-a-token"});
    let get = event(URL, "GET", "/v1/conversations", forged, None);
    let FunctionResponse::StreamingResponse(refused) = invoke(&app, &get).await else {
        panic!("a function URL must get a streamed response");
    };
    assert_eq!(refused.metadata_prelude.status_code, 401);
    assert_eq!(
        collect(refused.stream).await["error"]["code"],
        "unauthorized"
    );
}

#[test]
fn only_function_url_events_are_streamed() {
    let request = |domain: &str| {
        lambda_event(&event(domain, "GET", "/v1/conversations", json!({}), None)).payload
    };
    assert!(is_function_url(&request(URL)));
    assert!(!is_function_url(&request(API)));
    assert!(!is_function_url(&request("chat.example.com")));
}

/// The real binary under the real Lambda runtime client: `link-server --lambda` polls a
/// Runtime API (the protocol Lambda's service speaks to a custom runtime, served here on
/// 127.0.0.1) and posts each response to it, streamed (chunked, with the response-mode
/// header) or whole.
mod runtime {
    use std::collections::HashMap;
    use std::process::{Child, Command, Stdio};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    use axum::Router;
    use axum::body::{Body, Bytes};
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::{get, post};
    use futures::StreamExt;
    use serde_json::Value;
    use tokio::sync::mpsc;

    /// What the runtime posted for one invocation, as it arrived.
    #[derive(Debug)]
    pub enum Frame {
        /// The response began; `streaming` if it came in response-streaming mode.
        Head { streaming: bool },
        /// A piece of the body, and when it arrived.
        Data(Bytes, Instant),
        /// The function reported an error instead.
        Error(String),
    }

    #[derive(Default)]
    struct Shared {
        queue: tokio::sync::Mutex<Option<mpsc::UnboundedReceiver<(String, Value)>>>,
        answers: Mutex<HashMap<String, mpsc::UnboundedSender<Frame>>>,
    }

    /// The Runtime API and the function process polling it.
    pub struct Lambda {
        events: mpsc::UnboundedSender<(String, Value)>,
        shared: Arc<Shared>,
        child: Child,
        next_id: usize,
    }

    impl Drop for Lambda {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    async fn next(State(shared): State<Arc<Shared>>) -> Response {
        let mut queue = shared.queue.lock().await;
        let Some((id, event)) = queue.as_mut().unwrap().recv().await else {
            return StatusCode::GONE.into_response();
        };
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let deadline = (now + Duration::from_secs(60)).as_millis().to_string();
        let headers = [
            ("lambda-runtime-aws-request-id", id),
            ("lambda-runtime-deadline-ms", deadline),
            (
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:link".to_owned(),
            ),
            ("content-type", "application/json".to_owned()),
        ];
        (headers, event.to_string()).into_response()
    }

    async fn response(
        State(shared): State<Arc<Shared>>,
        Path(id): Path<String>,
        headers: HeaderMap,
        body: Body,
    ) -> StatusCode {
        let answer = shared.answers.lock().unwrap().remove(&id).unwrap();
        let mode = headers.get("lambda-runtime-function-response-mode");
        let streaming = mode.is_some_and(|m| m == "streaming");
        let _ = answer.send(Frame::Head { streaming });
        let mut body = body.into_data_stream();
        while let Some(Ok(data)) = body.next().await {
            let _ = answer.send(Frame::Data(data, Instant::now()));
        }
        StatusCode::ACCEPTED
    }

    async fn error(
        State(shared): State<Arc<Shared>>,
        Path(id): Path<String>,
        body: String,
    ) -> StatusCode {
        if let Some(answer) = shared.answers.lock().unwrap().remove(&id) {
            let _ = answer.send(Frame::Error(body));
        }
        StatusCode::ACCEPTED
    }

    impl Lambda {
        /// Serves the Runtime API and starts `link-server` in Lambda mode against it, with
        /// `env` (providers, auth) on top of what Lambda itself sets.
        pub async fn start(env: Vec<(&str, String)>) -> Self {
            let (events, queue) = mpsc::unbounded_channel();
            let shared = Arc::new(Shared::default());
            *shared.queue.lock().await = Some(queue);
            let api = Router::new()
                .route("/2018-06-01/runtime/invocation/next", get(next))
                .route(
                    "/2018-06-01/runtime/invocation/{id}/response",
                    post(response),
                )
                .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
                .with_state(shared.clone());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, api).await });
            let mut command = Command::new(env!("CARGO_BIN_EXE_link-server"));
            command
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("HOME", std::env::temp_dir())
                .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
                .env("AWS_LAMBDA_FUNCTION_NAME", "link")
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
                .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
                .env("LINK_LAMBDA", "true")
                .env("RUST_LOG", "error")
                .stdout(Stdio::null())
                .stderr(Stdio::inherit());
            for (name, value) in env {
                command.env(name, value);
            }
            let child = command.spawn().unwrap();
            Self {
                events,
                shared,
                child,
                next_id: 0,
            }
        }

        /// Hands `event` to the function; its response comes on the receiver.
        pub fn invoke(&mut self, event: &Value) -> mpsc::UnboundedReceiver<Frame> {
            self.next_id += 1;
            let id = format!("request-{}", self.next_id);
            let (answer, frames) = mpsc::unbounded_channel();
            self.shared
                .answers
                .lock()
                .unwrap()
                .insert(id.clone(), answer);
            self.events.send((id, event.clone())).unwrap();
            frames
        }
    }
}

/// Every frame of one response (until the function posted all of it), within a minute.
async fn frames(
    mut receiver: tokio::sync::mpsc::UnboundedReceiver<runtime::Frame>,
) -> (bool, Vec<(Vec<u8>, std::time::Instant)>) {
    let mut streaming = None;
    let mut data = Vec::new();
    let limit = Duration::from_secs(60);
    while let Ok(Some(frame)) = tokio::time::timeout(limit, receiver.recv()).await {
        match frame {
            runtime::Frame::Head { streaming: s } => streaming = Some(s),
            runtime::Frame::Data(bytes, at) => data.push((bytes.to_vec(), at)),
            runtime::Frame::Error(error) => panic!("the function failed: {error}"),
        }
    }
    (streaming.expect("no response"), data)
}

/// A whole (buffered) response's JSON.
async fn whole(lambda: &mut runtime::Lambda, event: &Value) -> Value {
    let (streaming, data) = frames(lambda.invoke(event)).await;
    assert!(!streaming, "API Gateway must get a buffered response");
    let bytes: Vec<u8> = data.into_iter().flat_map(|(bytes, _)| bytes).collect();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn the_lambda_binary_streams_a_reply_token_by_token_through_a_function_url() {
    use support::mock_openai::{self, GRADUAL_REPLY};

    let mock = mock_openai::MockOpenAi::setup().start().await;
    let (_dir, database) = support::temp_database();
    let mut lambda = runtime::Lambda::start(vec![
        ("LINK_AUTH", "dev".into()),
        ("LINK_DEV_SECRET", support::DEV_SECRET.into()),
        ("LINK_DATABASE", database.display().to_string()),
        // One instance with its own SQLite file is what this test wants (issue 19's check).
        ("LINK_ALLOW_INSTANCE_STORE", "1".into()),
        ("LINK_PERSONA_PROVIDER", "openai".into()),
        ("LINK_CHAT_PROVIDER", "openai".into()),
        ("OPENAI_BASE_URL", mock.base_url.clone()),
        ("OPENAI_API_KEY", mock_openai::KEY.into()),
    ])
    .await;

    let mint = mint_event();
    let minted = whole(&mut lambda, &mint).await;
    assert_eq!(minted["statusCode"], 200, "{minted}");
    let token: Value = serde_json::from_str(minted["body"].as_str().unwrap()).unwrap();
    let token = token["token"].as_str().unwrap();
    let auth = json!({"authorization": format!("Bearer {token}")});
    let create = event(
        API,
        "POST",
        "/v1/conversations",
        auth,
        Some(json!({"persona_request": "Sherlock Holmes"})),
    );
    let created = whole(&mut lambda, &create).await;
    assert_eq!(created["statusCode"], 201, "{created}");
    let created: Value = serde_json::from_str(created["body"].as_str().unwrap()).unwrap();
    let id = created["id"].as_str().unwrap();

    // Through the function URL: a prelude, eight NUL bytes, then the SSE events as written.
    let mut streamed = send(URL, token, id);
    let content = json!({"content": "Tell me gradually."}).to_string();
    streamed["body"] = json!(content);
    let (streaming, data) = frames(lambda.invoke(&streamed)).await;
    assert!(streaming, "a function URL must get a streamed response");
    let all: Vec<u8> = data.iter().flat_map(|(bytes, _)| bytes.clone()).collect();
    let split = all.windows(8).position(|w| w == [0; 8]).unwrap();
    let prelude: Value = serde_json::from_slice(&all[..split]).unwrap();
    assert_eq!(prelude["statusCode"], 200, "{prelude}");
    let content_type = prelude["headers"]["content-type"].as_str().unwrap();
    assert!(content_type.starts_with("text/event-stream"), "{prelude}");
    let body = String::from_utf8(all[split + 8..].to_vec()).unwrap();
    assert_eq!(deltas(&body).concat(), GRADUAL_REPLY);

    // The deltas came in many pieces, spread over the reply (the mock writes a word every
    // 60 ms: about 2.6 s), not all at its end.
    let arrivals: Vec<std::time::Instant> = (data.iter())
        .filter(|(bytes, _)| String::from_utf8_lossy(bytes).contains("event: delta"))
        .map(|(_, at)| *at)
        .collect();
    assert!(
        arrivals.len() >= 10,
        "{} pieces with deltas",
        arrivals.len()
    );
    let (first, last) = (arrivals[0], *arrivals.last().unwrap());
    assert!(
        last.duration_since(first) > Duration::from_secs(1),
        "deltas arrived within {:?}",
        last.duration_since(first)
    );

    // The same request through API Gateway: one whole response holding every event.
    let mut buffered = send(API, token, id);
    buffered["body"] = json!(content);
    let answer = whole(&mut lambda, &buffered).await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let body = answer["body"].as_str().unwrap();
    assert_eq!(deltas(body).concat(), GRADUAL_REPLY);
    assert!(body.contains("event: done"), "{body}");
}
