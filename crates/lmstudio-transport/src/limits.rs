//! The time and size limits every call runs under.

use std::time::Duration;

/// Time and size limits. Every field is public; build them from `Limits::default()` with the
/// `with_*` methods, one at a time (more limits may come, so the struct cannot be built with
/// a literal or `..` outside this crate).
///
/// ```
/// use std::time::Duration;
/// use lmstudio_transport::Limits;
///
/// let limits = Limits::default().with_connect(Duration::from_secs(1));
/// assert_eq!(limits.connect, Duration::from_secs(1));
/// assert_eq!(limits.max_body_bytes, 32 * 1024 * 1024);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Limits {
    /// Resolving the host and opening the TCP connection. Default 5 s
    /// ([`Limits::DEFAULT_CONNECT`]).
    pub connect: Duration,
    /// From sending the request (including getting a connection) to the response headers.
    /// Keep it above `connect`. Default 30 s ([`Limits::DEFAULT_RESPONSE_HEADERS`]).
    pub response_headers: Duration,
    /// Longest silence between two body frames of a stream. Default 120 s
    /// ([`Limits::DEFAULT_IDLE`]).
    pub idle: Duration,
    /// Total time for a non-streaming call: headers and the whole body. Default 120 s
    /// ([`Limits::DEFAULT_DEADLINE`]).
    pub deadline: Duration,
    /// Largest response body read into memory (`Content-Length` is checked before reading).
    /// Default 32 MiB ([`Limits::DEFAULT_MAX_BODY_BYTES`]).
    pub max_body_bytes: usize,
    /// Largest single SSE line, and largest `data` of one event. Default 4 MiB
    /// ([`Limits::DEFAULT_MAX_SSE_EVENT_BYTES`]).
    pub max_sse_event_bytes: usize,
}

impl Limits {
    /// Default connect limit: 5 s.
    pub const DEFAULT_CONNECT: Duration = Duration::from_secs(5);
    /// Default time to response headers: 30 s.
    pub const DEFAULT_RESPONSE_HEADERS: Duration = Duration::from_secs(30);
    /// Default idle time between stream frames: 120 s.
    pub const DEFAULT_IDLE: Duration = Duration::from_secs(120);
    /// Default deadline for non-streaming calls: 120 s.
    pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(120);
    /// Default body limit: 32 MiB.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
    /// Default SSE line/event limit: 4 MiB.
    pub const DEFAULT_MAX_SSE_EVENT_BYTES: usize = 4 * 1024 * 1024;

    /// Sets [`Limits::connect`].
    pub fn with_connect(mut self, limit: Duration) -> Self {
        self.connect = limit;
        self
    }

    /// Sets [`Limits::response_headers`].
    pub fn with_response_headers(mut self, limit: Duration) -> Self {
        self.response_headers = limit;
        self
    }

    /// Sets [`Limits::idle`].
    pub fn with_idle(mut self, limit: Duration) -> Self {
        self.idle = limit;
        self
    }

    /// Sets [`Limits::deadline`].
    pub fn with_deadline(mut self, limit: Duration) -> Self {
        self.deadline = limit;
        self
    }

    /// Sets [`Limits::max_body_bytes`].
    pub fn with_max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Sets [`Limits::max_sse_event_bytes`].
    pub fn with_max_sse_event_bytes(mut self, limit: usize) -> Self {
        self.max_sse_event_bytes = limit;
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connect: Self::DEFAULT_CONNECT,
            response_headers: Self::DEFAULT_RESPONSE_HEADERS,
            idle: Self::DEFAULT_IDLE,
            deadline: Self::DEFAULT_DEADLINE,
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            max_sse_event_bytes: Self::DEFAULT_MAX_SSE_EVENT_BYTES,
        }
    }
}
