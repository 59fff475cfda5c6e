//! Errors a server sends inside an event stream (Responses, Messages), as the transport
//! reports a server's error: the message kept, and the envelope so the error's `type` can
//! tell a context overflow.

use lmstudio_proto::error::{ErrorEnvelope, ErrorObject};
use lmstudio_transport::DecodeError;

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
