//! Typed event streams: each server-sent event decoded by a protocol's [`EventDecoder`],
//! which also decides which event ends the stream (`data: [DONE]` for OpenAI's chat API,
//! `response.completed` for the Responses API, `message_stop` for Anthropic's Messages API).
//! A body that ends before the protocol's end is [`Error::StreamEndedEarly`].

use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::{HeaderMap, StatusCode};
use lmstudio_proto::error::ErrorEnvelope;
use serde::de::DeserializeOwned;

use crate::error::{BoxError, Error};
use crate::sse::SseEventRef;
use crate::stream::SseStream;
use crate::text::excerpt;

/// What one event means to a protocol.
#[derive(Debug)]
pub enum Step<T> {
    /// Nothing to deliver (a keep-alive, a blank event, an event the protocol ignores).
    Skip,
    /// A value; more follow.
    Item(T),
    /// A value that ends the stream (e.g. `response.completed`).
    Last(T),
    /// The end marker itself, which carries no value (e.g. `data: [DONE]`).
    End,
}

/// Why an event could not be decoded.
#[derive(Debug)]
#[non_exhaustive]
pub enum DecodeError {
    /// The server reported an error inside the stream. Becomes [`Error::Server`] with the
    /// response's status (200 for a stream that had started).
    Server {
        /// The server's message.
        message: String,
        /// The `{"error": ...}` envelope, when the event was one.
        envelope: Option<Box<ErrorEnvelope>>,
    },
    /// The event is not what the protocol expects. Becomes [`Error::InvalidJson`].
    Invalid {
        /// What the parser said.
        message: String,
        /// The start of the event's data.
        excerpt: String,
        /// The parser's error.
        source: Option<BoxError>,
    },
}

impl DecodeError {
    /// An event whose `data` did not parse: keeps the parser's error and an excerpt.
    pub fn invalid(cause: impl std::error::Error + Send + Sync + 'static, data: &str) -> Self {
        Self::Invalid {
            message: cause.to_string(),
            excerpt: excerpt(data.as_bytes()),
            source: Some(Box::new(cause)),
        }
    }

    /// An error the server sent as an `{"error": ...}` envelope.
    pub fn envelope(envelope: ErrorEnvelope) -> Self {
        Self::Server {
            message: envelope.message().to_owned(),
            envelope: Some(Box::new(envelope)),
        }
    }
}

/// Decodes the events of one protocol. It sees each event borrowed from the decoder's
/// buffers, so a protocol that parses in place allocates nothing per event but its values.
pub trait EventDecoder {
    /// What the stream yields.
    type Item;

    /// Decodes one event.
    fn decode(&mut self, event: SseEventRef<'_>) -> Result<Step<Self::Item>, DecodeError>;
}

/// The values of a streamed response, decoded by `D`, until the protocol's end.
///
/// A `futures_core::Stream` (and `FusedStream`): use `StreamExt` to read it. After the end,
/// an error, or a body that stopped early ([`Error::StreamEndedEarly`]), it yields `None`.
/// Dropping it closes the connection, which makes a server stop generating.
pub struct EventStream<D> {
    inner: SseStream,
    decoder: D,
    done: bool,
}

impl<D: EventDecoder> EventStream<D> {
    pub(crate) fn new(inner: SseStream, decoder: D) -> Self {
        Self {
            inner,
            decoder,
            done: false,
        }
    }

    /// The decoder, with whatever it has gathered so far.
    pub fn decoder(&self) -> &D {
        &self.decoder
    }

    /// The HTTP status of the response (2xx).
    pub fn status(&self) -> StatusCode {
        self.inner.status()
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The URL requested.
    pub fn url(&self) -> &str {
        self.inner.url()
    }

    fn fail(&mut self, error: Error) -> Error {
        self.done = true;
        self.inner.close();
        error
    }

    fn error(&self, error: DecodeError) -> Error {
        let url = self.inner.url().to_owned();
        let status = self.inner.status();
        match error {
            DecodeError::Server { message, envelope } => Error::Server {
                status,
                url,
                message,
                envelope,
            },
            DecodeError::Invalid {
                message,
                excerpt,
                source,
            } => Error::InvalidJson {
                url,
                status,
                message,
                excerpt,
                source,
            },
        }
    }
}

impl<D: EventDecoder + Unpin> futures_core::Stream for EventStream<D> {
    type Item = Result<D::Item, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            let decoder = &mut this.decoder;
            let step = match ready!(this.inner.poll_event_with(cx, |e| decoder.decode(e))) {
                Some(Ok(step)) => step,
                Some(Err(error)) => return Poll::Ready(Some(Err(this.fail(error)))),
                None => {
                    let url = this.inner.url().to_owned();
                    return Poll::Ready(Some(Err(this.fail(Error::StreamEndedEarly { url }))));
                }
            };
            match step {
                Ok(Step::Skip) => continue,
                Ok(Step::Item(value)) => return Poll::Ready(Some(Ok(value))),
                Ok(Step::Last(value)) => {
                    this.done = true;
                    this.inner.release(cx);
                    return Poll::Ready(Some(Ok(value)));
                }
                Ok(Step::End) => {
                    this.done = true;
                    this.inner.release(cx);
                    return Poll::Ready(None);
                }
                Err(error) => {
                    let error = this.error(error);
                    return Poll::Ready(Some(Err(this.fail(error))));
                }
            }
        }
    }
}

impl<D: EventDecoder + Unpin> futures_core::FusedStream for EventStream<D> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<D> fmt::Debug for EventStream<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("inner", &self.inner)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// OpenAI's streaming protocol: each event's `data` is a JSON `T`, until `data: [DONE]`. An
/// `{"error": ...}` object in place of a value is the server's error; blank data is skipped.
pub struct JsonUntilDone<T>(PhantomData<fn() -> T>);

impl<T> JsonUntilDone<T> {
    /// The decoder.
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T> Default for JsonUntilDone<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for JsonUntilDone<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JsonUntilDone")
    }
}

impl<T: DeserializeOwned> EventDecoder for JsonUntilDone<T> {
    type Item = T;

    fn decode(&mut self, event: SseEventRef<'_>) -> Result<Step<T>, DecodeError> {
        let data = event.data.trim_ascii();
        if data.is_empty() {
            return Ok(Step::Skip);
        }
        if data == "[DONE]" {
            return Ok(Step::End);
        }
        if let Some(envelope) = ErrorEnvelope::from_slice(data.as_bytes()) {
            return Err(DecodeError::envelope(envelope));
        }
        serde_json::from_str::<T>(data)
            .map(Step::Item)
            .map_err(|e| DecodeError::invalid(e, data))
    }
}

/// JSON values from each event's `data` until `data: [DONE]` (see [`JsonUntilDone`]).
pub type JsonStream<T> = EventStream<JsonUntilDone<T>>;
