//! The configuration types: `VTCodeConfig`, its `[agent]` and `[lmstudio]` sections, defaults.

use std::fmt;
use std::path::PathBuf;

use crate::error::{ConfigError, Origin};
use crate::secret::ApiToken;

/// Default `agent.provider`.
pub const DEFAULT_PROVIDER: &str = "lmstudio";
/// Default `lmstudio.api_token_env`: the environment variable that holds the API token.
pub const DEFAULT_API_TOKEN_ENV: &str = "LM_API_TOKEN";
/// Default `lmstudio.connect_timeout_ms` (5 s).
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 5_000;
/// Default `lmstudio.response_headers_timeout_ms` (30 s).
pub const DEFAULT_RESPONSE_HEADERS_TIMEOUT_MS: u64 = 30_000;
/// Default `lmstudio.idle_timeout_ms` (120 s).
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 120_000;
/// Default `lmstudio.request_timeout_ms` (120 s).
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 120_000;
/// Default `lmstudio.load_timeout_ms` (10 min).
pub const DEFAULT_LOAD_TIMEOUT_MS: u64 = 600_000;
/// Default `lmstudio.start_timeout_ms` (90 s): `lms server start` may take up to a minute
/// to wake LM Studio before its server answers.
pub const DEFAULT_START_TIMEOUT_MS: u64 = 90_000;
/// Default `lmstudio.max_body_bytes` (32 MiB).
pub const DEFAULT_MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;

/// The whole configuration: `vtcode.toml` merged with the environment and the defaults.
///
/// Build one in code with [`Default`] and the `with_*` helpers, or load one with
/// [`ConfigManager`](crate::ConfigManager):
///
/// ```
/// use vtcode_config::{PreloadMode, VTCodeConfig};
///
/// let config = VTCodeConfig::lmstudio_at("http://127.0.0.1:1234")
///     .with_default_model("qwen/qwen3-4b")
///     .with_preload(PreloadMode::Wait);
/// assert_eq!(config.lmstudio.base_url.as_deref(), Some("http://127.0.0.1:1234"));
/// assert_eq!(config.agent.provider, "lmstudio");
/// config.validate()?;
/// # Ok::<(), vtcode_config::ConfigError>(())
/// ```
///
/// `Debug` never shows the API token, and shows only the *names* of unknown keys.
#[derive(Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct VTCodeConfig {
    /// The `[agent]` section.
    pub agent: AgentConfig,
    /// The `[lmstudio]` section.
    pub lmstudio: LmStudioConfig,
    /// Top-level keys and tables this crate does not know, kept as written.
    pub extra: toml::Table,
}

impl VTCodeConfig {
    /// The default configuration with `lmstudio.base_url` set to `url`.
    pub fn lmstudio_at(url: impl Into<String>) -> Self {
        Self::default().with_base_url(url)
    }

    /// Sets `lmstudio.base_url`.
    #[must_use]
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.lmstudio.base_url = Some(url.into());
        self
    }

    /// Sets `agent.default_model`.
    #[must_use]
    pub fn with_default_model(mut self, model: impl Into<String>) -> Self {
        self.agent.default_model = Some(model.into());
        self
    }

    /// Sets `agent.provider`.
    #[must_use]
    pub fn with_provider(mut self, provider: impl Into<String>) -> Self {
        self.agent.provider = provider.into();
        self
    }

    /// Sets the API token.
    #[must_use]
    pub fn with_api_token(mut self, token: impl Into<ApiToken>) -> Self {
        self.lmstudio.api_token = Some(token.into());
        self
    }

    /// Sets `lmstudio.lms_path`.
    #[must_use]
    pub fn with_lms_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.lmstudio.lms_path = Some(path.into());
        self
    }

    /// Sets `lmstudio.preload`.
    #[must_use]
    pub fn with_preload(mut self, preload: PreloadMode) -> Self {
        self.lmstudio.preload = preload;
        self
    }

    /// Sets `lmstudio.context_length`.
    #[must_use]
    pub fn with_context_length(mut self, context_length: u32) -> Self {
        self.lmstudio.context_length = Some(context_length);
        self
    }

    /// Sets `lmstudio.auto_start`.
    #[must_use]
    pub fn with_auto_start(mut self, auto_start: bool) -> Self {
        self.lmstudio.auto_start = auto_start;
        self
    }

    /// Checks the rules the file loader enforces (non-zero timeouts and sizes, non-empty strings,
    /// a usable `api_token_env` name) on a config built or changed in code. Errors carry
    /// [`Origin::Code`]. A config returned by [`ConfigManager`](crate::ConfigManager) always
    /// passes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::InvalidValue {
            origin: Origin::Code,
            key: key.to_owned(),
            message,
        };
        check_non_empty(&self.agent.provider).map_err(|m| invalid("agent.provider", m))?;
        if let Some(model) = &self.agent.default_model {
            check_non_empty(model).map_err(|m| invalid("agent.default_model", m))?;
        }
        let lm = &self.lmstudio;
        if let Some(url) = &lm.base_url {
            check_non_empty(url).map_err(|m| invalid("lmstudio.base_url", m))?;
        }
        check_env_name(&lm.api_token_env).map_err(|m| invalid("lmstudio.api_token_env", m))?;
        let positives = [
            ("lmstudio.connect_timeout_ms", Some(lm.connect_timeout_ms)),
            (
                "lmstudio.response_headers_timeout_ms",
                Some(lm.response_headers_timeout_ms),
            ),
            ("lmstudio.idle_timeout_ms", Some(lm.idle_timeout_ms)),
            ("lmstudio.request_timeout_ms", Some(lm.request_timeout_ms)),
            ("lmstudio.load_timeout_ms", Some(lm.load_timeout_ms)),
            ("lmstudio.start_timeout_ms", Some(lm.start_timeout_ms)),
            ("lmstudio.download_timeout_ms", lm.download_timeout_ms),
            ("lmstudio.max_body_bytes", Some(lm.max_body_bytes)),
            ("lmstudio.context_length", lm.context_length.map(u64::from)),
            ("lmstudio.ttl_seconds", lm.ttl_seconds),
        ];
        for (key, value) in positives {
            if value == Some(0) {
                return Err(invalid(key, zero_message(key, false)));
            }
        }
        if let Some(path) = &lm.lms_path
            && path.as_os_str().is_empty()
        {
            return Err(invalid(
                "lmstudio.lms_path",
                "must not be empty; set it to None to search for `lms`".to_owned(),
            ));
        }
        Ok(())
    }
}

/// The `[agent]` section.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct AgentConfig {
    /// The model provider. Default `"lmstudio"`; env `VTCODE_PROVIDER` overrides.
    pub provider: String,
    /// The model to make ready. `None` lets the caller choose (the facade uses its own default).
    pub default_model: Option<String>,
    /// Keys of `[agent]` this crate does not know, kept as written.
    pub extra: toml::Table,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            provider: DEFAULT_PROVIDER.to_owned(),
            default_model: None,
            extra: toml::Table::new(),
        }
    }
}

/// The `[lmstudio]` section: where the server is, how to authenticate, limits and load policy.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct LmStudioConfig {
    /// Server URL (with or without `/v1`). `None` = the caller's default (`http://localhost:1234`).
    /// Env `LMSTUDIO_URL` overrides.
    pub base_url: Option<String>,
    /// Name of the environment variable that holds the API token. Default `LM_API_TOKEN`.
    pub api_token_env: String,
    /// The API token: only from the environment variable named by `api_token_env`, or set in
    /// code. Never read from the file.
    pub api_token: Option<ApiToken>,
    /// Time allowed to open a TCP connection, in milliseconds. Default 5000.
    pub connect_timeout_ms: u64,
    /// Time allowed from sending a request to receiving the response headers, in milliseconds.
    /// Default 30000.
    pub response_headers_timeout_ms: u64,
    /// Longest silence allowed between body chunks (streams), in milliseconds. Default 120000.
    pub idle_timeout_ms: u64,
    /// Total deadline of one non-streaming request, in milliseconds. Default 120000.
    pub request_timeout_ms: u64,
    /// Time allowed for loading a model, in milliseconds. Default 600000.
    pub load_timeout_ms: u64,
    /// Time allowed for a download, in milliseconds. `None` (the default) = no limit.
    pub download_timeout_ms: Option<u64>,
    /// Largest response body accepted, in bytes. Default 32 MiB.
    pub max_body_bytes: u64,
    /// Path of the `lms` CLI. `None` = discover it. Env `LMSTUDIO_LMS_PATH` overrides.
    pub lms_path: Option<PathBuf>,
    /// What readiness does about loading the model. Default [`PreloadMode::Background`].
    pub preload: PreloadMode,
    /// Context length to load the model with. `None` = the server's choice.
    pub context_length: Option<u32>,
    /// Idle time-to-live of a loaded model, in seconds. `None` = the server's choice.
    pub ttl_seconds: Option<u64>,
    /// Start a local LM Studio server that refuses connections (`lms server start --port
    /// <port>`), once, before the readiness flow goes on. Default `false`: nothing ever starts
    /// LM Studio. Only for a loopback URL, and only when `lms` is found. Env
    /// `LMSTUDIO_AUTO_START` overrides.
    pub auto_start: bool,
    /// Time allowed for an automatic start, from running `lms server start` until the server
    /// answers, in milliseconds. Default 90000. Env `LMSTUDIO_START_TIMEOUT_MS` overrides.
    pub start_timeout_ms: u64,
    /// Keys of `[lmstudio]` this crate does not know, kept as written.
    pub extra: toml::Table,
}

impl Default for LmStudioConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            api_token_env: DEFAULT_API_TOKEN_ENV.to_owned(),
            api_token: None,
            connect_timeout_ms: DEFAULT_CONNECT_TIMEOUT_MS,
            response_headers_timeout_ms: DEFAULT_RESPONSE_HEADERS_TIMEOUT_MS,
            idle_timeout_ms: DEFAULT_IDLE_TIMEOUT_MS,
            request_timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS,
            load_timeout_ms: DEFAULT_LOAD_TIMEOUT_MS,
            download_timeout_ms: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            lms_path: None,
            preload: PreloadMode::default(),
            context_length: None,
            ttl_seconds: None,
            auto_start: false,
            start_timeout_ms: DEFAULT_START_TIMEOUT_MS,
            extra: toml::Table::new(),
        }
    }
}

/// What the readiness flow does when the model is downloaded but not loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PreloadMode {
    /// Start loading in the background and return at once (`"background"`, the default).
    #[default]
    Background,
    /// Load and wait until the model is loaded (`"wait"`).
    Wait,
    /// Do not load; the server loads on first use, if it can (`"off"`).
    Off,
}

impl PreloadMode {
    /// The values `lmstudio.preload` accepts, in the order they are documented.
    pub const VALID: [&'static str; 3] = ["background", "wait", "off"];

    /// The name used in `vtcode.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Background => "background",
            Self::Wait => "wait",
            Self::Off => "off",
        }
    }

    /// Parses a `vtcode.toml` name (ASCII case-insensitive). `None` for anything else.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Background, Self::Wait, Self::Off]
            .into_iter()
            .find(|mode| mode.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for PreloadMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Shows the names of unknown keys, never their values (they may hold secrets).
struct ExtraKeys<'a>(&'a toml::Table);

impl fmt::Debug for ExtraKeys<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl fmt::Debug for VTCodeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VTCodeConfig")
            .field("agent", &self.agent)
            .field("lmstudio", &self.lmstudio)
            .field("extra", &ExtraKeys(&self.extra))
            .finish()
    }
}

impl fmt::Debug for AgentConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentConfig")
            .field("provider", &self.provider)
            .field("default_model", &self.default_model)
            .field("extra", &ExtraKeys(&self.extra))
            .finish()
    }
}

impl fmt::Debug for LmStudioConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LmStudioConfig")
            .field("base_url", &self.base_url)
            .field("api_token_env", &self.api_token_env)
            .field("api_token", &self.api_token)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field(
                "response_headers_timeout_ms",
                &self.response_headers_timeout_ms,
            )
            .field("idle_timeout_ms", &self.idle_timeout_ms)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("load_timeout_ms", &self.load_timeout_ms)
            .field("download_timeout_ms", &self.download_timeout_ms)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("lms_path", &self.lms_path)
            .field("preload", &self.preload)
            .field("context_length", &self.context_length)
            .field("ttl_seconds", &self.ttl_seconds)
            .field("auto_start", &self.auto_start)
            .field("start_timeout_ms", &self.start_timeout_ms)
            .field("extra", &ExtraKeys(&self.extra))
            .finish()
    }
}

/// A string value must not be empty or blank.
pub(crate) fn check_non_empty(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        Err("must not be empty; remove the key to use the default".to_owned())
    } else {
        Ok(())
    }
}

/// `api_token_env` must be a name an environment variable can have.
pub(crate) fn check_env_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        Err(format!(
            "must name an environment variable, e.g. \"{DEFAULT_API_TOKEN_ENV}\"; it is empty"
        ))
    } else if name.contains(['=', '\0']) || name.chars().any(char::is_whitespace) {
        Err(format!(
            "{name:?} is not a usable environment variable name (no '=', NUL or whitespace), e.g. \"{DEFAULT_API_TOKEN_ENV}\""
        ))
    } else {
        Ok(())
    }
}

/// The message for a zero where a positive number is required. `in_file` adds how to fix it
/// in `vtcode.toml`.
pub(crate) fn zero_message(key: &str, in_file: bool) -> String {
    let unit = if key.ends_with("_ms") {
        "milliseconds"
    } else if key.ends_with("_bytes") {
        "bytes"
    } else if key.ends_with("_seconds") {
        "seconds"
    } else {
        "tokens"
    };
    let fix = match key {
        _ if !in_file => String::new(),
        "lmstudio.download_timeout_ms" => "; remove the key for no limit".to_owned(),
        "lmstudio.context_length" | "lmstudio.ttl_seconds" => {
            "; remove the key to let the server decide".to_owned()
        }
        _ => match default_of(key) {
            Some(default) => format!("; remove the key to use the default ({default})"),
            None => "; remove the key to use the default".to_owned(),
        },
    };
    format!("must be greater than 0 ({unit}){fix}")
}

/// The default of a numeric `[lmstudio]` key, for messages.
fn default_of(key: &str) -> Option<u64> {
    Some(match key {
        "lmstudio.connect_timeout_ms" => DEFAULT_CONNECT_TIMEOUT_MS,
        "lmstudio.response_headers_timeout_ms" => DEFAULT_RESPONSE_HEADERS_TIMEOUT_MS,
        "lmstudio.idle_timeout_ms" => DEFAULT_IDLE_TIMEOUT_MS,
        "lmstudio.request_timeout_ms" => DEFAULT_REQUEST_TIMEOUT_MS,
        "lmstudio.load_timeout_ms" => DEFAULT_LOAD_TIMEOUT_MS,
        "lmstudio.start_timeout_ms" => DEFAULT_START_TIMEOUT_MS,
        "lmstudio.max_body_bytes" => DEFAULT_MAX_BODY_BYTES,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_contract() {
        let config = VTCodeConfig::default();
        assert_eq!(config.agent.provider, "lmstudio");
        assert_eq!(config.agent.default_model, None);
        let lm = &config.lmstudio;
        assert_eq!(lm.api_token_env, "LM_API_TOKEN");
        assert_eq!(lm.connect_timeout_ms, 5_000);
        assert_eq!(lm.response_headers_timeout_ms, 30_000);
        assert_eq!(lm.idle_timeout_ms, 120_000);
        assert_eq!(lm.request_timeout_ms, 120_000);
        assert_eq!(lm.load_timeout_ms, 600_000);
        assert_eq!(lm.download_timeout_ms, None);
        assert_eq!(lm.max_body_bytes, 32 * 1024 * 1024);
        assert_eq!(lm.preload, PreloadMode::Background);
        assert!(!lm.auto_start);
        assert_eq!(lm.start_timeout_ms, 90_000);
        assert!(config.validate().is_ok());
    }

    #[test]
    fn preload_names_round_trip() {
        for name in PreloadMode::VALID {
            let mode = PreloadMode::from_name(name).expect("valid name");
            assert_eq!(mode.as_str(), name);
        }
        assert_eq!(PreloadMode::from_name("WAIT"), Some(PreloadMode::Wait));
        assert_eq!(PreloadMode::from_name("later"), None);
    }

    #[test]
    fn validate_names_the_bad_key() {
        let mut config = VTCodeConfig::default();
        config.lmstudio.idle_timeout_ms = 0;
        let err = config.validate().expect_err("zero timeout");
        assert!(
            matches!(&err, ConfigError::InvalidValue { key, origin: Origin::Code, .. } if key == "lmstudio.idle_timeout_ms"),
            "{err:?}"
        );
        let config = VTCodeConfig::default().with_context_length(0);
        assert!(config.validate().is_err());
        let mut config = VTCodeConfig::default().with_auto_start(true);
        config.lmstudio.start_timeout_ms = 0;
        let err = config.validate().expect_err("zero start timeout");
        assert!(
            err.to_string().contains("lmstudio.start_timeout_ms"),
            "{err}"
        );
        let mut config = VTCodeConfig::default();
        config.lmstudio.api_token_env = "A=B".into();
        assert!(config.validate().is_err());
    }
}
