//! `GET /metrics` of the real `link-server` binary after a known sequence of requests, read
//! with the Prometheus Python client's text parser (the reference one): every metric is
//! there, the counts are the sequence's, and no label holds a user, a token, an id or text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use link_telemetry::METRIC_NAMES;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::mock_openai::{Fault, KEY, PROMPT_TOKENS, REPLY, completion_tokens};
use support::{DEV_SECRET, Stack, parse_sse};

/// One sample as the parser gave it.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The metrics text parsed by `prometheus_client.parser`: family names and types, samples.
fn parse(text: &str) -> (Vec<(String, String)>, Vec<Sample>) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/parse_metrics.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (scripts/setup.d/20-moto.sh installs prometheus-client)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the parser refused:\n{stderr}\n{text}"
    );
    let parsed: Value = serde_json::from_slice(&output.stdout).unwrap();
    let families = (parsed["families"].as_array().unwrap().iter())
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_owned(),
                f["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let samples = (parsed["samples"].as_array().unwrap().iter())
        .map(|s| Sample {
            name: s["name"].as_str().unwrap().to_owned(),
            labels: serde_json::from_value(s["labels"].clone()).unwrap(),
            value: s["value"].as_f64().unwrap(),
        })
        .collect();
    (families, samples)
}

/// The samples `name` whose labels include `labels`.
fn matching<'a>(
    samples: &'a [Sample],
    name: &'a str,
    labels: &'a [(&str, &str)],
) -> impl Iterator<Item = &'a Sample> {
    samples.iter().filter(move |s| {
        s.name == name
            && (labels.iter()).all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
    })
}

/// The value of the one sample `name` whose labels include `labels` (0 when there is none).
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<&Sample> = matching(samples, name, labels).collect();
    assert!(
        found.len() <= 1,
        "{name} {labels:?} is not one series: {found:#?}"
    );
    found.first().map_or(0.0, |s| s.value)
}

/// The sum of the samples `name` whose labels include `labels`.
fn sum(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    matching(samples, name, labels).map(|s| s.value).sum()
}

/// The metrics address the server logged.
async fn metrics_url(stack: &Stack) -> String {
    let line = (stack.server)
        .wait_for_log(|l| l.contains("serving metrics at "))
        .await;
    let address = line.split("serving metrics at ").nth(1).unwrap();
    address.split_whitespace().next().unwrap().to_owned()
}

#[tokio::test]
async fn metrics_count_a_known_sequence_and_label_nobody() {
    let s = Stack::start(vec![
        ("LINK_METRICS_LISTEN", "127.0.0.1:0".into()),
        // Requests are weighed: the extraction costs 4, each of the four sends 2, each read 1,
        // so the eight requests below take 15 and the ninth is denied.
        ("LINK_RATE_LIMIT_PER_MINUTE", "15".into()),
        ("LINK_PRICES", "gpt-4o-mini=0.15/0.60".into()),
    ])
    .await;
    let client = Client::new();
    let url = &s.server.url;
    let token = s.server.token("alice").await;
    let get = |path: &str| {
        client
            .get(format!("{url}{path}"))
            .bearer_auth(&token)
            .send()
    };

    // 1: a conversation (a persona extraction), then 2: a whole reply and 3: a streamed one.
    let id = s.server.conversation(&token, "Sherlock Holmes").await;
    let messages = format!("{url}/v1/conversations/{id}/messages");
    let whole = client
        .post(&messages)
        .bearer_auth(&token)
        .json(&json!({"content": "Hello"}));
    assert_eq!(whole.send().await.unwrap().status(), StatusCode::OK);
    let streamed = s
        .server
        .send_streamed(&token, &id, "Tell me more", "stream-1")
        .await;
    let events = parse_sse(&streamed.text().await.unwrap());
    assert_eq!(events.last().unwrap().0, "done", "{events:?}");
    // 4: the content filter stops a streamed reply.
    let filtered = format!("tell me about a {}", Fault::ContentFilter.trigger());
    let response = s
        .server
        .send_streamed(&token, &id, &filtered, "filtered-1")
        .await;
    let events = parse_sse(&response.text().await.unwrap());
    assert_eq!(
        events.last().unwrap().1["code"],
        "content_filtered",
        "{events:?}"
    );
    // 5: the upstream is overloaded: two retries, then 503.
    let overloaded = Fault::Overloaded { retry_after_ms: 10 }.trigger();
    let overloaded = json!({"content": format!("you are {overloaded}")});
    let response = client
        .post(&messages)
        .bearer_auth(&token)
        .json(&overloaded)
        .send()
        .await;
    assert_eq!(response.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);
    // 6: a conversation that does not exist; 7, 8: two lists; 9: over the limit of 15.
    let missing = format!("/v1/conversations/{}", uuid_like());
    assert_eq!(get(&missing).await.unwrap().status(), StatusCode::NOT_FOUND);
    for _ in 0..2 {
        assert_eq!(
            get("/v1/conversations").await.unwrap().status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        get("/v1/conversations").await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Without a token, and on no route at all.
    let anonymous = client
        .get(format!("{url}/v1/conversations"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let nowhere = client
        .get(format!("{url}/v1/nowhere/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(nowhere.status(), StatusCode::NOT_FOUND);

    let scrape = client.get(metrics_url(&s).await).send().await.unwrap();
    assert_eq!(scrape.status(), StatusCode::OK);
    let content_type = scrape.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = scrape.text().await.unwrap();
    let (families, samples) = parse(&text);

    // Every documented metric, under its documented name.
    for name in METRIC_NAMES {
        let family = name.strip_suffix("_total").unwrap_or(name);
        assert!(
            families.iter().any(|(f, _)| f == family),
            "{name} missing:\n{text}"
        );
    }

    // HTTP, by route template and status.
    let http = |method: &str, route: &str, status: &str| {
        let labels = [("method", method), ("route", route), ("status", status)];
        value(&samples, "link_http_requests_total", &labels)
    };
    let send_route = "/v1/conversations/{id}/messages";
    assert_eq!(http("POST", "/v1/auth/token", "200"), 1.0);
    assert_eq!(http("POST", "/v1/conversations", "201"), 1.0);
    assert_eq!(http("POST", send_route, "200"), 3.0);
    assert_eq!(http("POST", send_route, "503"), 1.0);
    assert_eq!(http("GET", "/v1/conversations/{id}", "404"), 1.0);
    assert_eq!(http("GET", "/v1/conversations", "200"), 2.0);
    assert_eq!(http("GET", "/v1/conversations", "429"), 1.0);
    assert_eq!(http("GET", "/v1/conversations", "401"), 1.0);
    assert_eq!(http("GET", "unmatched", "404"), 1.0);
    let timed = [("method", "POST"), ("route", send_route)];
    assert_eq!(
        value(&samples, "link_http_request_duration_seconds_count", &timed),
        4.0
    );

    // Model calls by outcome, tokens as the mock bills them, and their cost.
    let chat = [
        ("operation", "chat"),
        ("provider", "openai"),
        ("model", "gpt-4o-mini"),
    ];
    let outcome = |operation: &str, outcome: &str| {
        let labels = [("operation", operation), ("outcome", outcome)];
        value(&samples, "link_model_requests_total", &labels)
    };
    assert_eq!(outcome("extract_persona", "ok"), 1.0);
    assert_eq!(outcome("chat", "ok"), 2.0);
    assert_eq!(outcome("chat", "content_filtered"), 1.0);
    assert_eq!(outcome("chat", "upstream_error"), 1.0);
    assert_eq!(sum(&samples, "link_model_requests_in_flight", &[]), 0.0);
    let tokens = |token_type: &str| {
        let labels = [chat[0], chat[1], chat[2], ("token_type", token_type)];
        value(&samples, "link_model_tokens_total", &labels)
    };
    // Three replies billed (whole, streamed, filtered); the filtered one is cut short.
    assert_eq!(tokens("input"), 3.0 * PROMPT_TOKENS as f64);
    let output = tokens("output");
    let whole_replies = 2.0 * completion_tokens(REPLY) as f64;
    assert!(
        output > whole_replies && output < 3.0 * completion_tokens(REPLY) as f64,
        "{output}"
    );
    let cost = value(&samples, "link_model_cost_usd_total", &chat);
    let expected = (tokens("input") * 0.15 + output * 0.60) / 1e6;
    assert!((cost - expected).abs() < 1e-12, "{cost} against {expected}");
    assert_eq!(
        value(
            &samples,
            "link_model_time_to_first_token_seconds_count",
            &chat
        ),
        2.0
    );
    assert!(value(&samples, "link_model_chunk_gap_seconds_count", &chat) >= 2.0);
    assert_eq!(
        value(
            &samples,
            "link_model_retries_total",
            &[("provider", "openai")]
        ),
        2.0
    );
    let filtered = [("kind", "content_filtered")];
    assert_eq!(
        value(&samples, "link_guardrail_interventions_total", &filtered),
        1.0
    );

    // The limiters, the token checks and the store.
    let decision = |scope: &str, decision: &str| {
        let labels = [("scope", scope), ("decision", decision)];
        value(&samples, "link_rate_limit_decisions_total", &labels)
    };
    assert_eq!(
        (decision("user", "allowed"), decision("user", "denied")),
        (8.0, 1.0)
    );
    assert_eq!(decision("ip", "allowed"), 1.0);
    assert_eq!(
        value(&samples, "link_auth_checks_total", &[("outcome", "ok")]),
        9.0
    );
    let store = |operation: &str| {
        let labels = [("store", "sqlite"), ("operation", operation)];
        sum(
            &samples,
            "link_store_operation_duration_seconds_count",
            &labels,
        )
    };
    assert_eq!(store("create"), 1.0);
    assert_eq!(store("list"), 2.0);
    // A turn reads what it needs in one store call and is committed as a splice (the user
    // message and the reply, or an interrupted one).
    assert!(store("turn_state") >= 2.0 && store("splice") >= 2.0);

    // No label value is a user, a token, an id or anything anyone wrote.
    let forbidden = [
        "alice",
        &token,
        KEY,
        DEV_SECRET,
        &id,
        "stream-1",
        "filtered-1",
        "Sherlock",
        "Hello",
        "Tell me more",
        "forbidden topic",
        "nowhere",
    ];
    for sample in &samples {
        for value in sample.labels.values() {
            for secret in forbidden {
                assert!(!value.contains(secret), "{secret:?} in {sample:?}");
            }
        }
    }
    let routes: Vec<&str> = (samples.iter())
        .filter_map(|s| s.labels.get("route").map(String::as_str))
        .collect();
    assert!(
        routes
            .iter()
            .all(|r| r.starts_with('/') || *r == "unmatched"),
        "{routes:?}"
    );
}

#[tokio::test]
async fn without_a_metrics_address_nothing_is_served() {
    let s = Stack::start(vec![]).await;
    let logs = s.server.logs().join("\n");
    assert!(!logs.contains("serving metrics"), "{logs}");
    // The public listener has no /metrics either.
    let response = Client::new()
        .get(format!("{}/metrics", s.server.url))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

/// A well-formed conversation id that no conversation has.
fn uuid_like() -> String {
    "0191b5a0-0000-7000-8000-000000000000".to_owned()
}
