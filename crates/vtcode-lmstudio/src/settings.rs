//! Resolve a `VTCodeConfig` into what the client needs: endpoint, token, limits, policy.

use std::path::PathBuf;
use std::time::Duration;

use lmstudio_transport::{Endpoint, Limits};
use vtcode_config::{PreloadMode, VTCodeConfig};

use crate::DEFAULT_OSS_MODEL;
use crate::error::{ErrorContext, LmStudioError};

/// LM Studio's default server root.
pub const DEFAULT_BASE_URL: &str = "http://localhost:1234";

/// Where a client's server URL came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlSource {
    /// `LMSTUDIO_URL` or `[lmstudio] base_url` (the environment wins over the file).
    Configured,
    /// Neither was set: the port LM Studio recorded for its server, on loopback.
    LmStudioServerConfig {
        /// The file it was read from (`<LM Studio home>/.internal/http-server-config.json`).
        path: std::path::PathBuf,
    },
    /// Neither was set and LM Studio's record was missing or unusable: `http://localhost:1234`.
    Default,
    /// Given in code ([`LMStudioClientBuilder::new`](crate::LMStudioClientBuilder::new)).
    Given,
}

impl std::fmt::Display for UrlSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Configured => f.write_str("LMSTUDIO_URL / [lmstudio] base_url"),
            Self::LmStudioServerConfig { path } => {
                write!(f, "LM Studio's server settings ({})", path.display())
            }
            Self::Default => f.write_str("the default"),
            Self::Given => f.write_str("given in code"),
        }
    }
}

/// The resolved, validated settings of one client. `Debug` never shows the token.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) endpoint: Endpoint,
    pub(crate) url_source: UrlSource,
    pub(crate) limits: Limits,
    pub(crate) token: Option<String>,
    pub(crate) token_env: String,
    pub(crate) default_model: String,
    pub(crate) lms_path: Option<PathBuf>,
    pub(crate) preload: PreloadMode,
    pub(crate) context_length: Option<u32>,
    pub(crate) ttl_seconds: Option<u64>,
    pub(crate) load_timeout: Duration,
    pub(crate) download_timeout: Option<Duration>,
    pub(crate) catalog_ttl: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) index_wait: Duration,
    pub(crate) engine_linger: Duration,
    /// The limit of the `lms` commands the readiness flow runs only to inform (the memory
    /// estimate, `lms ps` after a load); zero skips them.
    pub(crate) lms_info_timeout: Duration,
    /// `[lmstudio] auto_start`: start a local server that refuses connections.
    pub(crate) auto_start: bool,
    /// `[lmstudio] start_timeout_ms`: from `lms server start` until the server answers.
    pub(crate) start_timeout: Duration,
    /// LM Studio's home, where its server record is read for an automatic start (`None`:
    /// found as `lms` finds it).
    pub(crate) lmstudio_home: Option<PathBuf>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("base_url", &self.endpoint.root())
            .field("url_source", &self.url_source)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("token_env", &self.token_env)
            .field("default_model", &self.default_model)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Validates the config. When it names no server, reads the port LM Studio recorded
    /// (a small, bounded file read; see `discovered_url`).
    pub(crate) fn from_config(config: &VTCodeConfig) -> Result<Self, LmStudioError> {
        Self::from_config_with(config, lmstudio_lms::read_user_server_config)
    }

    /// [`from_config`](Self::from_config) with the LM Studio record read by `discover`.
    pub(crate) fn from_config_with(
        config: &VTCodeConfig,
        discover: impl FnOnce() -> Result<lmstudio_lms::ServerConfig, lmstudio_lms::ServerConfigError>,
    ) -> Result<Self, LmStudioError> {
        let lm = &config.lmstudio;
        let configured = lm
            .base_url
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let (base_url, url_source) = match configured {
            Some(url) => (url.to_owned(), UrlSource::Configured),
            None => discovered_url(discover()),
        };
        let base_url = base_url.as_str();
        let endpoint = Endpoint::parse(base_url).map_err(|e| {
            LmStudioError::Config(format!(
                "[lmstudio].base_url / LMSTUDIO_URL {base_url:?} is not usable: {e}"
            ))
        })?;
        let limits = Limits::default()
            .with_connect(ms(lm.connect_timeout_ms))
            .with_response_headers(ms(lm.response_headers_timeout_ms))
            .with_idle(ms(lm.idle_timeout_ms))
            .with_deadline(ms(lm.request_timeout_ms))
            .with_max_body_bytes(usize::try_from(lm.max_body_bytes).unwrap_or(usize::MAX));
        let default_model = config
            .agent
            .default_model
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(DEFAULT_OSS_MODEL)
            .to_owned();
        crate::model_id::validate(&default_model)?;
        Ok(Self {
            endpoint,
            url_source,
            limits,
            // A config built in code (no `apply_env`) still honours the token variable.
            token: lm
                .api_token
                .as_ref()
                .map(|t| t.expose().trim().to_owned())
                .or_else(|| token_from_env(&lm.api_token_env))
                .filter(|t| !t.is_empty()),
            token_env: lm.api_token_env.clone(),
            default_model,
            lms_path: lm.lms_path.clone(),
            preload: lm.preload,
            context_length: lm.context_length,
            ttl_seconds: lm.ttl_seconds,
            load_timeout: ms(lm.load_timeout_ms),
            download_timeout: lm.download_timeout_ms.map(ms),
            catalog_ttl: Duration::from_secs(2),
            poll_interval: Duration::from_millis(500),
            index_wait: Duration::from_secs(30),
            engine_linger: crate::engine::DEFAULT_ENGINE_LINGER,
            lms_info_timeout: crate::memory_estimate::DEFAULT_LMS_INFO_TIMEOUT,
            auto_start: lm.auto_start,
            start_timeout: ms(lm.start_timeout_ms),
            lmstudio_home: None,
        })
    }

    /// The settings of an empty `vtcode.toml` for `base_url`, reading no environment.
    pub(crate) fn for_url(base_url: &str) -> Result<Self, LmStudioError> {
        let mut config = VTCodeConfig::default();
        config.lmstudio.base_url = Some(base_url.to_owned());
        config.lmstudio.api_token_env = String::new();
        let mut settings = Self::from_config(&config)?;
        settings.url_source = UrlSource::Given;
        Ok(settings)
    }

    pub(crate) fn error_context(&self) -> ErrorContext<'_> {
        ErrorContext {
            token_env: &self.token_env,
            token_sent: self.token.is_some(),
            base_url: self.endpoint.root(),
        }
    }

    /// Whether `lms` on this machine talks to the same server: an explicit `lms` path, or a
    /// server on a loopback address.
    pub(crate) fn lms_allowed(&self) -> bool {
        self.lms_path.is_some() || self.endpoint.is_loopback()
    }

    /// The port an automatic start would start the server on: `Some` only with `auto_start`
    /// on and a URL that is a local LM Studio itself (a loopback host: `localhost`,
    /// 127.0.0.0/8, `::1`; and no path prefix, which would mean a proxy in front of it).
    /// An explicit `lms_path` does not make a remote server local.
    pub(crate) fn auto_start_port(&self) -> Option<u16> {
        let plain_root = self
            .endpoint
            .root()
            .strip_prefix("http://")
            .is_some_and(|authority| !authority.contains('/'));
        (self.auto_start && self.endpoint.is_loopback() && plain_root).then(|| self.endpoint.port())
    }
}

/// The URL to use when none is configured: loopback on the port LM Studio recorded for its
/// server, else the default. The record's bind address (`0.0.0.0`, a LAN address, a host name)
/// is where the server listens, never where to connect, and a host name from a file must
/// never receive the token: only the port is taken. A missing or broken record is a debug
/// line, not an error.
fn discovered_url(
    record: Result<lmstudio_lms::ServerConfig, lmstudio_lms::ServerConfigError>,
) -> (String, UrlSource) {
    match record {
        Ok(record) => {
            tracing::debug!(
                port = record.port,
                path = %record.path.display(),
                "using the port LM Studio recorded for its server"
            );
            (
                format!("http://127.0.0.1:{}", record.port),
                UrlSource::LmStudioServerConfig { path: record.path },
            )
        }
        Err(err) => {
            tracing::debug!(error = %err, "no usable LM Studio server record; using {DEFAULT_BASE_URL}");
            (DEFAULT_BASE_URL.to_owned(), UrlSource::Default)
        }
    }
}

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// The token in the environment variable `name`, when it is set and not blank.
pub(crate) fn token_from_env(name: &str) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    std::env::var(name)
        .ok()
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lmstudio_lms::{ServerConfig, ServerConfigError};

    fn config_with_url(url: &str) -> VTCodeConfig {
        let mut config = VTCodeConfig::default();
        config.lmstudio.base_url = Some(url.to_owned());
        config
    }

    #[test]
    fn defaults_resolve() {
        let mut config = VTCodeConfig::default();
        config.lmstudio.api_token_env = String::new();
        let settings = Settings::from_config_with(&config, || Err(ServerConfigError::NoHomeDir))
            .expect("valid");
        assert_eq!(settings.default_model, DEFAULT_OSS_MODEL);
        assert_eq!(settings.endpoint.port(), 1234);
        assert_eq!(settings.url_source, UrlSource::Default);
        assert!(settings.token.is_none());
        assert!(settings.lms_allowed());
    }

    #[test]
    fn token_comes_from_the_config_else_the_named_variable() {
        // PATH is set in every test environment: it stands in for LM_API_TOKEN here.
        let path = std::env::var("PATH").expect("PATH is set");
        let mut config = VTCodeConfig::default();
        config.lmstudio.api_token_env = "PATH".to_owned();
        let settings = Settings::from_config(&config).expect("valid");
        assert_eq!(settings.token.as_deref(), Some(path.trim()));
        config.lmstudio.api_token = Some(vtcode_config::ApiToken::new("sk-config"));
        let settings = Settings::from_config(&config).expect("valid");
        assert_eq!(settings.token.as_deref(), Some("sk-config"));
    }

    #[test]
    fn debug_never_shows_the_token() {
        let mut config = config_with_url("http://127.0.0.1:1234");
        config.lmstudio.api_token = Some(vtcode_config::ApiToken::new("sk-secret-1234"));
        let settings = Settings::from_config(&config).expect("valid");
        let shown = format!("{settings:?}");
        assert!(!shown.contains("sk-secret-1234"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn remote_servers_do_not_use_local_lms() {
        let settings =
            Settings::from_config(&config_with_url("http://192.0.2.7:1234/v1")).expect("valid");
        assert!(!settings.lms_allowed());
        let settings =
            Settings::from_config(&config_with_url("http://127.0.0.2:1234")).expect("valid");
        assert!(settings.lms_allowed());
    }

    #[test]
    fn bad_urls_and_models_are_config_errors() {
        let err = Settings::from_config(&config_with_url("ftp://x")).expect_err("bad scheme");
        assert!(matches!(err, LmStudioError::Config(_)), "{err:?}");
        let mut config = VTCodeConfig::default();
        config.agent.default_model = Some("--help".into());
        assert!(Settings::from_config(&config).is_err());
    }

    fn record(port: u16, bind: &str) -> Result<ServerConfig, ServerConfigError> {
        let home = std::env::temp_dir().join(format!("lmstudio-record-{port}"));
        let dir = home.join(".internal");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(
            dir.join("http-server-config.json"),
            format!(r#"{{"port":{port},"networkInterface":"{bind}","cors":false}}"#),
        )
        .expect("write");
        let result = lmstudio_lms::read_server_config(&home);
        let _ = std::fs::remove_dir_all(&home);
        result
    }

    #[test]
    fn without_a_configured_url_lm_studios_recorded_port_is_used_on_loopback() {
        let config = VTCodeConfig::default();
        for bind in ["0.0.0.0", "192.168.1.20", "gpu-box.example", "127.0.0.1"] {
            let settings =
                Settings::from_config_with(&config, || record(41343, bind)).expect("valid");
            // Only the port is taken: the bind address is where it listens, and a host name
            // from a file must never receive the token.
            assert_eq!(settings.endpoint.root(), "http://127.0.0.1:41343", "{bind}");
            assert!(matches!(
                settings.url_source,
                UrlSource::LmStudioServerConfig { ref path } if path.ends_with("http-server-config.json")
            ));
            assert!(settings.lms_allowed());
        }
    }

    #[test]
    fn a_configured_url_wins_and_the_record_is_not_even_read() {
        let settings =
            Settings::from_config_with(&config_with_url("http://10.0.0.5:9999/v1"), || {
                panic!("the record must not be read when a URL is configured")
            })
            .expect("valid");
        assert_eq!(settings.endpoint.root(), "http://10.0.0.5:9999");
        assert_eq!(settings.url_source, UrlSource::Configured);
    }

    #[test]
    fn an_unusable_record_falls_back_to_the_default_without_an_error() {
        let config = VTCodeConfig::default();
        let broken = || {
            Err(ServerConfigError::InvalidPort(
                "x".into(),
                "`port` is 0".to_owned(),
            ))
        };
        let settings = Settings::from_config_with(&config, broken).expect("no error");
        assert_eq!(settings.endpoint.root(), DEFAULT_BASE_URL);
        assert_eq!(settings.url_source, UrlSource::Default);
    }

    #[test]
    fn auto_start_is_only_for_a_local_server_and_only_when_asked() {
        let port = |url: &str, on: bool| {
            let mut config = config_with_url(url);
            config.lmstudio.auto_start = on;
            Settings::from_config(&config)
                .expect("valid")
                .auto_start_port()
        };
        for url in [
            "http://127.0.0.1:41343",
            "http://127.9.8.7:41343/v1",
            "http://localhost:41343/",
            "http://[::1]:41343",
        ] {
            assert_eq!(port(url, true), Some(41343), "{url}");
            assert_eq!(port(url, false), None, "{url}");
        }
        // No port in the URL: the scheme's, which is what the client connects to.
        assert_eq!(port("http://localhost", true), Some(80));
        for remote in [
            "http://192.0.2.7:1234",
            "http://10.0.0.1:1234",
            "http://gpu-box.example:1234",
            "http://[2001:db8::1]:1234",
            "http://0.0.0.0:1234",
            // A path prefix is a proxy, not LM Studio itself.
            "http://127.0.0.1:8080/lmstudio",
        ] {
            assert_eq!(port(remote, true), None, "{remote}");
        }
        // An explicit lms does not make a remote server local.
        let mut config = config_with_url("http://192.0.2.7:1234");
        config.lmstudio.auto_start = true;
        config.lmstudio.lms_path = Some("/opt/lms".into());
        let settings = Settings::from_config(&config).expect("valid");
        assert!(settings.lms_allowed());
        assert_eq!(settings.auto_start_port(), None);
    }

    #[test]
    fn a_url_given_in_code_says_so() {
        let settings = Settings::for_url("http://127.0.0.1:1234").expect("valid");
        assert_eq!(settings.url_source, UrlSource::Given);
    }
}
