//! The transport error type, and how hyper errors and bad responses map onto it.

use std::error::Error as StdError;
use std::fmt::Write as _;
use std::io;
use std::time::Duration;

use http::StatusCode;
use lmstudio_proto::error::ErrorEnvelope;

use crate::endpoint::EndpointError;
use crate::text::excerpt;

/// Longest body excerpt (in characters) kept in an error.
pub const EXCERPT_CHARS: usize = 256;

/// The cause of an error, kept for [`std::error::Error::source`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Everything that can go wrong talking to a server.
///
/// Messages never contain the bearer token. Variants carry the full request URL so a log line
/// says which call failed.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server URL could not be parsed.
    #[error("invalid server URL: {0}")]
    InvalidEndpoint(#[from] EndpointError),

    /// Nothing listens on the port: the connection was refused.
    #[error("connection refused by {url}")]
    ConnectRefused {
        /// The URL requested.
        url: String,
        /// The connector's error.
        #[source]
        source: Option<BoxError>,
    },

    /// Resolving the host and opening the TCP connection took longer than the connect limit.
    #[error("timed out after {limit:?} connecting to {url}")]
    ConnectTimeout {
        /// The URL requested.
        url: String,
        /// The connect limit in force.
        limit: Duration,
    },

    /// Any other failure to connect: DNS failure, network unreachable, ...
    #[error("could not connect to {url}: {message}")]
    Connect {
        /// The URL requested.
        url: String,
        /// What the operating system or resolver said.
        message: String,
        /// The connector's error.
        #[source]
        source: Option<BoxError>,
    },

    /// The server accepted the request but sent no response headers in time.
    #[error("{method} {url}: no response headers within {limit:?}")]
    ResponseHeadersTimeout {
        /// The HTTP method.
        method: String,
        /// The URL requested.
        url: String,
        /// The response-headers limit in force.
        limit: Duration,
    },

    /// A streamed body went silent for longer than the idle limit.
    #[error("{url}: the stream was idle for more than {limit:?}")]
    IdleTimeout {
        /// The URL requested.
        url: String,
        /// The idle limit in force.
        limit: Duration,
    },

    /// A non-streaming call (headers and body) did not finish within its deadline.
    #[error("{method} {url}: no complete response within {limit:?}")]
    DeadlineExceeded {
        /// The HTTP method.
        method: String,
        /// The URL requested.
        url: String,
        /// The deadline in force.
        limit: Duration,
    },

    /// The response body is larger than the body limit (declared or counted).
    #[error("{url}: response body exceeds the limit of {limit} bytes{}", declared_suffix(*.declared))]
    BodyTooLarge {
        /// The URL requested.
        url: String,
        /// The body limit in force.
        limit: usize,
        /// The `Content-Length` the server declared, if any.
        declared: Option<u64>,
    },

    /// One SSE line or event is larger than the event limit.
    #[error("{url}: a server-sent event exceeds the limit of {limit} bytes")]
    SseEventTooLarge {
        /// The URL requested.
        url: String,
        /// The event limit in force.
        limit: usize,
    },

    /// The body is not the JSON expected.
    #[error("{url} (HTTP {status}): invalid JSON: {message}; body starts with: {excerpt}")]
    InvalidJson {
        /// The URL requested.
        url: String,
        /// The HTTP status of the response.
        status: StatusCode,
        /// What the JSON parser said.
        message: String,
        /// The start of the body (at most [`EXCERPT_CHARS`] characters).
        excerpt: String,
        /// The parser's error.
        #[source]
        source: Option<BoxError>,
    },

    /// One server-sent event was not valid UTF-8. An [`SseStream`](crate::SseStream) goes on
    /// after it; a typed [`EventStream`](crate::EventStream) ends with it.
    #[error("{url}: a server-sent event was not valid UTF-8")]
    InvalidUtf8 {
        /// The URL requested.
        url: String,
    },

    /// The server rejected the credentials (HTTP 401 or 403).
    #[error("{url}: authentication rejected (HTTP {status}): {message}")]
    Auth {
        /// 401 or 403.
        status: StatusCode,
        /// The URL requested.
        url: String,
        /// The server's own message.
        message: String,
    },

    /// The server reported an error: a 4xx/5xx status, a 2xx body holding an `error`
    /// envelope, or an error event inside a stream (status 200).
    #[error("{url}: server error (HTTP {status}): {message}")]
    Server {
        /// The HTTP status (200 for an error inside a successful response or stream).
        status: StatusCode,
        /// The URL requested.
        url: String,
        /// The server's own message, or an excerpt of a non-JSON body.
        message: String,
        /// The parsed `error` envelope, when the body had one.
        envelope: Option<Box<ErrorEnvelope>>,
    },

    /// A stream ended before its protocol's final event (`[DONE]`, `message_stop`, ...).
    #[error("{url}: the stream ended before its final event")]
    StreamEndedEarly {
        /// The URL requested.
        url: String,
    },

    /// The connection failed after it was established: reset, closed mid-body, protocol error.
    #[error("{url}: {message}")]
    Transport {
        /// The URL requested.
        url: String,
        /// What went wrong (the cause's messages, joined).
        message: String,
        /// The underlying error (hyper's, the socket's), when there is one.
        #[source]
        source: Option<BoxError>,
    },

    /// The request could not be built (body serialization failed, invalid header, ...).
    #[error("could not build the request: {message}")]
    Request {
        /// What went wrong.
        message: String,
    },
}

fn declared_suffix(declared: Option<u64>) -> String {
    match declared {
        Some(n) => format!(" (Content-Length: {n})"),
        None => String::new(),
    }
}

impl Error {
    /// True for the four time limits: connect, response headers, idle, deadline.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            Self::ConnectTimeout { .. }
                | Self::ResponseHeadersTimeout { .. }
                | Self::IdleTimeout { .. }
                | Self::DeadlineExceeded { .. }
        )
    }

    /// True when no connection could be made (refused, connect timeout, DNS, unreachable).
    pub fn is_connect(&self) -> bool {
        matches!(
            self,
            Self::ConnectRefused { .. } | Self::ConnectTimeout { .. } | Self::Connect { .. }
        )
    }

    /// True when the server rejected the credentials (HTTP 401 or 403).
    pub fn is_auth(&self) -> bool {
        matches!(self, Self::Auth { .. })
    }

    /// The HTTP status, for errors that come with a response.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Auth { status, .. }
            | Self::Server { status, .. }
            | Self::InvalidJson { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The URL of the request that failed (`None` only for errors raised before there was
    /// one: an endpoint that does not parse, a request that cannot be built).
    pub fn url(&self) -> Option<&str> {
        match self {
            Self::InvalidEndpoint(_) | Self::Request { .. } => None,
            Self::ConnectRefused { url, .. }
            | Self::ConnectTimeout { url, .. }
            | Self::Connect { url, .. }
            | Self::ResponseHeadersTimeout { url, .. }
            | Self::IdleTimeout { url, .. }
            | Self::DeadlineExceeded { url, .. }
            | Self::BodyTooLarge { url, .. }
            | Self::SseEventTooLarge { url, .. }
            | Self::InvalidJson { url, .. }
            | Self::InvalidUtf8 { url }
            | Self::Auth { url, .. }
            | Self::Server { url, .. }
            | Self::StreamEndedEarly { url }
            | Self::Transport { url, .. } => Some(url),
        }
    }

    /// A broken connection or body: `cause`'s messages, with `cause` kept as the source.
    pub(crate) fn broken(url: &str, cause: impl StdError + Send + Sync + 'static) -> Self {
        Self::Transport {
            url: url.to_owned(),
            message: chain_message(&cause),
            source: Some(Box::new(cause)),
        }
    }

    /// The server's `error` envelope, when the error carries one.
    pub fn envelope(&self) -> Option<&ErrorEnvelope> {
        match self {
            Self::Server { envelope, .. } => envelope.as_deref(),
            _ => None,
        }
    }
}

/// Builds the error for a response whose status or body says it failed, if it did.
///
/// 401/403 become [`Error::Auth`]; an `error` envelope (any status) or a non-2xx status become
/// [`Error::Server`] with the server's message, or a bounded excerpt of a non-JSON body.
pub(crate) fn error_from_response(status: StatusCode, url: &str, body: &[u8]) -> Option<Error> {
    let envelope = ErrorEnvelope::from_slice(body);
    let success = status.is_success();
    if success && envelope.is_none() {
        return None;
    }
    let message = match &envelope {
        Some(envelope) => envelope.message().to_owned(),
        None => {
            let text = excerpt(body);
            if text.is_empty() {
                status
                    .canonical_reason()
                    .unwrap_or("empty response body")
                    .to_owned()
            } else {
                text
            }
        }
    };
    let url = url.to_owned();
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        return Some(Error::Auth {
            status,
            url,
            message,
        });
    }
    Some(Error::Server {
        status,
        url,
        message,
        envelope: envelope.map(Box::new),
    })
}

/// A connect attempt (resolve + TCP) that outlived the connect limit.
#[derive(Debug)]
pub(crate) struct ConnectTimedOut;

impl std::fmt::Display for ConnectTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connect timed out")
    }
}

impl StdError for ConnectTimedOut {}

/// Iterates an error and its sources.
fn chain<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |e: &&'a (dyn StdError + 'static)| {
        (*e).source()
    })
}

/// The messages of an error's source chain, joined with `: ` (duplicates skipped).
pub(crate) fn chain_message(error: &(dyn StdError + 'static)) -> String {
    let mut out = String::new();
    let mut last = String::new();
    for e in chain(error) {
        let text = e.to_string();
        if text.is_empty() || last.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        let _ = write!(out, "{text}");
        last = text;
    }
    out
}

fn io_kind(error: &(dyn StdError + 'static)) -> Option<io::ErrorKind> {
    chain(error).find_map(|e| e.downcast_ref::<io::Error>().map(io::Error::kind))
}

/// Maps an error from the pooled client onto our kinds.
pub(crate) fn from_client_error(
    error: hyper_util::client::legacy::Error,
    url: &str,
    connect_limit: Duration,
) -> Error {
    let url = url.to_owned();
    if error.is_connect() {
        if chain(&error).any(|e| e.is::<ConnectTimedOut>()) {
            return Error::ConnectTimeout {
                url,
                limit: connect_limit,
            };
        }
        return match io_kind(&error) {
            Some(io::ErrorKind::ConnectionRefused) => Error::ConnectRefused {
                url,
                source: Some(Box::new(error)),
            },
            Some(io::ErrorKind::TimedOut) => Error::ConnectTimeout {
                url,
                limit: connect_limit,
            },
            _ => Error::Connect {
                url,
                message: connect_message(&error),
                source: Some(Box::new(error)),
            },
        };
    }
    Error::broken(&url, error)
}

/// The connect error's chain without hyper-util's generic "client error (Connect)" prefix.
fn connect_message(error: &hyper_util::client::legacy::Error) -> String {
    match error.source() {
        Some(source) => chain_message(source),
        None => chain_message(error),
    }
}

/// True when the request failed before any response byte in a way a stale keep-alive
/// connection causes: closed, reset or incomplete. Only such GETs are retried.
pub(crate) fn is_stale_connection(error: &hyper_util::client::legacy::Error) -> bool {
    if error.is_connect() {
        return false;
    }
    chain(error).any(|e| {
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            return h.is_incomplete_message() || h.is_canceled() || h.is_closed();
        }
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return matches!(
                io.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::UnexpectedEof
            );
        }
        false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_errors_keep_the_server_message() {
        let err = error_from_response(StatusCode::OK, "u", br#"{"error":"Unexpected endpoint"}"#);
        assert!(
            matches!(err, Some(Error::Server { status: StatusCode::OK, ref message, .. }) if message == "Unexpected endpoint")
        );
        let err = error_from_response(
            StatusCode::UNAUTHORIZED,
            "u",
            br#"{"error":{"message":"Invalid API Key"}}"#,
        );
        assert!(
            matches!(err, Some(Error::Auth { status: StatusCode::UNAUTHORIZED, ref message, .. }) if message == "Invalid API Key")
        );
        let err = error_from_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "u",
            b"Internal Server Error",
        );
        assert!(
            matches!(err, Some(Error::Server { status: StatusCode::INTERNAL_SERVER_ERROR, ref message, envelope: None, .. }) if message == "Internal Server Error")
        );
        let err = error_from_response(StatusCode::SERVICE_UNAVAILABLE, "u", b"");
        assert!(
            matches!(err, Some(Error::Server { ref message, .. }) if message == "Service Unavailable")
        );
        assert!(error_from_response(StatusCode::OK, "u", br#"{"data":[]}"#).is_none());
        assert!(error_from_response(StatusCode::NO_CONTENT, "u", b"").is_none());
    }
}
