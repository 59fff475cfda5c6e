//! `ApiToken`: a bearer token that never shows up in `Debug` or `Display` output.

use std::fmt;

/// The LM Studio API token (sent as `Authorization: Bearer <token>`).
///
/// `Debug` prints `ApiToken(<redacted>)` and `Display` prints `<redacted>`, so a token cannot leak
/// through logs, error messages or `{:?}` of a config. Only [`ApiToken::expose`] returns it.
///
/// ```
/// use vtcode_config::ApiToken;
///
/// let token = ApiToken::new("sk-lm-secret");
/// assert_eq!(format!("{token:?}"), "ApiToken(<redacted>)");
/// assert_eq!(token.to_string(), "<redacted>");
/// assert_eq!(token.expose(), "sk-lm-secret");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token itself. Call this only where the token is sent, never to log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

impl fmt::Display for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for ApiToken {
    fn from(token: String) -> Self {
        Self(token)
    }
}

impl From<&str> for ApiToken {
    fn from(token: &str) -> Self {
        Self(token.to_owned())
    }
}
