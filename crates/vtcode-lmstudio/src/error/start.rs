//! [`ServerStartError`]: why `[lmstudio] auto_start` could not start the local server. It is
//! the `source()` of the "LM Studio is not responding" error such a failure gives.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use super::{ErrorSource, format_limit};

/// Why an automatic start of the local LM Studio server failed. Reached through
/// [`std::error::Error::source`] of [`LmStudioError::NotResponding`](crate::LmStudioError::NotResponding)
/// (and its `start` field); its own `source()` is what `lms` said, when it said something.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ServerStartError {
    /// `lms` is needed to start the server, and it was not found or cannot be run.
    NoLms {
        /// The port the server was to be started on.
        port: u16,
        /// Why `lms` is not usable (e.g. "LM Studio not found. …").
        source: ErrorSource,
    },
    /// `lms server start` failed. The source is the `lmstudio_lms::LmsError` with its exit
    /// code and the last lines it printed.
    Failed {
        /// The port the server was to be started on.
        port: u16,
        /// The command that was run, e.g. `lms server start --port 1234`.
        command: String,
        /// What `lms` said.
        source: ErrorSource,
    },
    /// The server did not answer `GET /lmstudio-greeting` within `[lmstudio]
    /// start_timeout_ms` (`lms` was stopped if it was still running).
    TimedOut {
        /// The port the server was to be started on.
        port: u16,
        /// The limit (`[lmstudio] start_timeout_ms`).
        limit: Duration,
        /// The last problem seen: `lms` still running, or the last greeting's error.
        source: Option<ErrorSource>,
    },
}

impl ServerStartError {
    /// The port the server was to be started on.
    pub fn port(&self) -> u16 {
        match self {
            Self::NoLms { port, .. } | Self::Failed { port, .. } | Self::TimedOut { port, .. } => {
                *port
            }
        }
    }

    /// True when the start ran out of time.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::TimedOut { .. })
    }
}

impl fmt::Display for ServerStartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoLms { port, .. } => write!(
                f,
                "[lmstudio] auto_start could not start the server on port {port}: the lms CLI \
                 is not usable"
            ),
            Self::Failed { port, command, .. } => write!(
                f,
                "[lmstudio] auto_start ran `{command}`, which did not start the server on port \
                 {port}"
            ),
            Self::TimedOut { port, limit, .. } => write!(
                f,
                "[lmstudio] auto_start: the server on port {port} did not answer GET \
                 /lmstudio-greeting within {} ([lmstudio] start_timeout_ms)",
                format_limit(*limit)
            ),
        }
    }
}

impl StdError for ServerStartError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::NoLms { source, .. } | Self::Failed { source, .. } => Some(&**source),
            Self::TimedOut { source, .. } => source.as_deref().map(|e| e as _),
        }
    }
}
