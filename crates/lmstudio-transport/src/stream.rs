//! Streamed responses: raw server-sent events ([`SseStream`]); typed streams are built on
//! it in `event_stream.rs`.
//!
//! Streams own the response body. Dropping a stream drops the body, which closes the
//! connection at once (a connection is never returned to the pool mid-body).

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use hyper::body::{Body, Incoming};
use tokio::time::{Instant, Sleep};

use crate::error::Error;
use crate::sse::{SseDecoder, SseError, SseEvent, SseEventRef};

/// Frames read in one poll without producing an event before yielding to the runtime.
const FRAMES_PER_POLL: usize = 32;
/// Frames already buffered that are read after `[DONE]` to let the connection be reused.
const FRAMES_AFTER_DONE: usize = 4;

/// The server-sent events of one response, in order.
///
/// Events come from [`next_event`](SseStream::next_event) or the `futures_core::Stream`
/// impl. The stream ends (`None`) at the end of the body; after a fatal error (idle
/// timeout, reset, oversized event) it yields `None` too. An event that is not valid UTF-8
/// yields [`Error::InvalidUtf8`] and the stream goes on.
pub struct SseStream {
    body: Option<Incoming>,
    decoder: SseDecoder,
    idle: Duration,
    sleep: Pin<Box<Sleep>>,
    url: String,
    status: StatusCode,
    headers: HeaderMap,
    eof: bool,
    done: bool,
}

impl SseStream {
    pub(crate) fn new(
        body: Incoming,
        headers: HeaderMap,
        status: StatusCode,
        url: String,
        idle: Duration,
        max_event_bytes: usize,
    ) -> Self {
        Self {
            body: Some(body),
            decoder: SseDecoder::new(max_event_bytes),
            idle,
            sleep: Box::pin(tokio::time::sleep(idle)),
            url,
            status,
            headers,
            eof: false,
            done: false,
        }
    }

    /// Feeds bytes already read from the body (while sniffing an unlabelled answer) to the
    /// decoder, ahead of the rest of the body.
    pub(crate) fn push_prefix(&mut self, prefix: &[u8]) {
        if !prefix.is_empty() {
            self.decoder.push(prefix);
        }
    }

    /// The HTTP status of the response (2xx).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The URL requested.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The next event; `None` at the end of the stream or after a fatal error.
    pub async fn next_event(&mut self) -> Option<Result<SseEvent, Error>> {
        poll_fn(|cx| self.poll_next_event(cx)).await
    }

    /// Poll form of [`next_event`](SseStream::next_event).
    pub fn poll_next_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<SseEvent, Error>>> {
        self.poll_event_with(cx, |event| event.to_event())
    }

    /// Polls for the next event and hands it, borrowed from the decoder, to `take`.
    pub(crate) fn poll_event_with<R>(
        &mut self,
        cx: &mut Context<'_>,
        mut take: impl FnMut(SseEventRef<'_>) -> R,
    ) -> Poll<Option<Result<R, Error>>> {
        let mut frames = 0;
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            match self.decoder.next_event_ref() {
                Some(Ok(event)) => return Poll::Ready(Some(Ok(take(event)))),
                Some(Err(e)) => return Poll::Ready(Some(Err(self.decode_error(e)))),
                None => {}
            }
            if self.eof {
                self.done = true;
                return Poll::Ready(None);
            }
            let Some(body) = self.body.as_mut() else {
                self.done = true;
                return Poll::Ready(None);
            };
            if frames == FRAMES_PER_POLL {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            match Pin::new(body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    frames += 1;
                    if let Ok(data) = frame.into_data() {
                        self.decoder.push(&data);
                    }
                    let next = deadline_after(self.idle);
                    self.sleep.as_mut().reset(next);
                }
                Poll::Ready(Some(Err(e))) => {
                    self.close();
                    return Poll::Ready(Some(Err(Error::broken(&self.url, e))));
                }
                Poll::Ready(None) => {
                    self.eof = true;
                    self.body = None;
                    self.decoder.finish();
                }
                Poll::Pending => {
                    if self.sleep.as_mut().poll(cx).is_ready() {
                        self.close();
                        return Poll::Ready(Some(Err(Error::IdleTimeout {
                            url: self.url.clone(),
                            limit: self.idle,
                        })));
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    fn decode_error(&mut self, error: SseError) -> Error {
        let url = self.url.clone();
        match error {
            SseError::InvalidUtf8 => Error::InvalidUtf8 { url },
            SseError::EventTooLarge { limit } => {
                self.close();
                Error::SseEventTooLarge { url, limit }
            }
        }
    }

    /// Ends the stream and drops the body (closing the connection if it was mid-body).
    pub(crate) fn close(&mut self) {
        self.done = true;
        self.body = None;
    }

    /// Ends the stream after its protocol's last event: reads at most 4 frames that are
    /// already buffered, without waiting, so a finished body can leave its connection in the
    /// pool; otherwise the connection closes. Later polls yield `None`.
    pub fn finish(&mut self, cx: &mut Context<'_>) {
        self.release(cx);
    }

    pub(crate) fn release(&mut self, cx: &mut Context<'_>) {
        self.done = true;
        if let Some(body) = self.body.as_mut() {
            for _ in 0..FRAMES_AFTER_DONE {
                match Pin::new(&mut *body).poll_frame(cx) {
                    Poll::Ready(Some(Ok(_))) => {}
                    _ => break,
                }
            }
        }
        self.body = None;
    }
}

impl futures_core::Stream for SseStream {
    type Item = Result<SseEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_event(cx)
    }
}

impl futures_core::FusedStream for SseStream {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl fmt::Debug for SseStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseStream")
            .field("url", &self.url)
            .field("status", &self.status)
            .field("idle", &self.idle)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// `now + limit`, saturating far in the future instead of overflowing.
fn deadline_after(limit: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(limit)
        .unwrap_or_else(|| now + Duration::from_secs(60 * 60 * 24 * 365))
}
