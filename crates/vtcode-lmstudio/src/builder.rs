//! `LMStudioClientBuilder`: every per-client setting in one place, from a `VTCodeConfig`
//! ([`LMStudioClient::builder`]) or from a bare URL for agents that are not VT Code
//! ([`LMStudioClientBuilder::new`]).

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lmstudio_transport::{Client as HttpClient, Limits};
use vtcode_config::{PreloadMode, VTCodeConfig};

use crate::client::{Inner, LMStudioClient};
use crate::engine::{self, EngineKey};
use crate::error::LmStudioError;
use crate::progress::{ProgressReporter, StderrReporter};
use crate::settings::Settings;

/// Configures an [`LMStudioClient`]. Each setter replaces one setting; [`build`](Self::build)
/// validates them and attaches the client to its server's shared engine (no network I/O).
///
/// ```
/// use std::time::Duration;
/// use vtcode_lmstudio::{LMStudioClientBuilder, NoProgress};
///
/// let client = LMStudioClientBuilder::new("http://127.0.0.1:1234/v1")
///     .token("sk-lm-example")
///     .default_model("qwen/qwen3-4b")
///     .reporter(std::sync::Arc::new(NoProgress))
///     .catalog_ttl(Duration::from_secs(5))
///     .build()?;
/// assert_eq!(client.base_url(), "http://127.0.0.1:1234");
/// # Ok::<(), vtcode_lmstudio::LmStudioError>(())
/// ```
#[must_use]
pub struct LMStudioClientBuilder {
    settings: Result<Settings, LmStudioError>,
    reporter: Option<Arc<dyn ProgressReporter>>,
    private_engine: bool,
}

impl LMStudioClient {
    /// A builder starting from the config's settings (`[agent]`, `[lmstudio]`, the token from
    /// the environment variable the config names). When neither `LMSTUDIO_URL` nor
    /// `[lmstudio] base_url` names a server, it reads the port LM Studio recorded for its
    /// server (`<LM Studio home>/.internal/http-server-config.json`: a regular file of at most
    /// 64 KiB) and uses `http://127.0.0.1:<port>`; a missing or broken record means
    /// `http://localhost:1234`. See [`LMStudioClient::url_source`].
    pub fn builder(config: &VTCodeConfig) -> LMStudioClientBuilder {
        LMStudioClientBuilder {
            settings: Settings::from_config(config),
            reporter: None,
            private_engine: false,
        }
    }
}

/// The facade's settings come from a `VTCodeConfig` through this conversion (the same as
/// [`LMStudioClient::builder`]); other configuration sources can convert the same way.
impl From<&VTCodeConfig> for LMStudioClientBuilder {
    fn from(config: &VTCodeConfig) -> Self {
        LMStudioClient::builder(config)
    }
}

impl LMStudioClientBuilder {
    /// A builder for the server at `base_url` (with or without `/v1`), with the defaults of
    /// an empty `vtcode.toml`, except that no environment variable is read: set the token
    /// with [`token`](Self::token) or [`token_from_env`](Self::token_from_env).
    pub fn new(base_url: impl AsRef<str>) -> Self {
        Self {
            settings: Settings::for_url(base_url.as_ref()),
            reporter: None,
            private_engine: false,
        }
    }

    fn set(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        if let Ok(settings) = &mut self.settings {
            change(settings);
        }
        self
    }

    /// Where progress of downloads and loads goes when a call is not given a reporter of its
    /// own (default: a line on stderr, [`StderrReporter`]).
    pub fn reporter(mut self, reporter: Arc<dyn ProgressReporter>) -> Self {
        self.reporter = Some(reporter);
        self
    }

    /// The API token sent as `Authorization: Bearer` (LM Studio 0.4+ with auth on). A blank
    /// token sends none.
    pub fn token(self, token: impl Into<String>) -> Self {
        let token = token.into().trim().to_owned();
        self.set(|s| {
            s.token = Some(token).filter(|t| !t.is_empty());
            s.token_env.clear();
        })
    }

    /// Reads the token from the environment variable `name` now (unset or blank: no token);
    /// auth errors then name the variable.
    pub fn token_from_env(self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.set(|s| {
            s.token = crate::settings::token_from_env(&name);
            s.token_env = name;
        })
    }

    /// The model made ready by default, and used when a request leaves `model` empty.
    pub fn default_model(self, model: impl Into<String>) -> Self {
        let model = model.into().trim().to_owned();
        self.set(|s| s.default_model = model)
    }

    /// What the readiness flow does about loading (default [`PreloadMode::Background`]).
    pub fn preload(self, preload: PreloadMode) -> Self {
        self.set(|s| s.preload = preload)
    }

    /// The HTTP limits: connect, response headers, idle, deadline, body and event sizes.
    pub fn limits(self, limits: Limits) -> Self {
        self.set(|s| s.limits = limits)
    }

    /// How long a load may take (default 600 s, `[lmstudio] load_timeout_ms`).
    pub fn load_timeout(self, limit: Duration) -> Self {
        self.set(|s| s.load_timeout = limit)
    }

    /// How long a download may take (default: no limit; progress keeps the caller informed).
    pub fn download_timeout(self, limit: Option<Duration>) -> Self {
        self.set(|s| s.download_timeout = limit)
    }

    /// The context length to load models with (default: LM Studio's).
    pub fn context_length(self, tokens: u32) -> Self {
        self.set(|s| s.context_length = Some(tokens))
    }

    /// The idle time-to-live of loaded models, in seconds (default: LM Studio's).
    pub fn ttl_seconds(self, seconds: u64) -> Self {
        self.set(|s| s.ttl_seconds = Some(seconds))
    }

    /// How long a model listing is reused before the server is asked again (default 2 s;
    /// zero disables the cache). Downloads, loads and unloads always invalidate it.
    pub fn catalog_ttl(self, ttl: Duration) -> Self {
        self.set(|s| s.catalog_ttl = ttl)
    }

    /// How often download status and the model list are polled (default 500 ms, at least
    /// 1 ms).
    pub fn poll_interval(self, interval: Duration) -> Self {
        self.set(|s| s.poll_interval = interval.max(Duration::from_millis(1)))
    }

    /// How long to wait for a downloaded model to appear in the list (default 30 s).
    pub fn index_wait(self, wait: Duration) -> Self {
        self.set(|s| s.index_wait = wait)
    }

    /// How long the shared engine of this server (detected kind, model cache, warm
    /// connections) outlives the last client that used it (default 10 s, above the
    /// connection pool's 4 s idle time). Zero lets it go as soon as no client holds it.
    pub fn engine_linger(self, linger: Duration) -> Self {
        self.set(|s| s.engine_linger = linger)
    }

    /// Gives the client an engine of its own instead of its server's shared one: nothing
    /// (detection, model cache, in-flight downloads and loads, connections) is shared with
    /// other clients, only with this client's clones. For tests that start servers on
    /// ports the OS may hand out again, or when the server at the URL is known to have been
    /// replaced.
    pub fn private_engine(mut self) -> Self {
        self.private_engine = true;
        self
    }

    /// How long the readiness flow waits for the `lms` commands it runs only to inform:
    /// `lms load --estimate-only` before a load (a warning when the model will not fit),
    /// and `lms ps` for the TTL and LM Link device of the instance it loaded. Default
    /// [`DEFAULT_LMS_INFO_TIMEOUT`](crate::DEFAULT_LMS_INFO_TIMEOUT) (5 s); zero skips them.
    /// They never fail the flow: past the limit `lms` is stopped and the flow goes on.
    pub fn lms_info_timeout(self, limit: Duration) -> Self {
        self.set(|s| s.lms_info_timeout = limit)
    }

    /// Whether the readiness flow starts a local server that refuses connections (default
    /// `[lmstudio] auto_start`, off): `lms server start --port <port>`, once per process and
    /// port, only for a loopback URL without a path prefix, only when `lms` is found. Off,
    /// nothing this crate does ever starts LM Studio.
    pub fn auto_start(self, on: bool) -> Self {
        self.set(|s| s.auto_start = on)
    }

    /// How long an automatic start may take, from running `lms server start` until the
    /// server answers (default 90 s, `[lmstudio] start_timeout_ms`). Zero is refused by
    /// [`build`](Self::build).
    pub fn start_timeout(self, limit: Duration) -> Self {
        self.set(|s| s.start_timeout = limit)
    }

    /// LM Studio's home directory, where an automatic start reads the server's recorded
    /// bind address and CORS setting (`.internal/http-server-config.json`) to pass them on.
    /// Default: found as `lms` finds it (the home pointer, `~/.cache/lm-studio`,
    /// `~/.lmstudio`). The URL is not read from it here (see [`LMStudioClient::builder`]).
    pub fn lmstudio_home(self, home: impl Into<PathBuf>) -> Self {
        let home = home.into();
        self.set(|s| s.lmstudio_home = Some(home))
    }

    /// The `lms` CLI to use instead of discovering one. Also lets `lms` manage a server
    /// that is not on a loopback address.
    pub fn lms_path(self, path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        self.set(|s| s.lms_path = Some(path))
    }

    /// Validates the settings and builds the client, attached to the process's shared
    /// engine for its server (created on first use). No network I/O.
    ///
    /// Fails with [`LmStudioError::Config`] for a URL or model name that cannot be used, a
    /// zero start timeout, and when the token cannot be sent in an HTTP header.
    pub fn build(self) -> Result<LMStudioClient, LmStudioError> {
        let settings = self.settings?;
        crate::model_id::validate(&settings.default_model)?;
        if settings.start_timeout.is_zero() {
            return Err(LmStudioError::Config(
                "the start timeout ([lmstudio] start_timeout_ms) must be greater than 0".to_owned(),
            ));
        }
        let ctx = settings.error_context();
        let lease = if self.private_engine {
            engine::private(settings.engine_linger)
        } else {
            engine::attach(
                EngineKey::new(settings.endpoint.root(), settings.token.as_deref()),
                settings.engine_linger,
            )
        };
        let http = HttpClient::builder(settings.endpoint.clone())
            .bearer_token(settings.token.clone())
            .limits(settings.limits)
            .pool(lease.engine().pool.clone())
            .build()
            .map_err(|e| LmStudioError::from_transport(e, &ctx))?;
        Ok(LMStudioClient {
            inner: Arc::new(Inner {
                http,
                settings,
                reporter: self
                    .reporter
                    .unwrap_or_else(|| Arc::new(StderrReporter::new())),
                lease,
                lms: Mutex::new(None),
            }),
        })
    }
}

impl fmt::Debug for LMStudioClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("LMStudioClientBuilder");
        match &self.settings {
            Ok(settings) => out
                .field("base_url", &settings.endpoint.root())
                .field("default_model", &settings.default_model)
                .field("token", &settings.token.as_ref().map(|_| "<redacted>")),
            Err(err) => out.field("error", err),
        };
        out.finish_non_exhaustive()
    }
}
