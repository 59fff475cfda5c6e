//! The configuration error type and the file positions its messages point at.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// A position in a configuration file: the file, a 1-based line and a 1-based column
/// (counted in characters). Displays as `path:line:column`, the form editors and terminals link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The configuration file.
    pub path: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters (not bytes).
    pub column: usize,
}

impl Location {
    /// The location of byte `offset` of `text`, read from `path`. An offset past the end (or
    /// inside a multi-byte character) is clamped to the nearest earlier character boundary.
    pub fn from_offset(path: impl Into<PathBuf>, text: &str, offset: usize) -> Self {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Self {
            path: path.into(),
            line,
            column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.path.display(), self.line, self.column)
    }
}

/// Where an invalid value came from, for [`ConfigError::InvalidValue`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// A key in the configuration file.
    File(Location),
    /// A [`VTCodeConfig`](crate::VTCodeConfig) built or changed in code, checked with
    /// [`VTCodeConfig::validate`](crate::VTCodeConfig::validate).
    Code,
    /// An environment variable that overrides a key (`LMSTUDIO_START_TIMEOUT_MS`).
    Env(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(location) => location.fmt(f),
            Self::Code => f.write_str("VTCodeConfig (built in code)"),
            Self::Env(var) => write!(f, "environment variable `{var}`"),
        }
    }
}

/// Everything that can go wrong while loading or validating the configuration.
///
/// Every message names what to fix: the file, the line and column, the dotted key
/// (`lmstudio.connect_timeout_ms`) or the environment variable. No message ever contains a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The workspace directory passed to the loader does not exist or is not a directory.
    #[error(
        "workspace directory {} cannot be used: {source}. Pass an existing directory (the one that holds vtcode.toml, or \".\")",
        dir.display()
    )]
    Workspace {
        /// The directory that was passed.
        dir: PathBuf,
        /// Why it cannot be used.
        #[source]
        source: io::Error,
    },

    /// The configuration file exists but cannot be read.
    #[error(
        "cannot read config file {}: {source}. Fix its permissions or remove it to use the defaults",
        path.display()
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },

    /// The configuration file is larger than any sensible configuration.
    #[error(
        "config file {} is {size} bytes; the limit is {limit} bytes. Is this really a vtcode.toml?",
        path.display()
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },

    /// The file is not valid UTF-8 or not valid TOML.
    #[error("{location}: malformed TOML: {message}. Fix the syntax at this line and column")]
    Syntax {
        /// Where the parser stopped.
        location: Location,
        /// The parser's description of the problem.
        message: String,
    },

    /// A key holds a value of the wrong TOML type (a string where a number is expected, ...).
    #[error("{location}: `{key}` must be {expected}, but found {found}")]
    WrongType {
        /// Where the value is.
        location: Location,
        /// The dotted key, e.g. `lmstudio.connect_timeout_ms`.
        key: String,
        /// What the key accepts, e.g. `an integer number of milliseconds (e.g. 5000)`.
        expected: &'static str,
        /// The TOML type found, with its article, e.g. `a string`.
        found: &'static str,
    },

    /// A key has a value of the right type that is not allowed (zero timeout, unknown preload
    /// mode, empty string, ...).
    #[error("{origin}: invalid `{key}`: {message}")]
    InvalidValue {
        /// The file position, or [`Origin::Code`].
        origin: Origin,
        /// The dotted key, e.g. `lmstudio.preload`.
        key: String,
        /// What is wrong and what is accepted.
        message: String,
    },

    /// The file contains `lmstudio.api_token`. Tokens belong in the environment, not in a file
    /// that is easily committed.
    #[error(
        "{location}: `lmstudio.api_token` is not allowed in the config file (secrets in a repository file leak easily). Remove it and set the environment variable `{env_var}` instead (its name is set by `lmstudio.api_token_env`)"
    )]
    TokenInFile {
        /// Where the key is.
        location: Location,
        /// The environment variable that should hold the token.
        env_var: String,
    },

    /// An environment variable the loader reads holds bytes that are not UTF-8.
    #[error("environment variable `{var}` is not valid UTF-8. Set it to a UTF-8 value or unset it")]
    EnvNotUnicode {
        /// The variable's name.
        var: String,
    },
}

/// For callers in `std::io::Result` code (like the facade's seed API): the kind is the I/O
/// error's own for [`ConfigError::Read`] and [`ConfigError::Workspace`], else `InvalidData`.
/// The `ConfigError` stays inside: `get_ref()` and downcast to get it back.
impl From<ConfigError> for io::Error {
    fn from(err: ConfigError) -> Self {
        let kind = match &err {
            ConfigError::Read { source, .. } | ConfigError::Workspace { source, .. } => {
                source.kind()
            }
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, err)
    }
}

/// The TOML type name of a value, with its article, for [`ConfigError::WrongType`].
pub(crate) fn article_type(type_str: &str) -> &'static str {
    match type_str {
        "string" => "a string",
        "integer" => "an integer",
        "float" => "a float",
        "boolean" => "a boolean",
        "datetime" => "a datetime",
        "array" => "an array",
        "table" => "a table",
        _ => "a value of another type",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_counts_lines_and_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        let at = |offset| {
            let l = Location::from_offset("f.toml", text, offset);
            (l.line, l.column)
        };
        assert_eq!(at(0), (1, 1));
        assert_eq!(at(4), (1, 5));
        assert_eq!(at(6), (2, 1));
        // "bé" is 3 bytes: the '=' after "bé " is character 4 of line 2.
        assert_eq!(at(10), (2, 4));
        // Inside the two-byte 'é': clamped back to its start.
        assert_eq!(at(8), (2, 2));
        assert_eq!(at(1000), (3, 1));
    }

    #[test]
    fn converts_to_io_error_keeping_the_typed_error() {
        let err = ConfigError::EnvNotUnicode { var: "X".into() };
        let io_err = io::Error::from(err);
        assert_eq!(io_err.kind(), io::ErrorKind::InvalidData);
        let inner = io_err
            .get_ref()
            .and_then(|e| e.downcast_ref::<ConfigError>());
        assert!(matches!(inner, Some(ConfigError::EnvNotUnicode { .. })));
    }

    #[test]
    fn errors_are_send_sync_static() {
        fn check<T: std::error::Error + Send + Sync + 'static>() {}
        check::<ConfigError>();
    }
}
