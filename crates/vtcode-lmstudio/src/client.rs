//! `LMStudioClient`: one cheap-to-clone handle holding the HTTP client, what the server
//! supports (detected once), a short-lived model catalog cache and the in-flight operations.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lmstudio_lms::Lms;
use lmstudio_transport::Client as HttpClient;
use vtcode_config::VTCodeConfig;

use crate::catalog::{ModelCatalog, ModelInfo};
use crate::download::DownloadOutcome;
use crate::error::LmStudioError;
use crate::load::LoadOutcome;
use crate::progress::{ProgressReporter, StderrReporter};
use crate::server::ServerInfo;
use crate::settings::Settings;
use crate::single_flight::SingleFlight;

/// A client for one LM Studio (or OpenAI-compatible) server.
///
/// Clones share the connection pool, the detected server capabilities, the model cache and
/// the in-flight downloads and loads, so concurrent readiness checks for the same model
/// download it once and load it once.
#[derive(Clone)]
pub struct LMStudioClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: HttpClient,
    pub(crate) settings: Settings,
    pub(crate) reporter: Arc<dyn ProgressReporter>,
    pub(crate) server: Mutex<Option<ServerInfo>>,
    pub(crate) catalog: Mutex<Option<(Instant, Arc<ModelCatalog>)>>,
    pub(crate) lms: Mutex<Option<Lms>>,
    pub(crate) downloads: SingleFlight<DownloadOutcome, LmStudioError>,
    pub(crate) loads: SingleFlight<LoadOutcome, LmStudioError>,
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

    /// Builds a client from the config without any I/O.
    pub fn new(config: &VTCodeConfig) -> Result<Self, LmStudioError> {
        let settings = Settings::from_config(config)?;
        let ctx = settings.error_context();
        let http = HttpClient::builder(settings.endpoint.clone())
            .bearer_token(settings.token.clone())
            .limits(settings.limits)
            .build()
            .map_err(|e| LmStudioError::from_transport(e, &ctx))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                settings,
                reporter: Arc::new(StderrReporter::new()),
                server: Mutex::new(None),
                catalog: Mutex::new(None),
                lms: Mutex::new(None),
                downloads: SingleFlight::default(),
                loads: SingleFlight::default(),
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

    pub(crate) fn cached_catalog(&self) -> Option<Arc<ModelCatalog>> {
        let ttl = self.inner.settings.catalog_ttl;
        let guard = lock(&self.inner.catalog);
        guard
            .as_ref()
            .filter(|(at, _)| at.elapsed() < ttl)
            .map(|(_, catalog)| catalog.clone())
    }

    pub(crate) fn store_catalog(&self, catalog: Arc<ModelCatalog>) {
        *lock(&self.inner.catalog) = Some((Instant::now(), catalog));
    }

    /// Forgets the cached model list, so the next call asks the server.
    pub fn invalidate_models(&self) {
        *lock(&self.inner.catalog) = None;
    }

    pub(crate) fn map_http(&self, err: lmstudio_transport::Error) -> LmStudioError {
        LmStudioError::from_transport(err, &self.inner.settings.error_context())
    }
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
