//! `LMStudioClient`: one cheap-to-clone handle holding its own settings, reporter and HTTP
//! client, attached to the shared engine of its server (detection, catalog cache, in-flight
//! downloads and loads, warm connections).

use std::io;
use std::sync::{Arc, Mutex};

use lmstudio_lms::Lms;
use lmstudio_transport::Client as HttpClient;
use vtcode_config::VTCodeConfig;

use crate::catalog::{ModelCatalog, ModelInfo};
use crate::engine::{Engine, EngineLease};
use crate::error::LmStudioError;
use crate::progress::ProgressReporter;
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
    /// Builds a client from the config and checks that the server answers. With
    /// `[lmstudio] auto_start` on, a local server that refuses connections is started first
    /// (as in [`ensure_ready`](Self::ensure_ready)).
    ///
    /// Fails with `ConnectionRefused` (or `TimedOut` for a connect timeout) and the message
    /// "LM Studio is not responding. ..." when the server is not reachable, and with
    /// `PermissionDenied` when it rejects the token. Any other failure to list models is
    /// logged as a warning: the client is still returned.
    pub async fn try_from_provider(config: &VTCodeConfig) -> io::Result<Self> {
        let client = Self::new(config)?;
        let reporter = client.inner.reporter.clone();
        match client.models_starting_server(reporter.as_ref()).await.0 {
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

    /// Builds a client from the config, attached to the process's shared engine for its
    /// server (created on first use). No network I/O; when the config names no server, this
    /// reads LM Studio's small record of its server port (see [`LMStudioClient::builder`]).
    /// The same as `LMStudioClient::builder(config).build()`.
    pub fn new(config: &VTCodeConfig) -> Result<Self, LmStudioError> {
        Self::builder(config).build()
    }

    /// The server root, e.g. `http://localhost:1234`.
    pub fn base_url(&self) -> &str {
        self.inner.settings.endpoint.root()
    }

    /// Where [`base_url`](Self::base_url) came from: `LMSTUDIO_URL` / `[lmstudio] base_url`,
    /// LM Studio's record of its server port, the default, or code.
    pub fn url_source(&self) -> &crate::UrlSource {
        &self.inner.settings.url_source
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
    /// the reporter set with [`LMStudioClientBuilder::reporter`](crate::LMStudioClientBuilder::reporter)),
    /// then waits until the model appears in the list.
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
