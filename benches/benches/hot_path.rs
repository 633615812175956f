//! Micro-benchmarks of Link's hot path that no crate's own benchmarks cover:
//!
//! - `prompt/{1,20,100}`: PromptBuilder + serde_json of the OpenAI Chat Completions body;
//! - `sse/openai_chunk`: eventsource-stream parse + JSON decode, per chunk;
//! - `engine/turn`: one whole turn through the engine (scripted model, MemoryStore);
//! - `limiter/{hot_key,10k_keys}`: one GovernorRateLimiter check;
//! - `jwt/es256_verify`: a Cognito-shaped ES256 token through CognitoAuthenticator.
//!
//! RS256 verification and the limiter over 1000 users are in `cargo bench -p link-auth`;
//! SQLite append of one message is in `cargo bench -p link-store`.
//! Run: `cargo bench -p link-benches --bench hot_path`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use link_auth::{CognitoAuthenticator, CognitoTokenUse, GovernorRateLimiter, RateLimitConfig};
use link_benches::keys::{CLIENT, EcKey, POOL, REGION, id_claims};
use link_core::testing::{ScriptedChatModel, ScriptedExtractor};
use link_core::{
    Authenticator, ChatRequest, Link, MemoryStore, Message, Persona, PersonaKind, PersonaSource,
    Principal, PromptBuilder, RateLimiter, RequestContext, Role,
};
use serde::{Deserialize, Serialize};

fn persona() -> Persona {
    Persona::new(
        "Ada Lovelace",
        PersonaKind::Historical,
        "A mathematician and writer, known for her work on Babbage's Analytical Engine.",
        "Good day. Shall we speak of engines and numbers?",
    )
}

fn history(len: usize) -> Vec<Message> {
    (0..len)
        .map(|i| {
            let role = if i % 2 == len % 2 { Role::Assistant } else { Role::User };
            Message::new(
                role,
                format!("Message {i}: tell me more about the Analytical Engine and what it could compute, please."),
            )
        })
        .collect()
}

/// The shape link-openai sends (its wire types are crate-private), field for field.
#[derive(Serialize)]
struct OpenAiBody<'a> {
    model: &'a str,
    messages: Vec<OpenAiMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    stream: bool,
}

#[derive(Serialize)]
struct OpenAiMessage<'a> {
    role: &'a str,
    content: &'a str,
}

fn openai_body(request: &ChatRequest) -> Vec<u8> {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    messages.push(OpenAiMessage {
        role: "system",
        content: &request.system,
    });
    messages.extend(request.messages.iter().map(|m| OpenAiMessage {
        role: m.role.as_str(),
        content: &m.content,
    }));
    let body = OpenAiBody {
        model: "gpt-4o-mini",
        messages,
        max_tokens: request.params.max_tokens,
        temperature: request.params.temperature,
        top_p: request.params.top_p,
        stream: true,
    };
    serde_json::to_vec(&body).unwrap()
}

fn prompt(c: &mut Criterion) {
    // A budget large enough that all 100 messages go out: the point is to serialise them.
    let builder = PromptBuilder::default().history_budget(1_000_000);
    let persona = persona();
    let mut group = c.benchmark_group("prompt");
    for len in [1, 20, 100] {
        let history = history(len);
        // A history that opens with the greeting gets a user turn put before it.
        assert!(builder.build(&persona, &history).messages.len() >= len);
        group.bench_with_input(BenchmarkId::from_parameter(len), &history, |b, history| {
            b.iter(|| openai_body(&builder.build(black_box(&persona), black_box(history))))
        });
    }
    group.finish();
}

#[derive(Deserialize)]
struct Chunk {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    delta: Delta,
}

#[derive(Deserialize)]
struct Delta {
    content: Option<String>,
}

fn sse(c: &mut Criterion) {
    const CHUNKS: usize = 100;
    let event = r#"data: {"id":"chatcmpl-AbC123","object":"chat.completion.chunk","created":1730000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"content":" engine"},"logprobs":null,"finish_reason":null}]}"#;
    // Network reads rarely align with events: feed the stream in 1 KiB pieces.
    let body = format!("{event}\n\n").repeat(CHUNKS);
    let pieces: Vec<Bytes> = body
        .as_bytes()
        .chunks(1024)
        .map(Bytes::copy_from_slice)
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("sse");
    group.throughput(Throughput::Elements(CHUNKS as u64));
    group.bench_function("openai_chunk", |b| {
        b.iter(|| {
            rt.block_on(async {
                use eventsource_stream::Eventsource;
                let stream = futures::stream::iter(
                    pieces
                        .iter()
                        .cloned()
                        .map(Ok::<_, std::convert::Infallible>),
                );
                let mut events = stream.eventsource();
                let mut text = 0;
                while let Some(event) = events.next().await {
                    let chunk: Chunk = serde_json::from_str(&event.unwrap().data).unwrap();
                    text += chunk.choices[0]
                        .delta
                        .content
                        .as_deref()
                        .map_or(0, str::len);
                }
                assert_eq!(text, 7 * CHUNKS);
            })
        })
    });
    group.finish();
}

fn engine(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let model = ScriptedChatModel::replying([
        "The Engine might act upon other things besides number, were objects found whose mutual relations could be expressed.",
    ]);
    let link = Link::builder()
        .extractor(Arc::new(ScriptedExtractor::returning(persona())))
        .chat_model(Arc::new(model))
        .store(Arc::new(MemoryStore::default()))
        .build()
        .unwrap();
    let ctx = RequestContext::new(Principal::new("bench-user"));
    c.bench_function("engine/turn", |b| {
        // A fresh conversation every 50 turns keeps the history (and memory) bounded.
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut spent = Duration::ZERO;
                let mut done = 0;
                while done < iters {
                    let detail = link
                        .create_conversation(&ctx, PersonaSource::Persona(Box::new(persona())))
                        .await
                        .unwrap();
                    let id = detail.conversation.id;
                    let batch = (iters - done).min(50);
                    let start = Instant::now();
                    for _ in 0..batch {
                        black_box(
                            link.send(&ctx, id, "What could the Engine compute?")
                                .await
                                .unwrap(),
                        );
                    }
                    spent += start.elapsed();
                    done += batch;
                    link.delete_conversation(&ctx, id).await.unwrap();
                }
                spent
            })
        })
    });
}

fn limiter(c: &mut Criterion) {
    let roomy = RateLimitConfig {
        requests: u32::MAX,
        period: Duration::from_secs(3600),
        burst: u32::MAX,
        ..RateLimitConfig::default()
    };
    let mut group = c.benchmark_group("limiter");
    let hot = GovernorRateLimiter::new(roomy).unwrap();
    let alice = Principal::new("alice");
    group.bench_function("hot_key", |b| {
        b.iter(|| black_box(hot.check(black_box(&alice))))
    });
    let wide = GovernorRateLimiter::new(roomy).unwrap();
    let users: Vec<Principal> = (0..10_000)
        .map(|i| Principal::new(format!("user-{i}")))
        .collect();
    for user in &users {
        let _ = wide.check(user);
    }
    let mut i = 0;
    group.bench_function("10k_keys", |b| {
        b.iter(|| {
            i = (i + 7919) % users.len(); // a prime stride: no two neighbours in a row
            black_box(wide.check(black_box(&users[i])))
        })
    });
    group.finish();
}

fn es256(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let key = EcKey::generate("bench-ec-1").unwrap();
    let jwks = serde_json::json!({"keys": [key.jwk()]});
    let auth = rt.block_on(async {
        let app = axum::Router::new().route(
            "/jwks.json",
            axum::routing::get(move || async move { axum::Json(jwks) }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let auth = CognitoAuthenticator::builder(REGION, POOL)
            .client_id(CLIENT)
            .token_use(CognitoTokenUse::Id)
            .jwks_url(url)
            .build()
            .unwrap();
        auth.refresh_keys().await.unwrap();
        auth
    });
    let token = key.token(&id_claims("bench-user", 3600)).unwrap();
    assert_eq!(
        rt.block_on(auth.authenticate(&token)).unwrap().sub,
        "bench-user"
    );
    c.bench_function("jwt/es256_verify", |b| {
        b.iter(|| rt.block_on(auth.authenticate(black_box(&token))).unwrap())
    });
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

criterion_group! { name = benches; config = config(); targets = prompt, sse, engine, limiter, es256 }
criterion_main!(benches);
