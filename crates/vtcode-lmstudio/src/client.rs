//! `LMStudioClient`: one cheap-to-clone handle holding its own settings, reporter and HTTP
//! client, attached to the shared engine of its server (detection, catalog cache, in-flight
//! downloads and loads, warm connections).

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lmstudio_lms::Lms;
use lmstudio_transport::Client as HttpClient;
use vtcode_config::VTCodeConfig;

use crate::catalog::{ModelCatalog, ModelInfo};
use crate::engine::{self, Engine, EngineKey, EngineLease};
use crate::error::LmStudioError;
use crate::progress::{ProgressReporter, StderrReporter};
use crate::settings::Settings;

/// A client for one LM Studio (or OpenAI-compatible) server.
///
/// Every client of the same server in a process — clones, separately built clients, the
/// clients [`ensure_oss_ready`](crate::ensure_oss_ready) builds on each call — shares one
/// engine for it: the detected server kind, the model cache, the in-flight downloads and
/// loads and the warm connections. So concurrent readiness checks for a model download it
/// once and load it once, whoever asks. A server here is its root URL plus the token sent to
/// it: clients with different tokens share nothing. Timeouts, the reporter and the preload
/// mode stay per client.
#[derive(Clone)]
pub struct LMStudioClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: HttpClient,
    pub(crate) settings: Settings,
    pub(crate) reporter: Arc<dyn ProgressReporter>,
    pub(crate) lease: EngineLease,
    pub(crate) lms: Mutex<Option<Lms>>,
}

impl std::fmt::Debug for LMStudioClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LMStudioClient")
            .field("base_url", &self.base_url())
            .field("default_model", &self.default_model())
            .field(
                "token",
                &self.inner.settings.token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl LMStudioClient {
    /// Builds a client from the config and checks that the server answers.
    ///
    /// Fails with `ConnectionRefused` (or `TimedOut` for a connect timeout) and the message
    /// "LM Studio is not responding. ..." when the server is not reachable, and with
    /// `PermissionDenied` when it rejects the token. Any other failure to list models is
    /// logged as a warning: the client is still returned.
    pub async fn try_from_provider(config: &VTCodeConfig) -> io::Result<Self> {
        let client = Self::new(config)?;
        match client.models().await {
            Ok(_) => Ok(client),
            Err(err @ (LmStudioError::NotResponding { .. } | LmStudioError::Auth { .. })) => {
                Err(err.into())
            }
            Err(err) => {
                tracing::warn!(error = %err, "LM Studio answered, but listing its models failed");
                Ok(client)
            }
        }
    }

    /// Builds a client from the config without any I/O, attached to the process's shared
    /// engine for its server (created on first use).
    pub fn new(config: &VTCodeConfig) -> Result<Self, LmStudioError> {
        let settings = Settings::from_config(config)?;
        let ctx = settings.error_context();
        let lease = engine::attach(
            EngineKey::new(settings.endpoint.root(), settings.token.as_deref()),
            engine::DEFAULT_ENGINE_LINGER,
        );
        let http = HttpClient::builder(settings.endpoint.clone())
            .bearer_token(settings.token.clone())
            .limits(settings.limits)
            .pool(lease.engine().pool.clone())
            .build()
            .map_err(|e| LmStudioError::from_transport(e, &ctx))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                settings,
                reporter: Arc::new(StderrReporter::new()),
                lease,
                lms: Mutex::new(None),
            }),
        })
    }

    /// Replaces the progress reporter used by [`download_model`](Self::download_model) and
    /// the readiness flow (default: a line on stderr).
    ///
    /// Call it before cloning: clones made earlier keep the old reporter.
    pub fn with_reporter(self, reporter: Arc<dyn ProgressReporter>) -> Self {
        self.map_inner(|inner| inner.reporter = reporter)
    }

    /// Sets how long a model listing is reused before the server is asked again
    /// (default 2 s; zero disables the cache). Downloads, loads and unloads always invalidate it.
    pub fn with_catalog_ttl(self, ttl: Duration) -> Self {
        self.map_inner(|inner| inner.settings.catalog_ttl = ttl)
    }

    /// Sets how often download status and the model list are polled (default 500 ms).
    pub fn with_poll_interval(self, interval: Duration) -> Self {
        self.map_inner(|inner| {
            inner.settings.poll_interval = interval.max(Duration::from_millis(1))
        })
    }

    /// Sets how long to wait for a downloaded model to appear in the list (default 30 s).
    pub fn with_index_wait(self, wait: Duration) -> Self {
        self.map_inner(|inner| inner.settings.index_wait = wait)
    }

    /// Sets how long the shared engine of this server (detected kind, model cache, warm
    /// connections) outlives the last client that used it (default 10 s, above the
    /// connection pool's 4 s idle time). Zero lets it go as soon as no client holds it.
    pub fn with_engine_linger(self, linger: Duration) -> Self {
        self.map_inner(|inner| inner.lease.linger = linger)
    }

    /// Uses this `lms` instead of discovering one.
    pub fn with_lms(self, lms: Lms) -> Self {
        self.map_inner(|inner| inner.lms = Mutex::new(Some(lms)))
    }

    fn map_inner(self, change: impl FnOnce(&mut Inner)) -> Self {
        match Arc::try_unwrap(self.inner) {
            Ok(mut inner) => {
                change(&mut inner);
                Self {
                    inner: Arc::new(inner),
                }
            }
            Err(shared) => {
                tracing::warn!("LMStudioClient builder method called on a shared client; ignored");
                Self { inner: shared }
            }
        }
    }

    /// The server root, e.g. `http://localhost:1234`.
    pub fn base_url(&self) -> &str {
        self.inner.settings.endpoint.root()
    }

    /// The model this client makes ready by default (`[agent].default_model`, else
    /// [`DEFAULT_OSS_MODEL`](crate::DEFAULT_OSS_MODEL)).
    pub fn default_model(&self) -> &str {
        &self.inner.settings.default_model
    }

    /// The underlying HTTP client, for calls this crate does not wrap.
    pub fn http(&self) -> &HttpClient {
        &self.inner.http
    }

    /// The keys of every model the server has (downloaded, loaded or not, when the server
    /// can tell).
    pub async fn fetch_models(&self) -> io::Result<Vec<String>> {
        Ok(self.models().await?.keys())
    }

    /// Loads `model` unless an instance is already loaded. Never creates a duplicate instance.
    pub async fn load_model(&self, model: &str) -> io::Result<()> {
        self.load(model).await.map(|_| ()).map_err(Into::into)
    }

    /// Downloads `model` unless the server already has it, printing progress to stderr (or to
    /// the reporter set with [`with_reporter`](Self::with_reporter)), then waits until the
    /// model appears in the list.
    pub async fn download_model(&self, model: &str) -> io::Result<()> {
        let reporter = self.inner.reporter.clone();
        self.download(model, reporter.as_ref())
            .await
            .map(|_| ())
            .map_err(Into::into)
    }

    /// Looks a model up in the (cached) catalog with LM Studio's id rules.
    pub async fn model_info(&self, model: &str) -> Result<Option<ModelInfo>, LmStudioError> {
        let catalog = self.models().await?;
        Ok(crate::model_id::find(&catalog.models, model)?.cloned())
    }

    pub(crate) fn engine(&self) -> &Arc<Engine> {
        self.inner.lease.engine()
    }

    pub(crate) fn cached_catalog(&self) -> Option<Arc<ModelCatalog>> {
        self.engine()
            .cached_catalog(self.inner.settings.catalog_ttl)
    }

    /// Forgets the cached model list (for every client of this server), so the next call
    /// asks the server.
    pub fn invalidate_models(&self) {
        self.engine().invalidate_catalog();
    }

    /// Maps a transport error. A refused connection or a rejected token also makes the
    /// shared engine forget what it detected: the server may come back as another version,
    /// or with other auth settings.
    pub(crate) fn map_http(&self, err: lmstudio_transport::Error) -> LmStudioError {
        let mapped = LmStudioError::from_transport(err, &self.inner.settings.error_context());
        if matches!(
            mapped,
            LmStudioError::NotResponding { .. } | LmStudioError::Auth { .. }
        ) {
            self.engine().forget_server();
        }
        mapped
    }
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
