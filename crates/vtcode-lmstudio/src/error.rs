//! The facade's typed error and its mapping onto `std::io::Error` (the seed API's contract).
//!
//! Every seed function returns `std::io::Result`, built as `io::Error::new(kind, LmStudioError)`
//! so callers can `get_ref()` and downcast to [`LmStudioError`]. The messages of the first
//! variants are part of the public contract and must stay verbatim.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use lmstudio_lms::LmsError;
use lmstudio_transport::Error as TransportError;
use lmstudio_transport::http::StatusCode;

mod map;
mod start;

pub(crate) use map::ErrorContext;
pub use start::ServerStartError;

/// The verbatim message for an unreachable server.
pub const NOT_RESPONDING_MESSAGE: &str = "LM Studio is not responding. Install from https://lmstudio.ai/download and run 'lms server start'.";

/// The verbatim message when the `lms` CLI cannot be found (owned by `lmstudio-lms`).
pub use lmstudio_lms::NOT_FOUND_MESSAGE as LMS_NOT_FOUND_MESSAGE;

/// The cause behind an error, shared so the error stays cheap to clone.
pub type ErrorSource = Arc<dyn StdError + Send + Sync + 'static>;

/// Everything that can go wrong while making a model ready or talking to it.
///
/// Cheap to clone (causes are shared), so one failed download can be reported to every
/// caller that was waiting on it. The cause (the transport's error, the JSON parser's, the
/// `lms` failure) stays reachable through [`std::error::Error::source`] and can be
/// downcast there, e.g. to `lmstudio_transport::Error`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum LmStudioError {
    /// The server could not be reached (refused, unreachable, or connect timeout), and, with
    /// `[lmstudio] auto_start`, could not be started either.
    NotResponding {
        /// The server root that was tried.
        url: String,
        /// True when the connect attempt ran out of time rather than being refused, or an
        /// automatic start ran out of time.
        timed_out: bool,
        /// The transport error behind it.
        source: Arc<TransportError>,
        /// Why an automatic start failed, when one was tried. It is then the error's
        /// `source()` (followed by what `lms` printed); otherwise the transport error is.
        start: Option<Arc<ServerStartError>>,
    },
    /// The `lms` CLI was needed but is not installed where we looked.
    LmsNotFound,
    /// A body was not the JSON we expected.
    InvalidJson {
        /// Where the body came from (URL or command).
        url: String,
        /// The parser's message plus a bounded excerpt of the body.
        detail: String,
        /// The error behind it, when there is one.
        source: Option<ErrorSource>,
    },
    /// A download failed (REST job failure or a non-zero `lms get`).
    DownloadFailed {
        /// The model that was being downloaded.
        model: String,
        /// What failed: the job's error, or `lms`'s exit status and last stderr lines.
        detail: String,
        /// The error behind it, when there is one.
        source: Option<ErrorSource>,
    },
    /// The server rejected our credentials (HTTP 401/403).
    Auth {
        /// HTTP status (401 or 403).
        status: StatusCode,
        /// The URL that was refused.
        url: String,
        /// The server's own message (never contains our token).
        message: String,
        /// The environment variable that holds the token (empty when the token was given
        /// in code).
        token_env: String,
        /// Whether a token was sent at all.
        token_sent: bool,
        /// The transport error behind it.
        source: Option<ErrorSource>,
    },
    /// An operation ran out of time.
    Timeout {
        /// What was being done, e.g. `POST /api/v1/models/load`.
        operation: String,
        /// The limit that was exceeded.
        limit: Duration,
        /// The error behind it, when there is one.
        source: Option<ErrorSource>,
    },
    /// The server answered with an error (any status, including 200 with an error body).
    Server {
        /// HTTP status; 200 when the error came in a 200 body or mid-stream.
        status: StatusCode,
        /// The URL that failed.
        url: String,
        /// The server's own message.
        message: String,
        /// The transport error behind it (with the parsed envelope), when there is one.
        source: Option<ErrorSource>,
    },
    /// The server is not LM Studio (or too old) and cannot do what was asked.
    Unsupported {
        /// What was asked, e.g. `download_model`.
        operation: String,
        /// The server root.
        url: String,
        /// Why, and what to do instead.
        reason: String,
    },
    /// The model is not on the server (and was not downloaded by this call).
    ModelNotFound {
        /// The model that was asked for.
        model: String,
        /// The server root.
        url: String,
        /// The keys the server does have (bounded list).
        available: Vec<String>,
    },
    /// The model id matches several models only loosely; say which one.
    AmbiguousModel {
        /// The id that was asked for.
        model: String,
        /// The keys it could mean.
        candidates: Vec<String>,
    },
    /// The configuration cannot be used (bad base URL, bad model id, ...).
    Config(String),
    /// A connection broke or the server spoke broken HTTP.
    Transport {
        /// The URL involved.
        url: String,
        /// What broke.
        message: String,
        /// The error behind it, when there is one.
        source: Option<ErrorSource>,
    },
    /// A stream ended before the server said it was done.
    StreamEndedEarly {
        /// The streaming URL.
        url: String,
    },
    /// A response was larger than the configured limit.
    TooLarge {
        /// The URL involved.
        url: String,
        /// The limit in bytes.
        limit: usize,
        /// The transport error behind it.
        source: Option<ErrorSource>,
    },
    /// Running `lms` failed for a reason other than "not found".
    Lms(Arc<LmsError>),
    /// The prompt is longer than the context the model is loaded with (HTTP 400, or an error
    /// inside a stream). The server's message is kept; the numbers are read from it when it
    /// has them.
    ContextOverflow {
        /// Tokens in the prompt, when the server said.
        prompt_tokens: Option<u32>,
        /// The context the model is loaded with, when the server said.
        context_length: Option<u32>,
        /// The largest context the model supports, from the model list, when known.
        max_context_length: Option<u32>,
        /// The model the request named.
        model: String,
        /// The HTTP status (200 when the error came inside a stream).
        status: StatusCode,
        /// The URL of the request.
        url: String,
        /// The server's own message.
        message: String,
        /// The transport error behind it.
        source: Option<ErrorSource>,
    },
    /// LM Studio refused one of a Responses request's tools: it accepts `function` and `mcp`
    /// tools only (HTTP 400 `invalid_union_discriminator` with `param: "tools.N.type"`). The
    /// tool is named from the request; [`crate::strip_unsupported_tools`] removes such tools.
    UnsupportedTool {
        /// The tool's position in the request's `tools`.
        index: usize,
        /// The tool's `type`, from the request.
        tool_type: String,
        /// The tool's name (a function's `name`, an MCP server's `server_label`), when it
        /// has one.
        tool_name: Option<String>,
        /// The HTTP status (400).
        status: StatusCode,
        /// The URL of the request.
        url: String,
        /// The server's own message.
        message: String,
        /// The transport error behind it.
        source: Option<ErrorSource>,
    },
    /// The task running a shared download, load or model-list read stopped without a result
    /// (it panicked). Trying again starts it afresh.
    Interrupted {
        /// What was running: the model (or catalog generation) it was for.
        operation: String,
    },
}

impl fmt::Display for LmStudioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotResponding { .. } => f.write_str(NOT_RESPONDING_MESSAGE),
            Self::LmsNotFound => f.write_str(LMS_NOT_FOUND_MESSAGE),
            Self::InvalidJson { url, detail, .. } => {
                write!(f, "JSON parse error: {detail} (from {url})")
            }
            Self::DownloadFailed { model, detail, .. } => {
                write!(f, "downloading {model} failed: {detail}")
            }
            Self::Auth {
                status,
                url,
                message,
                token_env,
                token_sent,
                ..
            } => write!(
                f,
                "LM Studio rejected the request to {url} (HTTP {}): {message}. {}",
                status.as_u16(),
                auth_hint(token_env, *token_sent)
            ),
            Self::Timeout {
                operation, limit, ..
            } => write!(f, "{operation} timed out after {}", format_limit(*limit)),
            Self::Server {
                status,
                url,
                message,
                ..
            } => write!(
                f,
                "server error from {url} (HTTP {}): {message}",
                status.as_u16()
            ),
            Self::Unsupported {
                operation,
                url,
                reason,
            } => write!(
                f,
                "{operation} is not supported by the server at {url}: {reason}"
            ),
            Self::ModelNotFound {
                model,
                url,
                available,
            } => write!(
                f,
                "model {model} is not available on {url}{}",
                available_suffix(available)
            ),
            Self::AmbiguousModel { model, candidates } => write!(
                f,
                "model id {model} is ambiguous: it matches {}",
                candidates.join(", ")
            ),
            Self::Config(message) => write!(f, "invalid configuration: {message}"),
            Self::Transport { url, message, .. } => {
                write!(f, "transport error talking to {url}: {message}")
            }
            Self::StreamEndedEarly { url } => write!(
                f,
                "the stream from {url} ended before its final event; the answer is incomplete"
            ),
            Self::TooLarge { url, limit, .. } => {
                write!(f, "the response from {url} exceeded the {limit}-byte limit")
            }
            Self::Lms(err) => write!(f, "lms failed: {err}"),
            Self::ContextOverflow {
                prompt_tokens,
                context_length,
                max_context_length,
                model,
                message,
                ..
            } => {
                f.write_str("the prompt")?;
                if let Some(tokens) = prompt_tokens {
                    write!(f, " ({tokens} tokens)")?;
                }
                f.write_str(" is longer than the context ")?;
                f.write_str(model)?;
                f.write_str(" is loaded with")?;
                if let Some(tokens) = context_length {
                    write!(f, " ({tokens} tokens)")?;
                }
                write!(
                    f,
                    ": {message}. Shorten the input, or load the model with a larger context length ([lmstudio] context_length, or LoadOptions::with_context_length)"
                )?;
                match max_context_length {
                    Some(max) => write!(f, "; it supports up to {max} tokens"),
                    None => Ok(()),
                }
            }
            Self::UnsupportedTool {
                index,
                tool_type,
                tool_name,
                status,
                url,
                message,
                ..
            } => {
                write!(
                    f,
                    "the server at {url} refused tool {index} of the request (type `{tool_type}`"
                )?;
                if let Some(name) = tool_name {
                    write!(f, ", name `{name}`")?;
                }
                write!(
                    f,
                    "): LM Studio accepts only `function` and `mcp` tools; remove the others \
                     (vtcode_lmstudio::strip_unsupported_tools does). The server said (HTTP {}): \
                     {message}",
                    status.as_u16()
                )
            }
            Self::Interrupted { operation } => write!(
                f,
                "the task running the operation for {operation} stopped without a result; try again"
            ),
        }
    }
}

impl StdError for LmStudioError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::NotResponding {
                start: Some(start), ..
            } => Some(&**start),
            Self::NotResponding { source, .. } => Some(&**source),
            Self::InvalidJson { source, .. }
            | Self::DownloadFailed { source, .. }
            | Self::Auth { source, .. }
            | Self::Timeout { source, .. }
            | Self::Server { source, .. }
            | Self::Transport { source, .. }
            | Self::TooLarge { source, .. }
            | Self::ContextOverflow { source, .. }
            | Self::UnsupportedTool { source, .. } => source.as_deref().map(|e| e as _),
            Self::Lms(err) => Some(&**err),
            Self::LmsNotFound
            | Self::Unsupported { .. }
            | Self::ModelNotFound { .. }
            | Self::AmbiguousModel { .. }
            | Self::Config(_)
            | Self::StreamEndedEarly { .. }
            | Self::Interrupted { .. } => None,
        }
    }
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

pub(crate) fn format_limit(limit: Duration) -> String {
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
            Self::Interrupted { .. } => io::ErrorKind::Interrupted,
            Self::ContextOverflow { .. } | Self::UnsupportedTool { .. } => {
                io::ErrorKind::InvalidInput
            }
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

    /// Why `[lmstudio] auto_start` could not start the server, when that is what failed.
    pub fn server_start_error(&self) -> Option<&ServerStartError> {
        match self {
            Self::NotResponding {
                start: Some(start), ..
            } => Some(start),
            _ => None,
        }
    }

    /// True when no connection could be made: refused, unreachable, or a connect timeout
    /// (the same errors as [`is_not_responding`](Self::is_not_responding)).
    pub fn is_connect(&self) -> bool {
        self.is_not_responding()
    }

    /// True when a time limit ran out: connecting, waiting for an answer, a stalled stream,
    /// a load, a download or an `lms` command.
    pub fn is_timeout(&self) -> bool {
        match self {
            Self::Timeout { .. } => true,
            Self::NotResponding { timed_out, .. } => *timed_out,
            Self::Lms(err) => err.is_timeout(),
            _ => false,
        }
    }

    /// True when the prompt was longer than the context the model is loaded with.
    pub fn is_context_overflow(&self) -> bool {
        matches!(self, Self::ContextOverflow { .. })
    }

    /// True when the server rejected the token (HTTP 401 or 403).
    pub fn is_auth(&self) -> bool {
        matches!(self, Self::Auth { .. })
    }

    /// True when what was asked for does not exist: the model on the server, the `lms`
    /// CLI, or a route or resource the server answered 404 for.
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::ModelNotFound { .. } | Self::LmsNotFound => true,
            Self::Server { status, .. } => *status == StatusCode::NOT_FOUND,
            Self::Lms(err) => matches!(**err, LmsError::NotFoundAt { .. }),
            _ => false,
        }
    }

    /// The HTTP status the server answered with, when the error came from a response.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Auth { status, .. }
            | Self::Server { status, .. }
            | Self::ContextOverflow { status, .. }
            | Self::UnsupportedTool { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl From<LmStudioError> for io::Error {
    fn from(err: LmStudioError) -> Self {
        io::Error::new(err.io_kind(), err)
    }
}
