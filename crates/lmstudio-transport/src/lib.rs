//! A bounded HTTP/1.1 client on hyper for OpenAI-compatible servers: JSON calls and SSE.
//!
//! This crate knows HTTP, JSON and server-sent events, and nothing of any server's policy.
//!
//! - [`Endpoint`]: a server URL parsed once and normalised to a root (`/v1` and trailing
//!   slashes removed), from which `/v1/...`, `/api/v0/...` paths are built.
//! - [`Client`]: a pooled keep-alive HTTP/1.1 client (hyper-util), cheap to clone. `localhost`
//!   connects to `127.0.0.1` first; a refused connection fails at once with
//!   [`Error::ConnectRefused`]. The bearer token is sent as a sensitive header and never
//!   shown in `Debug` output, errors or logs.
//! - [`Pool`]: keep-alive connections shared by clients (one hyper pool per Tokio runtime),
//!   so clients with different tokens or limits for one server reuse warm connections.
//! - [`Limits`]: connect time, time to response headers, idle time between stream frames, a
//!   total deadline for non-streaming calls, the body size and the SSE event size.
//! - Calls: [`RequestBuilder::send_json`] checks the status *and* the body's `error`
//!   envelope (servers answer some errors with HTTP 200); [`RequestBuilder::send_events`]
//!   and [`RequestBuilder::send_json_stream`] stream server-sent events.
//! - [`sse::SseDecoder`]: the pure SSE decoder the streams use.
//!
//! A GET that fails on a stale pooled connection before any response byte is retried once;
//! a POST is never re-sent. Each request runs in a `debug` tracing span (method, path) with
//! debug events for status and elapsed time; tokens and bodies are never logged.
//!
//! ```no_run
//! # async fn demo() -> Result<(), lmstudio_transport::Error> {
//! use lmstudio_transport::{Client, Endpoint};
//!
//! let endpoint = Endpoint::parse("http://localhost:1234/v1")?;
//! let client = Client::builder(endpoint).bearer_token(None).build()?;
//! let models: serde_json::Value = client.get_json("/v1/models").await?;
//! # let _ = models;
//! # Ok(())
//! # }
//! ```

mod body;
mod client;
mod connect;
mod endpoint;
mod error;
mod event_stream;
mod limits;
mod pool;
mod request;
pub mod sse;
mod stream;
mod text;

pub use client::{Client, ClientBuilder};
pub use endpoint::{Endpoint, EndpointError};
pub use error::{BoxError, EXCERPT_CHARS, Error};
pub use event_stream::{DecodeError, EventDecoder, EventStream, JsonStream, JsonUntilDone, Step};
/// Re-exported so callers can name [`http::StatusCode`] and header types without another
/// dependency.
pub use http;
pub use limits::Limits;
pub use pool::{POOL_IDLE_TIMEOUT, Pool};
pub use request::{RawResponse, RequestBuilder};
pub use sse::SseEvent;
pub use stream::SseStream;

#[cfg(test)]
mod tests {
    fn send_sync_static<T: Send + Sync + 'static>() {}
    fn send_static<T: Send + 'static>() {}

    #[test]
    fn public_types_cross_threads() {
        send_sync_static::<crate::Client>();
        send_sync_static::<crate::Pool>();
        send_sync_static::<crate::Error>();
        send_sync_static::<crate::Endpoint>();
        send_sync_static::<crate::RawResponse>();
        send_sync_static::<crate::sse::SseDecoder>();
        send_static::<crate::RequestBuilder>();
        send_static::<crate::SseStream>();
        send_static::<crate::JsonStream<serde_json::Value>>();
    }
}

// The crate's README examples compile as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadmeExamples;
