//! The Lambda runtime's view of the handler: one invocation service for both callers of the
//! reference deployment. A function URL (invoke mode `RESPONSE_STREAM`) gets the response as
//! a stream (each SSE `delta` its own chunk, sent while the model is still writing); API
//! Gateway gets it buffered, whole.
#![cfg(feature = "lambda")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use lambda_http::lambda_runtime::{FunctionResponse, StreamResponse};
use lambda_http::request::LambdaRequest;
use lambda_http::{Context, LambdaEvent};
use link::Link;
use link::testing::{ScriptedChatModel, ScriptedExtractor};
use link_auth::DevAuthenticator;
use link_server::lambda::{ChunkStream, invocations, is_function_url};
use link_server::state::{AppState, DevTokens};
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
    let dev = Arc::new(DevAuthenticator::random());
    let state = AppState {
        link,
        auth: dev.clone(),
        dev: Some(DevTokens {
            authenticator: dev,
            lifetime: Duration::from_secs(3600),
        }),
        per_ip: None,
        accounts: None,
    };
    let options = HttpOptions {
        max_body_bytes: 65536,
        ..HttpOptions::default()
    };
    router(state, &options)
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

/// A dev token and a new conversation, through API Gateway.
async fn conversation(app: &axum::Router) -> (String, String) {
    let mint = event(
        API,
        "POST",
        "/v1/auth/token",
        json!({}),
        Some(json!({"username": "alice"})),
    );
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

/// The `data` of every `delta` event in `text`.
fn deltas(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter(|event| event.starts_with("event: delta"))
        .map(|event| {
            let data = event
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap();
            let delta: Value = serde_json::from_str(data).unwrap();
            delta["text"].as_str().unwrap().to_owned()
        })
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
