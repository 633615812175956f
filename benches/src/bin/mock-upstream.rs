//! `mock-upstream`: OpenAI Chat Completions, Bedrock Converse/ConverseStream (link-testkit's
//! mocks), a JWKS and a token minter on one loopback port, with timing knobs. Prints `listening on ADDR` once
//! ready (to stderr, through tracing) and writes the port to `--port-file` if given.
//!
//! ```text
//! mock-upstream --listen 127.0.0.1:0 --ttft-ms 50 --gap-ms 10 --chunks 40 --reply-bytes 800
//! curl 'http://127.0.0.1:PORT/token?sub=alice'     # an RS256 Cognito-shaped ID token
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use clap::Parser;
use link_benches::keys::RsaKey;
use link_benches::mock::{Knobs, Mock, router};

/// Mock upstream for Link's load harness.
#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on (loopback only).
    #[arg(long, env = "MOCK_LISTEN", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Milliseconds before the first byte of a reply.
    #[arg(long, env = "MOCK_TTFT_MS", default_value_t = 0)]
    ttft_ms: u64,
    /// Milliseconds between streamed chunks.
    #[arg(long, env = "MOCK_GAP_MS", default_value_t = 0)]
    gap_ms: u64,
    /// Text chunks per streamed reply.
    #[arg(long, env = "MOCK_CHUNKS", default_value_t = 20)]
    chunks: usize,
    /// Bytes of reply text.
    #[arg(long, env = "MOCK_REPLY_BYTES", default_value_t = 400)]
    reply_bytes: usize,
    /// Write the bound port here once listening.
    #[arg(long)]
    port_file: Option<PathBuf>,
    /// Worker threads (default: Tokio's, one per core).
    #[arg(long, env = "MOCK_THREADS")]
    threads: Option<usize>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if !args.listen.ip().is_loopback() {
        return Err("mock-upstream listens on loopback only".into());
    }
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.threads {
        runtime.worker_threads(threads.max(1));
    }
    runtime.enable_all().build()?.block_on(serve(args))
}

async fn serve(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let knobs = Knobs {
        ttft: Duration::from_millis(args.ttft_ms),
        gap: Duration::from_millis(args.gap_ms),
        chunks: args.chunks.max(1),
        reply_bytes: args.reply_bytes,
    };
    let mock = Arc::new(Mock::new(knobs, RsaKey::generate("bench-key-1")?));
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    if let Some(path) = &args.port_file {
        std::fs::write(path, addr.port().to_string())?;
    }
    tracing::info!(%addr, ?knobs, "listening on {addr}");
    // Like a real provider's front end: small SSE writes go out at once.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router(mock))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
