//! The facade's typed error and its mapping onto `std::io::Error` (the seed API's contract).
//!
//! Every seed function returns `std::io::Result`, built as `io::Error::new(kind, LmStudioError)`
//! so callers can `get_ref()` and downcast to [`LmStudioError`]. The messages of the first
//! variants are part of the public contract and must stay verbatim.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use lmstudio_lms::LmsError;
use lmstudio_transport::Error as TransportError;

/// The verbatim message for an unreachable server.
pub const NOT_RESPONDING_MESSAGE: &str = "LM Studio is not responding. Install from https://lmstudio.ai/download and run 'lms server start'.";

/// The verbatim message when the `lms` CLI cannot be found.
pub const LMS_NOT_FOUND_MESSAGE: &str =
    "LM Studio not found. Please install LM Studio from https://lmstudio.ai/";

/// Everything that can go wrong while making a model ready or talking to it.
///
/// Cheap to clone (sources are shared), so one failed download can be reported to every
/// caller that was waiting on it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LmStudioError {
    /// The server could not be reached (refused, unreachable, or connect timeout).
    #[error("{}", NOT_RESPONDING_MESSAGE)]
    NotResponding {
        /// The server root that was tried.
        url: String,
        /// True when the connect attempt ran out of time rather than being refused.
        timed_out: bool,
        /// The transport error behind it.
        #[source]
        source: Arc<TransportError>,
    },
    /// The `lms` CLI was needed but is not installed where we looked.
    #[error("{}", LMS_NOT_FOUND_MESSAGE)]
    LmsNotFound,
    /// A body was not the JSON we expected.
    #[error("JSON parse error: {detail} (from {url})")]
    InvalidJson {
        /// Where the body came from (URL or command).
        url: String,
        /// The parser's message plus a bounded excerpt of the body.
        detail: String,
    },
    /// A download failed (REST job failure or a non-zero `lms get`).
    #[error("downloading {model} failed: {detail}")]
    DownloadFailed {
        /// The model that was being downloaded.
        model: String,
        /// What failed: the job's error, or `lms`'s exit status and last stderr lines.
        detail: String,
    },
    /// The server rejected our credentials (HTTP 401/403).
    #[error(
        "LM Studio rejected the request to {url} (HTTP {status}): {message}. {}",
        auth_hint(token_env, *token_sent)
    )]
    Auth {
        /// HTTP status (401 or 403).
        status: u16,
        /// The URL that was refused.
        url: String,
        /// The server's own message (never contains our token).
        message: String,
        /// The environment variable that holds the token.
        token_env: String,
        /// Whether a token was sent at all.
        token_sent: bool,
    },
    /// An operation ran out of time.
    #[error("{operation} timed out after {}", format_limit(*limit))]
    Timeout {
        /// What was being done, e.g. `POST /api/v1/models/load`.
        operation: String,
        /// The limit that was exceeded.
        limit: Duration,
    },
    /// The server answered with an error (any status, including 200 with an error body).
    #[error("server error from {url} (HTTP {status}): {message}")]
    Server {
        /// HTTP status; 200 when the error came in a 200 body or mid-stream.
        status: u16,
        /// The URL that failed.
        url: String,
        /// The server's own message.
        message: String,
    },
    /// The server is not LM Studio (or too old) and cannot do what was asked.
    #[error("{operation} is not supported by the server at {url}: {reason}")]
    Unsupported {
        /// What was asked, e.g. `download_model`.
        operation: String,
        /// The server root.
        url: String,
        /// Why, and what to do instead.
        reason: String,
    },
    /// The model is not on the server (and was not downloaded by this call).
    #[error(
        "model {model} is not available on {url}{}",
        available_suffix(available)
    )]
    ModelNotFound {
        /// The model that was asked for.
        model: String,
        /// The server root.
        url: String,
        /// The keys the server does have (bounded list).
        available: Vec<String>,
    },
    /// The model id matches several models only loosely; say which one.
    #[error("model id {model} is ambiguous: it matches {}", candidates.join(", "))]
    AmbiguousModel {
        /// The id that was asked for.
        model: String,
        /// The keys it could mean.
        candidates: Vec<String>,
    },
    /// The configuration cannot be used (bad base URL, bad model id, ...).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A connection broke or the server spoke broken HTTP.
    #[error("transport error talking to {url}: {message}")]
    Transport {
        /// The URL involved.
        url: String,
        /// What broke.
        message: String,
    },
    /// A stream ended before the server said it was done.
    #[error("the stream from {url} ended before [DONE]; the answer is incomplete")]
    StreamEndedEarly {
        /// The streaming URL.
        url: String,
    },
    /// A response was larger than the configured limit.
    #[error("the response from {url} exceeded the {limit}-byte limit")]
    TooLarge {
        /// The URL involved.
        url: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// Running `lms` failed for a reason other than "not found".
    #[error("lms failed: {0}")]
    Lms(#[source] Arc<LmsError>),
}

fn auth_hint(token_env: &str, token_sent: bool) -> String {
    if token_env.is_empty() {
        return if token_sent {
            "The API token given to the client was rejected: create a valid token in LM Studio \
             (Developer > Server Settings > Manage Tokens) and pass it to \
             LMStudioClientBuilder::token."
                .to_owned()
        } else {
            "This server requires an API token: pass one to LMStudioClientBuilder::token, or \
             turn off \"Require Authentication\" in LM Studio's server settings."
                .to_owned()
        };
    }
    if token_sent {
        format!(
            "The API token from the {token_env} environment variable was rejected: create a valid \
             token in LM Studio (Developer > Server Settings > Manage Tokens) and put it in \
             {token_env} ([lmstudio].api_token_env names the variable)."
        )
    } else {
        format!(
            "This server requires an API token: set the {token_env} environment variable \
             ([lmstudio].api_token_env names the variable), or turn off \"Require \
             Authentication\" in LM Studio's server settings."
        )
    }
}

fn format_limit(limit: Duration) -> String {
    if limit.as_millis() < 1000 || limit.subsec_millis() != 0 {
        format!("{} ms", limit.as_millis())
    } else {
        format!("{} s", limit.as_secs())
    }
}

fn available_suffix(available: &[String]) -> String {
    if available.is_empty() {
        "; the server lists no models".to_owned()
    } else {
        format!("; it has: {}", available.join(", "))
    }
}

impl LmStudioError {
    /// The `io::ErrorKind` this error maps to under the seed API's contract.
    pub fn io_kind(&self) -> io::ErrorKind {
        match self {
            Self::NotResponding { timed_out, .. } => {
                if *timed_out {
                    io::ErrorKind::TimedOut
                } else {
                    io::ErrorKind::ConnectionRefused
                }
            }
            Self::LmsNotFound | Self::ModelNotFound { .. } => io::ErrorKind::NotFound,
            Self::InvalidJson { .. } => io::ErrorKind::InvalidData,
            Self::Auth { .. } => io::ErrorKind::PermissionDenied,
            Self::Timeout { .. } => io::ErrorKind::TimedOut,
            Self::Unsupported { .. } => io::ErrorKind::Unsupported,
            Self::Config(_) | Self::AmbiguousModel { .. } => io::ErrorKind::InvalidInput,
            Self::TooLarge { .. } => io::ErrorKind::InvalidData,
            Self::StreamEndedEarly { .. } => io::ErrorKind::UnexpectedEof,
            Self::Lms(err) => match **err {
                // A configured path that does not exist is still "lms not found".
                LmsError::NotFoundAt { .. } => io::ErrorKind::NotFound,
                LmsError::NotExecutable { .. } => io::ErrorKind::PermissionDenied,
                LmsError::InvalidModelArg { .. } | LmsError::InvalidOption { .. } => {
                    io::ErrorKind::InvalidInput
                }
                LmsError::OutputTooLarge { .. } => io::ErrorKind::InvalidData,
                _ => io::ErrorKind::Other,
            },
            Self::DownloadFailed { .. } | Self::Server { .. } | Self::Transport { .. } => {
                io::ErrorKind::Other
            }
        }
    }

    /// True for errors that mean "the server is not there", as opposed to "it said no".
    pub fn is_not_responding(&self) -> bool {
        matches!(self, Self::NotResponding { .. })
    }

    /// The HTTP status the server answered with, when the error came from a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Auth { status, .. } | Self::Server { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Maps a transport error, naming the operation for timeouts and the token variable for
    /// authentication failures.
    pub(crate) fn from_transport(err: TransportError, ctx: &ErrorContext<'_>) -> Self {
        let operation = |method: &str, url: &str| format!("{method} {url}");
        match err {
            TransportError::ConnectRefused { ref url }
            | TransportError::Connect { ref url, .. } => Self::NotResponding {
                url: url.clone(),
                timed_out: false,
                source: Arc::new(err),
            },
            TransportError::ConnectTimeout { ref url, .. } => Self::NotResponding {
                url: url.clone(),
                timed_out: true,
                source: Arc::new(err),
            },
            TransportError::ResponseHeadersTimeout { method, url, limit }
            | TransportError::DeadlineExceeded { method, url, limit } => Self::Timeout {
                operation: operation(&method, &url),
                limit,
            },
            TransportError::IdleTimeout { url, limit } => Self::Timeout {
                operation: format!("waiting for more data from {url}"),
                limit,
            },
            TransportError::BodyTooLarge { url, limit, .. }
            | TransportError::SseEventTooLarge { url, limit } => Self::TooLarge { url, limit },
            TransportError::InvalidJson {
                url,
                status,
                message,
                excerpt,
            } => Self::InvalidJson {
                url,
                detail: format!("{message} (HTTP {status}; body starts: {excerpt:?})"),
            },
            TransportError::InvalidUtf8 { url } => Self::InvalidJson {
                url,
                detail: "a stream event was not valid UTF-8".to_owned(),
            },
            TransportError::Auth {
                status,
                url,
                message,
            } => Self::Auth {
                status,
                url,
                message,
                token_env: ctx.token_env.to_owned(),
                token_sent: ctx.token_sent,
            },
            TransportError::Server {
                status,
                url,
                message,
                ..
            } => Self::Server {
                status,
                url,
                message,
            },
            TransportError::StreamEndedEarly { url } => Self::StreamEndedEarly { url },
            TransportError::Transport { url, message } => Self::Transport { url, message },
            TransportError::InvalidEndpoint(e) => Self::Config(e.to_string()),
            TransportError::Request { message } => Self::Config(message),
            other => Self::Transport {
                url: String::new(),
                message: other.to_string(),
            },
        }
    }

    /// Maps an `lms` error; "not found" keeps the seed's verbatim message.
    pub(crate) fn from_lms(err: LmsError) -> Self {
        match err {
            LmsError::NotFound => Self::LmsNotFound,
            LmsError::InvalidJson {
                command,
                message,
                excerpt,
            } => Self::InvalidJson {
                url: command,
                detail: format!("{message} (output starts: {excerpt:?})"),
            },
            LmsError::Timeout { command, limit } => Self::Timeout {
                operation: command,
                limit,
            },
            other => Self::Lms(Arc::new(other)),
        }
    }
}

impl From<LmStudioError> for io::Error {
    fn from(err: LmStudioError) -> Self {
        io::Error::new(err.io_kind(), err)
    }
}

/// What the error mapping needs to know about the client that made the call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ErrorContext<'a> {
    /// The environment variable that holds the token.
    pub(crate) token_env: &'a str,
    /// Whether the client sends a token.
    pub(crate) token_sent: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbatim_messages() {
        assert_eq!(
            LmStudioError::LmsNotFound.to_string(),
            "LM Studio not found. Please install LM Studio from https://lmstudio.ai/"
        );
        let refused = LmStudioError::from_transport(
            TransportError::ConnectRefused {
                url: "http://127.0.0.1:9".into(),
            },
            &ErrorContext {
                token_env: "LM_API_TOKEN",
                token_sent: false,
            },
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
                status: 401,
                url: "http://127.0.0.1:1234/api/v1/models".into(),
                message: "An LM Studio API token is required".into(),
            },
            &ErrorContext {
                token_env: "MY_TOKEN_VAR",
                token_sent: false,
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
            &ErrorContext {
                token_env: "LM_API_TOKEN",
                token_sent: false,
            },
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
                status: 200,
                message: "expected value at line 1 column 1".into(),
                excerpt: "<html>".into(),
            },
            &ErrorContext {
                token_env: "LM_API_TOKEN",
                token_sent: false,
            },
        );
        assert!(err.to_string().starts_with("JSON parse error: "));
        assert_eq!(err.io_kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn server_errors_keep_status_and_message() {
        let err = LmStudioError::from_transport(
            TransportError::Server {
                status: 500,
                url: "http://h/v1/chat/completions".into(),
                message: "The model has crashed".into(),
                envelope: None,
            },
            &ErrorContext {
                token_env: "LM_API_TOKEN",
                token_sent: false,
            },
        );
        let text = err.to_string();
        assert!(text.contains("500") && text.contains("The model has crashed"));
        assert!(!err.is_not_responding());
        assert_eq!(err.io_kind(), io::ErrorKind::Other);
    }
}
