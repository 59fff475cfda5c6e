//! How transport and `lms` errors become [`LmStudioError`]s: the operation named for
//! timeouts, the token variable for auth failures, and the original error kept as the source.

use std::sync::Arc;

use lmstudio_lms::LmsError;
use lmstudio_transport::Error as TransportError;

use super::{ErrorSource, LmStudioError};

/// What the error mapping needs to know about the client that made the call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ErrorContext<'a> {
    /// The environment variable that holds the token (empty: given in code).
    pub(crate) token_env: &'a str,
    /// Whether the client sends a token.
    pub(crate) token_sent: bool,
    /// The server root, for errors that do not carry a URL of their own.
    pub(crate) base_url: &'a str,
}

impl LmStudioError {
    /// Maps a transport error, naming the operation for timeouts and the token variable for
    /// authentication failures. The transport error stays reachable as the source.
    pub(crate) fn from_transport(err: TransportError, ctx: &ErrorContext<'_>) -> Self {
        let url = err.url().unwrap_or(ctx.base_url).to_owned();
        let mapped = match &err {
            TransportError::ConnectRefused { .. } | TransportError::Connect { .. } => {
                Mapped::NotResponding { timed_out: false }
            }
            TransportError::ConnectTimeout { .. } => Mapped::NotResponding { timed_out: true },
            TransportError::ResponseHeadersTimeout { method, limit, .. }
            | TransportError::DeadlineExceeded { method, limit, .. } => Mapped::Timeout {
                operation: format!("{method} {url}"),
                limit: *limit,
            },
            TransportError::IdleTimeout { limit, .. } => Mapped::Timeout {
                operation: format!("waiting for more data from {url}"),
                limit: *limit,
            },
            TransportError::BodyTooLarge { limit, .. }
            | TransportError::SseEventTooLarge { limit, .. } => Mapped::TooLarge { limit: *limit },
            TransportError::InvalidJson {
                status,
                message,
                excerpt,
                ..
            } => Mapped::InvalidJson {
                detail: format!(
                    "{message} (HTTP {}; body starts: {excerpt:?})",
                    status.as_u16()
                ),
            },
            TransportError::InvalidUtf8 { .. } => Mapped::InvalidJson {
                detail: "a stream event was not valid UTF-8".to_owned(),
            },
            TransportError::Auth {
                status, message, ..
            } => Mapped::Auth {
                status: *status,
                message: message.clone(),
            },
            TransportError::Server {
                status, message, ..
            } => Mapped::Server {
                status: *status,
                message: message.clone(),
            },
            TransportError::StreamEndedEarly { .. } => Mapped::StreamEndedEarly,
            TransportError::InvalidEndpoint(e) => Mapped::Config(e.to_string()),
            TransportError::Request { message } => Mapped::Config(message.clone()),
            // `Transport`, and variants a later transport version adds: keep the message.
            other => Mapped::Transport {
                message: match other {
                    TransportError::Transport { message, .. } => message.clone(),
                    other => other.to_string(),
                },
            },
        };
        let shared = Arc::new(err);
        let source = || Some(shared.clone() as ErrorSource);
        match mapped {
            Mapped::NotResponding { timed_out } => Self::NotResponding {
                url,
                timed_out,
                source: shared,
                start: None,
            },
            Mapped::Timeout { operation, limit } => Self::Timeout {
                operation,
                limit,
                source: source(),
            },
            Mapped::TooLarge { limit } => Self::TooLarge {
                url,
                limit,
                source: source(),
            },
            Mapped::InvalidJson { detail } => Self::InvalidJson {
                url,
                detail,
                source: source(),
            },
            Mapped::Auth { status, message } => Self::Auth {
                status,
                url,
                message,
                token_env: ctx.token_env.to_owned(),
                token_sent: ctx.token_sent,
                source: source(),
            },
            Mapped::Server { status, message } => Self::Server {
                status,
                url,
                message,
                source: source(),
            },
            Mapped::StreamEndedEarly => Self::StreamEndedEarly { url },
            Mapped::Config(message) => Self::Config(message),
            Mapped::Transport { message } => Self::Transport {
                url,
                message,
                source: source(),
            },
        }
    }

    /// Maps an `lms` error; "not found" keeps the seed's verbatim message. The `lms` error
    /// stays reachable as the source.
    pub(crate) fn from_lms(err: LmsError) -> Self {
        match err {
            LmsError::NotFound => Self::LmsNotFound,
            LmsError::InvalidJson {
                ref command,
                ref message,
                ref excerpt,
            } => Self::InvalidJson {
                url: command.clone(),
                detail: format!("{message} (output starts: {excerpt:?})"),
                source: Some(Arc::new(err)),
            },
            LmsError::Timeout { ref command, limit } => Self::Timeout {
                operation: command.clone(),
                limit,
                source: Some(Arc::new(err)),
            },
            other => Self::Lms(Arc::new(other)),
        }
    }
}

/// The facade-side shape of a transport error, before the error is moved into the source.
enum Mapped {
    NotResponding {
        timed_out: bool,
    },
    Timeout {
        operation: String,
        limit: std::time::Duration,
    },
    TooLarge {
        limit: usize,
    },
    InvalidJson {
        detail: String,
    },
    Auth {
        status: lmstudio_transport::http::StatusCode,
        message: String,
    },
    Server {
        status: lmstudio_transport::http::StatusCode,
        message: String,
    },
    StreamEndedEarly,
    Config(String),
    Transport {
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::io;
    use std::time::Duration;

    use lmstudio_transport::http::StatusCode;

    use super::*;

    const CTX: ErrorContext<'static> = ErrorContext {
        token_env: "LM_API_TOKEN",
        token_sent: false,
        base_url: "http://127.0.0.1:1234",
    };

    #[test]
    fn verbatim_messages() {
        assert_eq!(
            LmStudioError::LmsNotFound.to_string(),
            "LM Studio not found. Please install LM Studio from https://lmstudio.ai/"
        );
        let refused = LmStudioError::from_transport(
            TransportError::ConnectRefused {
                url: "http://127.0.0.1:9".into(),
                source: None,
            },
            &CTX,
        );
        assert_eq!(
            refused.to_string(),
            "LM Studio is not responding. Install from https://lmstudio.ai/download and run 'lms server start'."
        );
        assert_eq!(refused.io_kind(), io::ErrorKind::ConnectionRefused);
    }

    #[test]
    fn io_error_keeps_the_typed_error() {
        let io_err: io::Error = LmStudioError::LmsNotFound.into();
        assert_eq!(io_err.kind(), io::ErrorKind::NotFound);
        let inner = io_err
            .get_ref()
            .and_then(|e| e.downcast_ref::<LmStudioError>());
        assert!(matches!(inner, Some(LmStudioError::LmsNotFound)));
    }

    #[test]
    fn auth_message_names_the_variable_not_the_token() {
        let err = LmStudioError::from_transport(
            TransportError::Auth {
                status: StatusCode::UNAUTHORIZED,
                url: "http://127.0.0.1:1234/api/v1/models".into(),
                message: "An LM Studio API token is required".into(),
            },
            &ErrorContext {
                token_env: "MY_TOKEN_VAR",
                ..CTX
            },
        );
        let text = err.to_string();
        assert!(text.contains("MY_TOKEN_VAR"), "{text}");
        assert!(text.contains("HTTP 401"), "{text}");
        assert_eq!(err.io_kind(), io::ErrorKind::PermissionDenied);
    }

    #[test]
    fn timeouts_name_operation_and_limit() {
        let err = LmStudioError::from_transport(
            TransportError::DeadlineExceeded {
                method: "POST".into(),
                url: "http://h/api/v1/models/load".into(),
                limit: Duration::from_secs(600),
            },
            &CTX,
        );
        assert_eq!(
            err.to_string(),
            "POST http://h/api/v1/models/load timed out after 600 s"
        );
        assert_eq!(err.io_kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn json_errors_start_with_the_contract_prefix() {
        let err = LmStudioError::from_transport(
            TransportError::InvalidJson {
                url: "http://h/v1/models".into(),
                status: StatusCode::OK,
                message: "expected value at line 1 column 1".into(),
                excerpt: "<html>".into(),
                source: None,
            },
            &CTX,
        );
        assert!(err.to_string().starts_with("JSON parse error: "));
        assert_eq!(err.io_kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn server_errors_keep_status_and_message() {
        let err = LmStudioError::from_transport(
            TransportError::Server {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                url: "http://h/v1/chat/completions".into(),
                message: "The model has crashed".into(),
                envelope: None,
            },
            &CTX,
        );
        let text = err.to_string();
        assert!(text.contains("500") && text.contains("The model has crashed"));
        assert!(!err.is_not_responding());
        assert_eq!(err.io_kind(), io::ErrorKind::Other);
    }

    #[test]
    fn the_transport_error_is_the_source_and_can_be_downcast() {
        let err = LmStudioError::from_transport(
            TransportError::Server {
                status: StatusCode::SERVICE_UNAVAILABLE,
                url: "http://h/v1/models".into(),
                message: "loading".into(),
                envelope: None,
            },
            &CTX,
        );
        let source = err.source().expect("a source");
        let transport = source
            .downcast_ref::<TransportError>()
            .expect("the transport error itself");
        assert_eq!(transport.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        let cloned = err.clone();
        assert!(cloned.source().is_some(), "clones share the source");
    }

    #[test]
    fn errors_without_a_url_of_their_own_name_the_server() {
        let err = LmStudioError::from_transport(
            TransportError::Request {
                message: "bad header".into(),
            },
            &CTX,
        );
        assert!(matches!(err, LmStudioError::Config(_)), "{err:?}");
        let err =
            LmStudioError::from_transport(TransportError::InvalidUtf8 { url: String::new() }, &CTX);
        assert!(matches!(err, LmStudioError::InvalidJson { ref url, .. } if url.is_empty()));
        let err = LmStudioError::from_transport(
            TransportError::Transport {
                url: "http://h/v1/x".into(),
                message: "connection reset".into(),
                source: None,
            },
            &CTX,
        );
        assert!(
            matches!(err, LmStudioError::Transport { ref url, ref message, .. } if url == "http://h/v1/x" && message == "connection reset")
        );
    }

    #[test]
    fn predicates() {
        let refused = LmStudioError::from_transport(
            TransportError::ConnectRefused {
                url: "http://h".into(),
                source: None,
            },
            &CTX,
        );
        assert!(refused.is_connect() && refused.is_not_responding() && !refused.is_timeout());
        let connect_timeout = LmStudioError::from_transport(
            TransportError::ConnectTimeout {
                url: "http://h".into(),
                limit: Duration::from_secs(1),
            },
            &CTX,
        );
        assert!(connect_timeout.is_connect() && connect_timeout.is_timeout());
        let not_found = LmStudioError::from_transport(
            TransportError::Server {
                status: StatusCode::NOT_FOUND,
                url: "http://h/x".into(),
                message: "no".into(),
                envelope: None,
            },
            &CTX,
        );
        assert!(not_found.is_not_found() && !not_found.is_auth());
        assert!(LmStudioError::LmsNotFound.is_not_found());
        let auth = LmStudioError::from_transport(
            TransportError::Auth {
                status: StatusCode::FORBIDDEN,
                url: "http://h/x".into(),
                message: "no".into(),
            },
            &CTX,
        );
        assert!(auth.is_auth() && !auth.is_timeout() && !auth.is_not_found());
        assert_eq!(auth.io_kind(), io::ErrorKind::PermissionDenied);
    }
}
