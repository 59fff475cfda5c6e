//! Environment overrides: the four variables that beat the file and the defaults.

use std::path::PathBuf;

use crate::config::VTCodeConfig;
use crate::error::ConfigError;
use crate::secret::ApiToken;

/// Overrides `agent.provider`.
pub const ENV_PROVIDER: &str = "VTCODE_PROVIDER";
/// Overrides `lmstudio.base_url`.
pub const ENV_BASE_URL: &str = "LMSTUDIO_URL";
/// Overrides `lmstudio.lms_path`.
pub const ENV_LMS_PATH: &str = "LMSTUDIO_LMS_PATH";

impl VTCodeConfig {
    /// Applies the environment overrides to this config, reading variables through `env`
    /// (`|name| std::env::var(name).ok()` for the process environment; tests pass a map).
    ///
    /// | variable | sets |
    /// |---|---|
    /// | `VTCODE_PROVIDER` | `agent.provider` |
    /// | `LMSTUDIO_URL` | `lmstudio.base_url` |
    /// | `LMSTUDIO_LMS_PATH` | `lmstudio.lms_path` |
    /// | the one named by `lmstudio.api_token_env` (default `LM_API_TOKEN`) | `lmstudio.api_token` |
    ///
    /// An empty or blank value counts as unset. Values are trimmed, except the `lms` path.
    /// Returns the names of the variables that were applied (names only, never values).
    ///
    /// ```
    /// use vtcode_config::VTCodeConfig;
    ///
    /// let mut config = VTCodeConfig::lmstudio_at("http://file-host:1234");
    /// let applied = config.apply_env(&|name: &str| match name {
    ///     "LMSTUDIO_URL" => Some("http://env-host:1234".to_owned()),
    ///     "LM_API_TOKEN" => Some("sk-lm-secret".to_owned()),
    ///     _ => None,
    /// });
    /// assert_eq!(config.lmstudio.base_url.as_deref(), Some("http://env-host:1234"));
    /// assert_eq!(config.lmstudio.api_token.as_ref().map(|t| t.expose()), Some("sk-lm-secret"));
    /// assert_eq!(applied, ["LMSTUDIO_URL", "LM_API_TOKEN"]);
    /// ```
    pub fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
        let mut applied = Vec::new();
        let mut read = |name: &str| {
            let value = env(name).filter(|v| !v.trim().is_empty());
            if value.is_some() {
                applied.push(name.to_owned());
            }
            value
        };
        if let Some(provider) = read(ENV_PROVIDER) {
            self.agent.provider = provider.trim().to_owned();
        }
        if let Some(url) = read(ENV_BASE_URL) {
            self.lmstudio.base_url = Some(url.trim().to_owned());
        }
        if let Some(path) = read(ENV_LMS_PATH) {
            self.lmstudio.lms_path = Some(PathBuf::from(path));
        }
        let token_env = self.lmstudio.api_token_env.clone();
        if !token_env.is_empty()
            && let Some(token) = read(&token_env)
        {
            self.lmstudio.api_token = Some(ApiToken::new(token.trim()));
        }
        applied
    }
}

/// The variables [`VTCodeConfig::apply_env`] reads for `config`.
pub(crate) fn variable_names(config: &VTCodeConfig) -> [&str; 4] {
    [
        ENV_PROVIDER,
        ENV_BASE_URL,
        ENV_LMS_PATH,
        config.lmstudio.api_token_env.as_str(),
    ]
}

/// Reads the process environment for `config`, refusing a value that is not UTF-8 (it would
/// otherwise be silently ignored).
pub(crate) fn check_process_env(config: &VTCodeConfig) -> Result<(), ConfigError> {
    for name in variable_names(config) {
        if name.is_empty() {
            continue;
        }
        if let Some(value) = std::env::var_os(name)
            && value.to_str().is_none()
        {
            return Err(ConfigError::EnvNotUnicode {
                var: name.to_owned(),
            });
        }
    }
    Ok(())
}

/// The process environment as a lookup function.
pub(crate) fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
