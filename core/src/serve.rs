//! A small HTTP/1 server for an axum app (feature `server`), with the limits a server on
//! a network needs: a request head must arrive whole within a timeout (which also closes
//! connections left idle between requests), request heads are bounded in size, and
//! connections are bounded in number. `axum::serve` has none of these, so one slow or
//! idle client could hold a listener that the whole scrape path depends on.
//!
//! ```text
//! let app = Router::new().layer(MetricsLayer::new(endpoint));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9090").await?;
//! gds_metrics::serve::serve(listener, app, ServerLimits::default(), shutdown).await;
//! ```

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How much one client may hold of the server.
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    /// Time a connection has to send a whole request head, counted from when the server
    /// starts waiting for it: a new connection, or one idle after an answer, that sends
    /// no complete head in time is closed.
    pub header_read_timeout: Duration,
    /// The most bytes buffered for one request head (request line and headers); a larger
    /// one is answered `431` and the connection closed. At least 8192 (hyper's minimum).
    pub max_header_bytes: usize,
    /// The most connections served at once; further clients wait in the listen backlog
    /// until one closes.
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 16 * 1024,
            max_connections: 1024,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, each connection in its own task
/// within `limits`. Connections already open finish their current request.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192));
    let service = TowerToHyperService::new(app);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => return,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // A failed accept (a client gone, descriptors exhausted) loses only that
                // client; back off briefly so an exhausted table is not spun on.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return,
        };
        let connection = http.serve_connection(TokioIo::new(stream), service.clone());
        tokio::spawn(async move {
            // A client that breaks the protocol or times out loses only its connection.
            let _ = connection.await;
            drop(permit);
        });
    }
}
