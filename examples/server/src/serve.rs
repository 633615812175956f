//! Serving on a socket: HTTP/1.1 connections with a header-read timeout, a cap on open
//! connections, and a graceful shutdown (on SIGINT or SIGTERM the server stops accepting,
//! lets in-flight requests and streams finish for a grace period, then exits).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::Service;

/// How connections are served.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// How long in-flight requests get to finish after a shutdown signal.
    pub grace: Duration,
    /// How long a client has to send a request's headers. The same timer runs while a
    /// keep-alive connection waits for its next request, so it is also the idle timeout.
    pub header_read_timeout: Duration,
    /// Most connections open at once; more wait in the kernel's accept backlog.
    pub max_connections: usize,
}

/// Serves `app` on `listener` until a shutdown signal, plus at most `options.grace` for the
/// requests still running then.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: &ServeOptions,
) -> std::io::Result<()> {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let signal = shutdown_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            () = &mut signal => break,
            accepted = accept(&listener, &slots) => {
                let (tcp, remote, slot) = accepted;
                serve_connection(&http, &graceful, &app, tcp, remote, slot).await;
            }
        }
    }
    drop(listener);
    tracing::info!(
        grace_secs = options.grace.as_secs(),
        "shutting down: finishing in-flight requests"
    );
    if tokio::time::timeout(options.grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("grace period over: closing the connections still open");
    }
    Ok(())
}

/// The next connection, once there is room for it. Until then the listener is not polled,
/// so further clients wait in the kernel's accept backlog instead of holding a descriptor.
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> (TcpStream, SocketAddr, OwnedSemaphorePermit) {
    let Ok(slot) = slots.clone().acquire_owned().await else {
        // The semaphore is never closed.
        return std::future::pending().await;
    };
    loop {
        match listener.accept().await {
            Ok((tcp, remote)) => return (tcp, remote, slot),
            Err(error) => {
                // Out of descriptors (or a connection reset before accept): back off
                // instead of spinning on an error that repeats at once.
                tracing::warn!(%error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Serves one connection on its own task; its slot is released when it closes.
async fn serve_connection(
    http: &http1::Builder,
    graceful: &GracefulShutdown,
    app: &Router,
    tcp: TcpStream,
    remote: SocketAddr,
    slot: OwnedSemaphorePermit,
) {
    // A streamed reply is many small writes: with Nagle's algorithm on, the second one waits
    // for the client's delayed ACK, which added 40 ms to the first token of every stream.
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!(%error, "cannot set TCP_NODELAY on a connection");
    }
    let mut make = app
        .clone()
        .into_make_service_with_connect_info::<SocketAddr>();
    // Ready at once: it only adds the peer address to every request (`ConnectInfo`).
    let Ok(service) = make.call(remote).await;
    let connection = http.serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service));
    let connection = graceful.watch(connection);
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "connection ended with an error");
        }
        drop(slot);
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
