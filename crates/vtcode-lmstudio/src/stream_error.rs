//! What the Responses and Messages streams share: the decode preamble (blanks and `[DONE]`
//! skipped, the event parsed, errors however the server sends them, as the transport reports
//! a server's error) over a small [`StreamProtocol`] trait, and [`ProtocolStream`], the
//! event stream with the client and model its errors are mapped with.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use lmstudio_proto::error::{ErrorEnvelope, ErrorObject};
use lmstudio_transport::sse::SseEventRef;
use lmstudio_transport::{DecodeError, EventDecoder, EventStream, Step};

use crate::client::LMStudioClient;
use crate::error::LmStudioError;

/// An error object whose message is `text` (an `error` event whose data is no known shape).
pub(crate) fn text_error(text: &str) -> ErrorObject {
    serde_json::from_value(serde_json::json!({ "message": text })).unwrap_or_default()
}

/// The error as the transport reports a server's error: its message, and the envelope (so
/// the error's `type` can tell an overflow).
pub(crate) fn server_error(error: ErrorObject) -> DecodeError {
    let message = error.message().to_owned();
    let envelope = serde_json::from_value::<ErrorEnvelope>(serde_json::json!({ "error": error }));
    match envelope {
        Ok(envelope) => DecodeError::envelope(envelope),
        Err(_) => DecodeError::Server {
            message,
            envelope: None,
        },
    }
}

/// One streamed protocol's events, as [`decode_event`] needs them; implemented by each
/// protocol's decoder.
pub(crate) trait StreamProtocol {
    /// The protocol's event.
    type Event;

    /// Parses one SSE event (`event:` name and trimmed `data`).
    fn parse(name: Option<&str>, data: &str) -> Result<Self::Event, serde_json::Error>;

    /// The error the event reports, if it reports one.
    fn error(event: &Self::Event) -> Option<ErrorObject>;

    /// Whether the event is of a type the protocol does not model.
    fn is_unknown(event: &Self::Event) -> bool;

    /// Whether the event ends the stream.
    fn is_last(event: &Self::Event) -> bool;

    /// Takes in an event that is no error (assembles it, counts it); an error here ends the
    /// stream.
    fn record(&mut self, event: &Self::Event, data: &str) -> Result<(), DecodeError>;
}

/// Decodes one SSE event of `protocol`. Keep-alive blanks and a `[DONE]` (some servers and
/// proxies append one) are skipped: the stream ends at its last event, never at a marker.
/// An event that reports an error, and any event the server names `error` (whatever its data
/// holds, parsed or not), is the server's error with its message; other events are recorded,
/// then yielded.
pub(crate) fn decode_event<P: StreamProtocol>(
    protocol: &mut P,
    event: SseEventRef<'_>,
) -> Result<Step<P::Event>, DecodeError> {
    let data = event.data.trim_ascii();
    if data.is_empty() || data == "[DONE]" {
        return Ok(Step::Skip);
    }
    let named_error = event.event == Some("error");
    let parsed = match P::parse(event.event, data) {
        Ok(parsed) => parsed,
        Err(_) if named_error => return Err(server_error(text_error(data))),
        Err(e) => return Err(DecodeError::invalid(e, data)),
    };
    let error = P::error(&parsed)
        .or_else(|| (named_error && P::is_unknown(&parsed)).then(|| text_error(data)));
    if let Some(error) = error {
        return Err(server_error(error));
    }
    protocol.record(&parsed, data)?;
    Ok(if P::is_last(&parsed) {
        Step::Last(parsed)
    } else {
        Step::Item(parsed)
    })
}

/// A protocol's event stream, with the client and model its errors are mapped with (an
/// overflow becomes [`LmStudioError::ContextOverflow`]). The public stream types wrap one.
pub(crate) struct ProtocolStream<D> {
    inner: EventStream<D>,
    client: LMStudioClient,
    /// The model the request named, for errors.
    model: String,
}

impl<D: EventDecoder + Unpin> ProtocolStream<D> {
    pub(crate) fn new(inner: EventStream<D>, client: LMStudioClient, model: String) -> Self {
        Self {
            inner,
            client,
            model,
        }
    }

    /// The decoder, with what it assembled so far.
    pub(crate) fn decoder(&self) -> &D {
        self.inner.decoder()
    }

    /// The request's URL.
    pub(crate) fn url(&self) -> &str {
        self.inner.url()
    }

    /// Reads to the end; the first error ends it.
    pub(crate) async fn drain(&mut self) -> Result<(), LmStudioError> {
        while let Some(item) = std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await {
            item?;
        }
        Ok(())
    }
}

impl<D: EventDecoder + Unpin> Stream for ProtocolStream<D> {
    type Item = Result<D::Item, LmStudioError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(event))) => Poll::Ready(Some(Ok(event))),
            Poll::Ready(Some(Err(err))) => {
                Poll::Ready(Some(Err(this.client.map_inference(err, &this.model))))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<D: EventDecoder + Unpin> futures_core::FusedStream for ProtocolStream<D> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

/// `Stream` and `FusedStream` for a public stream type that wraps a [`ProtocolStream`] in
/// its `inner` field.
macro_rules! delegate_stream {
    ($stream:ty, $event:ty) => {
        impl futures_core::Stream for $stream {
            type Item = Result<$event, $crate::error::LmStudioError>;

            fn poll_next(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Option<Self::Item>> {
                let inner = std::pin::Pin::new(&mut self.get_mut().inner);
                futures_core::Stream::poll_next(inner, cx)
            }
        }

        impl futures_core::FusedStream for $stream {
            fn is_terminated(&self) -> bool {
                futures_core::FusedStream::is_terminated(&self.inner)
            }
        }
    };
}
pub(crate) use delegate_stream;
