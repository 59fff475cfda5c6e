//! Environment overrides: the variables that beat the file and the defaults.

use std::path::PathBuf;

use crate::config::{VTCodeConfig, zero_message};
use crate::error::{ConfigError, Origin};
use crate::secret::ApiToken;

/// Overrides `agent.provider`.
pub const ENV_PROVIDER: &str = "VTCODE_PROVIDER";
/// Overrides `lmstudio.base_url`.
pub const ENV_BASE_URL: &str = "LMSTUDIO_URL";
/// Overrides `lmstudio.lms_path`.
pub const ENV_LMS_PATH: &str = "LMSTUDIO_LMS_PATH";
/// Overrides `lmstudio.auto_start` (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`).
pub const ENV_AUTO_START: &str = "LMSTUDIO_AUTO_START";
/// Overrides `lmstudio.start_timeout_ms` (a positive integer of milliseconds).
pub const ENV_START_TIMEOUT_MS: &str = "LMSTUDIO_START_TIMEOUT_MS";

impl VTCodeConfig {
    /// Applies the environment overrides to this config, reading variables through `env`
    /// (`|name| std::env::var(name).ok()` for the process environment; tests pass a map).
    ///
    /// | variable | sets |
    /// |---|---|
    /// | `VTCODE_PROVIDER` | `agent.provider` |
    /// | `LMSTUDIO_URL` | `lmstudio.base_url` |
    /// | `LMSTUDIO_LMS_PATH` | `lmstudio.lms_path` |
    /// | `LMSTUDIO_AUTO_START` | `lmstudio.auto_start` (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`) |
    /// | `LMSTUDIO_START_TIMEOUT_MS` | `lmstudio.start_timeout_ms` (an integer > 0) |
    /// | the one named by `lmstudio.api_token_env` (default `LM_API_TOKEN`) | `lmstudio.api_token` |
    ///
    /// An empty or blank value counts as unset. Values are trimmed, except the `lms` path.
    /// Returns the names of the variables that were applied (names only, never values).
    ///
    /// # Errors
    /// [`ConfigError::InvalidValue`] with [`Origin::Env`] when `LMSTUDIO_AUTO_START` is not a
    /// boolean or `LMSTUDIO_START_TIMEOUT_MS` is not an integer > 0. The config is then left
    /// as it was.
    ///
    /// ```
    /// use vtcode_config::VTCodeConfig;
    ///
    /// let mut config = VTCodeConfig::lmstudio_at("http://file-host:1234");
    /// let applied = config.apply_env(&|name: &str| match name {
    ///     "LMSTUDIO_URL" => Some("http://env-host:1234".to_owned()),
    ///     "LMSTUDIO_AUTO_START" => Some("true".to_owned()),
    ///     "LM_API_TOKEN" => Some("sk-lm-secret".to_owned()),
    ///     _ => None,
    /// })?;
    /// assert_eq!(config.lmstudio.base_url.as_deref(), Some("http://env-host:1234"));
    /// assert!(config.lmstudio.auto_start);
    /// assert_eq!(config.lmstudio.api_token.as_ref().map(|t| t.expose()), Some("sk-lm-secret"));
    /// assert_eq!(applied, ["LMSTUDIO_URL", "LMSTUDIO_AUTO_START", "LM_API_TOKEN"]);
    /// # Ok::<(), vtcode_config::ConfigError>(())
    /// ```
    pub fn apply_env(
        &mut self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<String>, ConfigError> {
        let mut applied = Vec::new();
        let mut read = |name: &str| {
            let value = env(name).filter(|v| !v.trim().is_empty());
            if value.is_some() {
                applied.push(name.to_owned());
            }
            value
        };
        // The typed values are checked before anything changes.
        let auto_start = read(ENV_AUTO_START)
            .map(|raw| parse_bool(ENV_AUTO_START, &raw))
            .transpose()?;
        let start_timeout = read(ENV_START_TIMEOUT_MS)
            .map(|raw| parse_positive(ENV_START_TIMEOUT_MS, "lmstudio.start_timeout_ms", &raw))
            .transpose()?;
        let provider = read(ENV_PROVIDER);
        let url = read(ENV_BASE_URL);
        let path = read(ENV_LMS_PATH);
        let token_env = self.lmstudio.api_token_env.clone();
        let token = if token_env.is_empty() {
            None
        } else {
            read(&token_env)
        };
        // `applied` follows the table's order (the order of the variables in the docs).
        applied.sort_by_key(|name| variable_names(self).iter().position(|v| v == name));

        if let Some(provider) = provider {
            self.agent.provider = provider.trim().to_owned();
        }
        if let Some(url) = url {
            self.lmstudio.base_url = Some(url.trim().to_owned());
        }
        if let Some(path) = path {
            self.lmstudio.lms_path = Some(PathBuf::from(path));
        }
        if let Some(auto_start) = auto_start {
            self.lmstudio.auto_start = auto_start;
        }
        if let Some(limit) = start_timeout {
            self.lmstudio.start_timeout_ms = limit;
        }
        if let Some(token) = token {
            self.lmstudio.api_token = Some(ApiToken::new(token.trim()));
        }
        Ok(applied)
    }
}

/// `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off` (ASCII case-insensitive, trimmed).
fn parse_bool(var: &str, raw: &str) -> Result<bool, ConfigError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(env_invalid(
            var,
            "lmstudio.auto_start",
            format!(
                "{} is not a boolean; use true or false (1/0, yes/no and on/off work too)",
                shown(raw)
            ),
        )),
    }
}

/// An integer > 0.
fn parse_positive(var: &str, key: &str, raw: &str) -> Result<u64, ConfigError> {
    match raw.trim().parse::<u64>() {
        Ok(0) => Err(env_invalid(var, key, zero_message(key, false))),
        Ok(n) => Ok(n),
        Err(_) => Err(env_invalid(
            var,
            key,
            format!(
                "{} is not a positive integer number of milliseconds (e.g. 90000)",
                shown(raw)
            ),
        )),
    }
}

/// A value for a message: quoted, at most 64 characters (these variables hold no secrets).
fn shown(raw: &str) -> String {
    let raw = raw.trim();
    let mut text: String = raw.chars().take(64).collect();
    if text.len() < raw.len() {
        text.push('…');
    }
    format!("{text:?}")
}

fn env_invalid(var: &str, key: &str, message: String) -> ConfigError {
    ConfigError::InvalidValue {
        origin: Origin::Env(var.to_owned()),
        key: key.to_owned(),
        message,
    }
}

/// The variables [`VTCodeConfig::apply_env`] reads for `config`, in the order of its table.
pub(crate) fn variable_names(config: &VTCodeConfig) -> [&str; 6] {
    [
        ENV_PROVIDER,
        ENV_BASE_URL,
        ENV_LMS_PATH,
        ENV_AUTO_START,
        ENV_START_TIMEOUT_MS,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(pairs: &[(&str, &str)]) -> Result<VTCodeConfig, ConfigError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut config = VTCodeConfig::default();
        config.apply_env(&|name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })?;
        Ok(config)
    }

    #[test]
    fn booleans_in_every_spelling() {
        for raw in ["true", "TRUE", " 1 ", "yes", "On"] {
            assert!(
                apply(&[(ENV_AUTO_START, raw)]).unwrap().lmstudio.auto_start,
                "{raw}"
            );
        }
        for raw in ["false", "0", "no", "OFF"] {
            assert!(
                !apply(&[(ENV_AUTO_START, raw)]).unwrap().lmstudio.auto_start,
                "{raw}"
            );
        }
        // Blank counts as unset.
        assert!(
            !apply(&[(ENV_AUTO_START, "  ")])
                .unwrap()
                .lmstudio
                .auto_start
        );
    }

    #[test]
    fn bad_values_are_typed_errors_naming_the_variable() {
        for (var, raw) in [
            (ENV_AUTO_START, "maybe"),
            (ENV_AUTO_START, "2"),
            (ENV_START_TIMEOUT_MS, "0"),
            (ENV_START_TIMEOUT_MS, "-5"),
            (ENV_START_TIMEOUT_MS, "1.5"),
            (ENV_START_TIMEOUT_MS, "99999999999999999999999"),
            (ENV_START_TIMEOUT_MS, "90s"),
        ] {
            let err = apply(&[(var, raw), (ENV_BASE_URL, "http://h:1")]).expect_err(raw);
            assert!(
                matches!(&err, ConfigError::InvalidValue { origin: Origin::Env(v), .. } if v == var),
                "{err:?}"
            );
            assert!(err.to_string().contains(var), "{err}");
        }
    }

    #[test]
    fn a_bad_value_changes_nothing() {
        let mut config = VTCodeConfig::default();
        let result = config.apply_env(&|name: &str| match name {
            ENV_BASE_URL => Some("http://env:1".to_owned()),
            ENV_START_TIMEOUT_MS => Some("soon".to_owned()),
            _ => None,
        });
        assert!(result.is_err());
        assert_eq!(config, VTCodeConfig::default());
    }

    #[test]
    fn a_long_value_is_shortened_in_the_message() {
        let long = "x".repeat(10_000);
        let err = apply(&[(ENV_START_TIMEOUT_MS, &long)]).expect_err("not a number");
        assert!(err.to_string().len() < 400, "{err}");
    }
}
