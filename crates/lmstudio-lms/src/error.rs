//! The typed error every `lms` operation returns.

use std::path::PathBuf;
use std::time::Duration;

use crate::discovery::DiscoverySource;

/// The exact message shown when no `lms` executable can be found (part of the contract). This
/// crate owns the text; crates above it re-export this constant rather than copy it.
pub const NOT_FOUND_MESSAGE: &str =
    "LM Studio not found. Please install LM Studio from https://lmstudio.ai/";

/// Everything that can go wrong while finding or running `lms`.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum LmsError {
    /// No `lms` executable was found by any discovery step.
    #[error("{}", NOT_FOUND_MESSAGE)]
    NotFound,

    /// A path that was asked for explicitly (configuration or `LMSTUDIO_LMS_PATH`) does not exist.
    ///
    /// Kept apart from [`LmsError::NotFound`] so a typo in a configured path is not silently
    /// replaced by another `lms` found on `PATH`.
    #[error(
        "lms not found at {} (given by {from}); fix or remove that setting to search PATH and LM Studio's home",
        path.display()
    )]
    NotFoundAt {
        /// The path that was given.
        path: PathBuf,
        /// Where the path came from.
        from: DiscoverySource,
    },

    /// The path exists but cannot be executed (a directory, or no execute permission bits).
    #[error("{} exists but is not executable (check that it is the lms binary and has execute permission)", path.display())]
    NotExecutable {
        /// The offending path.
        path: PathBuf,
    },

    /// A model argument was refused before anything was run.
    #[error("invalid model argument {arg:?}: {reason}")]
    InvalidModelArg {
        /// The argument as given.
        arg: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// A `load` option was refused before anything was run.
    #[error("invalid value {value:?} for {option}: {reason}")]
    InvalidOption {
        /// The flag (`-c`, `--ttl`, `--gpu`).
        option: &'static str,
        /// The value as given.
        value: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// The operating system could not start the process.
    #[error("could not run {}: {source}", path.display())]
    Spawn {
        /// The executable that was run.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// The command ran and failed (non-zero exit code or killed by a signal).
    #[error(
        "`{command}` failed with {status}; stderr: {}",
        tail_or_none(stderr_tail)
    )]
    Failed {
        /// The command line, for messages (`lms get --yes openai/gpt-oss-20b`).
        command: String,
        /// `exit code N` or `signal N`.
        status: String,
        /// The last lines the command wrote to stderr (ANSI escapes removed, bounded).
        stderr_tail: String,
    },

    /// The command did not finish in time; it was killed and reaped.
    #[error("`{command}` timed out after {limit:?} (the process was stopped)")]
    Timeout {
        /// The command line.
        command: String,
        /// The limit that was exceeded.
        limit: Duration,
    },

    /// The command printed something that is not the JSON expected.
    #[error(
        "JSON parse error: `{command}` printed output that could not be read: {message} (output starts: {excerpt:?})"
    )]
    InvalidJson {
        /// The command line.
        command: String,
        /// The parser's message.
        message: String,
        /// The start of the output (at most 256 characters).
        excerpt: String,
    },

    /// The command printed more on stdout than the limit allows; it was killed and reaped.
    #[error("`{command}` printed more than {limit} bytes on stdout (the process was stopped)")]
    OutputTooLarge {
        /// The command line.
        command: String,
        /// The limit in bytes.
        limit: usize,
    },

    /// Reading the command's output or waiting for it failed.
    #[error("I/O error while running `{command}`: {source}")]
    Io {
        /// The command line.
        command: String,
        /// The underlying error.
        source: std::io::Error,
    },

    /// A text command (`lms load --estimate-only`) printed something that is not the output
    /// expected: a line missing, or a value that cannot be read.
    #[error(
        "`{command}` printed output that could not be read: {message} (output starts: {excerpt:?})"
    )]
    InvalidOutput {
        /// The command line.
        command: String,
        /// What was wrong.
        message: String,
        /// The start of the output (ANSI escapes removed, at most 256 characters).
        excerpt: String,
    },
}

fn tail_or_none(tail: &str) -> &str {
    if tail.trim().is_empty() {
        "(nothing)"
    } else {
        tail
    }
}

impl LmsError {
    /// True for [`LmsError::NotFound`] and [`LmsError::NotFoundAt`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound | Self::NotFoundAt { .. })
    }

    /// True for [`LmsError::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_message_is_exact() {
        assert_eq!(LmsError::NotFound.to_string(), NOT_FOUND_MESSAGE);
    }

    #[test]
    fn failed_message_has_status_and_tail() {
        let err = LmsError::Failed {
            command: "lms get --yes x/y".into(),
            status: "exit code 1".into(),
            stderr_tail: "Error: boom".into(),
        };
        let text = err.to_string();
        assert!(text.contains("exit code 1"), "{text}");
        assert!(text.contains("Error: boom"), "{text}");
        let empty = LmsError::Failed {
            command: "lms ls --json".into(),
            status: "signal 9".into(),
            stderr_tail: String::new(),
        };
        assert!(empty.to_string().contains("(nothing)"));
    }

    #[test]
    fn invalid_json_message_starts_with_contract_prefix() {
        let err = LmsError::InvalidJson {
            command: "lms ls --json".into(),
            message: "expected value".into(),
            excerpt: "nope".into(),
        };
        assert!(err.to_string().starts_with("JSON parse error: "));
    }
}
