//! `sse-load`: N concurrent streamed requests against one URL; measures time to first chunk,
//! the gaps between chunks, and chunks lost against the number expected. Prints one JSON
//! object (stdout) with the summaries, in microseconds.
//!
//! ```text
//! SSE_LOAD_BEARER=$TOKEN sse-load --url http://127.0.0.1:8080/v1/conversations/ID/messages \
//!     --format link --body '{"content":"hi"}' --concurrency 64 --expect-chunks 20
//! ```
#![allow(clippy::print_stdout)] // the report is the program's output

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use eventsource_stream::Eventsource;
use futures::StreamExt;
use link_benches::stats::{Summary, summarize};
use serde::Serialize;
use serde_json::Value;

/// What counts as a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// OpenAI chunks with non-empty `choices[0].delta.content` (direct to the mock).
    Openai,
    /// `event: delta` events (link-server and the baseline).
    Link,
}

/// SSE load client.
#[derive(Debug, Parser)]
struct Args {
    /// Where to POST.
    #[arg(long)]
    url: String,
    /// The JSON body to POST.
    #[arg(long)]
    body: String,
    /// What counts as a chunk.
    #[arg(long, value_enum)]
    format: Format,
    /// Streams open at once.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Streams each concurrent client opens one after the other.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Chunks each stream should carry (0: do not count lost chunks).
    #[arg(long, default_value_t = 0)]
    expect_chunks: usize,
    /// Seconds one stream may take before it counts as failed.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
}

/// What one stream saw.
#[derive(Debug, Default)]
struct StreamResult {
    ttft_us: Option<f64>,
    gaps_us: Vec<f64>,
    chunks: usize,
    error: Option<String>,
}

/// The report.
#[derive(Debug, Serialize)]
struct Report {
    url: String,
    concurrency: usize,
    streams: usize,
    failed_streams: usize,
    expected_chunks_per_stream: usize,
    chunks: usize,
    lost_chunks: usize,
    wall_secs: f64,
    ttft: Summary,
    chunk_gap: Summary,
    first_errors: Vec<String>,
}

fn is_chunk(format: Format, event: &eventsource_stream::Event) -> bool {
    match format {
        Format::Link => event.event == "delta",
        Format::Openai => serde_json::from_str::<Value>(&event.data)
            .ok()
            .and_then(|v| {
                v["choices"][0]["delta"]["content"]
                    .as_str()
                    .map(|s| !s.is_empty())
            })
            .unwrap_or(false),
    }
}

async fn one_stream(client: &reqwest::Client, args: &Args, bearer: Option<&str>) -> StreamResult {
    let mut result = StreamResult::default();
    let mut request = client
        .post(&args.url)
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .body(args.body.clone());
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let start = Instant::now();
    let response = match request.send().await {
        Ok(r) if r.status().is_success() => r,
        Ok(r) => {
            result.error = Some(format!("status {}", r.status()));
            return result;
        }
        Err(e) => {
            result.error = Some(format!("request: {e}"));
            return result;
        }
    };
    let mut events = response.bytes_stream().eventsource();
    let mut last = start;
    while let Some(event) = events.next().await {
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                result.error = Some(format!("stream: {e}"));
                break;
            }
        };
        if event.event == "error" {
            result.error = Some(format!("error event: {}", event.data));
            break;
        }
        if !is_chunk(args.format, &event) {
            continue;
        }
        let now = Instant::now();
        let since = (now - last).as_secs_f64() * 1e6;
        if result.ttft_us.is_none() {
            result.ttft_us = Some(since);
        } else {
            result.gaps_us.push(since);
        }
        last = now;
        result.chunks += 1;
    }
    result
}

async fn client_task(
    client: reqwest::Client,
    args: Arc<Args>,
    bearer: Option<Arc<str>>,
) -> Vec<StreamResult> {
    let mut results = Vec::with_capacity(args.rounds);
    for _ in 0..args.rounds {
        let limit = Duration::from_secs(args.timeout_secs);
        let result = tokio::time::timeout(limit, one_stream(&client, &args, bearer.as_deref()))
            .await
            .unwrap_or_else(|_| StreamResult {
                error: Some("timed out".into()),
                ..StreamResult::default()
            });
        results.push(result);
    }
    results
}

fn report(args: &Args, results: Vec<StreamResult>, wall: Duration) -> Report {
    let streams = results.len();
    let mut ttfts: Vec<f64> = results.iter().filter_map(|r| r.ttft_us).collect();
    let mut gaps: Vec<f64> = results
        .iter()
        .flat_map(|r| r.gaps_us.iter().copied())
        .collect();
    let chunks: usize = results.iter().map(|r| r.chunks).sum();
    let lost = if args.expect_chunks == 0 {
        0
    } else {
        results
            .iter()
            .map(|r| args.expect_chunks.saturating_sub(r.chunks))
            .sum()
    };
    let errors: Vec<String> = results.iter().filter_map(|r| r.error.clone()).collect();
    Report {
        url: args.url.clone(),
        concurrency: args.concurrency,
        streams,
        failed_streams: errors.len(),
        expected_chunks_per_stream: args.expect_chunks,
        chunks,
        lost_chunks: lost,
        wall_secs: wall.as_secs_f64(),
        ttft: summarize(&mut ttfts),
        chunk_gap: summarize(&mut gaps),
        first_errors: errors.into_iter().take(5).collect(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Arc::new(Args::parse());
    let host = reqwest::Url::parse(&args.url)?;
    if !host
        .host_str()
        .is_some_and(|h| h == "127.0.0.1" || h == "localhost")
    {
        return Err("sse-load only targets loopback".into());
    }
    // The token comes from the environment, not a flag, so it stays out of process lists.
    let bearer: Option<Arc<str>> = std::env::var("SSE_LOAD_BEARER").ok().map(Into::into);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let start = Instant::now();
    let tasks: Vec<_> = (0..args.concurrency.max(1))
        .map(|_| tokio::spawn(client_task(client.clone(), args.clone(), bearer.clone())))
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.extend(task.await?);
    }
    let report = report(&args, results, start.elapsed());
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
