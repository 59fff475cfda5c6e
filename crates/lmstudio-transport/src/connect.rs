//! The TCP connector: hyper-util's `HttpConnector` with a whole-connect time limit set per
//! request, and a `localhost` that tries IPv4 first.
//!
//! Clients with different connect limits share one pool, so the limit cannot live in the
//! connector. Each request runs inside [`with_connect_limit`], and the connector reads the
//! limit when hyper asks it for a connection (hyper-util does so synchronously while the
//! request future is polled, so the task-local value is in scope).
//!
//! LM Studio binds IPv4 `127.0.0.1` only, while `localhost` often resolves to `::1` first; on
//! some systems (Windows notably) a refused IPv6 attempt costs seconds before the IPv4 one.
//! So `localhost` connects to `127.0.0.1` directly, and tries `[::1]` only when IPv4 is
//! refused (for servers that bind IPv6 loopback only). Other names use the system resolver
//! with happy eyeballs.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

use crate::error::ConnectTimedOut;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Happy-eyeballs delay before trying the other address family (RFC 6555 suggests 300 ms).
const HAPPY_EYEBALLS: Duration = Duration::from_millis(300);

tokio::task_local! {
    /// The connect limit of the request being polled.
    static CONNECT_LIMIT: Duration;
}

/// Runs `future` (one request) with `limit` as its connect limit.
pub(crate) async fn with_connect_limit<F: Future>(limit: Duration, future: F) -> F::Output {
    CONNECT_LIMIT.scope(limit, future).await
}

/// The limit of the request in scope; the default outside one (a background connect hyper
/// started for a request that then got a pooled connection keeps the limit it started with).
fn current_limit() -> Duration {
    CONNECT_LIMIT
        .try_with(|limit| *limit)
        .unwrap_or(crate::Limits::DEFAULT_CONNECT)
}

/// The connector the pooled client uses.
#[derive(Clone, Debug)]
pub(crate) struct Connector {
    http: HttpConnector,
}

impl Connector {
    pub(crate) fn new() -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(true);
        http.set_nodelay(true);
        http.set_happy_eyeballs_timeout(Some(HAPPY_EYEBALLS));
        Self { http }
    }
}

impl Service<Uri> for Connector {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let mut http = self.http.clone();
        let limit = current_limit();
        http.set_connect_timeout(Some(limit));
        Box::pin(async move {
            match tokio::time::timeout(limit, connect(http, uri)).await {
                Ok(result) => result,
                Err(_) => Err(Box::new(ConnectTimedOut) as BoxError),
            }
        })
    }
}

async fn connect(mut http: HttpConnector, uri: Uri) -> Result<TokioIo<TcpStream>, BoxError> {
    let is_localhost = uri
        .host()
        .is_some_and(|h| h.eq_ignore_ascii_case("localhost"));
    if !is_localhost {
        return call(&mut http, uri).await;
    }
    let v4 = with_host(&uri, "127.0.0.1")?;
    match call(&mut http, v4).await {
        Ok(io) => Ok(io),
        Err(refused) if is_refused(&*refused) => {
            let v6 = with_host(&uri, "[::1]")?;
            match call(&mut http, v6).await {
                Ok(io) => Ok(io),
                // Report the IPv4 refusal: it is what a stopped server looks like.
                Err(_) => Err(refused),
            }
        }
        Err(other) => Err(other),
    }
}

async fn call(http: &mut HttpConnector, uri: Uri) -> Result<TokioIo<TcpStream>, BoxError> {
    std::future::poll_fn(|cx| http.poll_ready(cx)).await?;
    Ok(http.call(uri).await?)
}

fn with_host(uri: &Uri, host: &str) -> Result<Uri, BoxError> {
    let authority = match uri.port_u16() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.authority = Some(authority.parse()?);
    Ok(Uri::from_parts(parts)?)
}

fn is_refused(error: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(error), |e| e.source()).any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
    })
}
