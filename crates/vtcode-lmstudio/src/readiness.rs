//! The readiness flow: reach the server, read the catalog once, download what is missing,
//! load what is not loaded (in the background, awaited, or not at all).

use std::sync::Arc;
use std::time::{Duration, Instant};

use vtcode_config::PreloadMode;

use crate::auto_start::ServerStartStep;
use crate::catalog::ModelCatalog;
use crate::client::LMStudioClient;
use crate::download::DownloadOutcome;
use crate::error::LmStudioError;
use crate::load::{LoadMethod, LoadOptions, LoadOutcome, LoadedContext, ttl_warning};
use crate::memory_estimate;
use crate::model_id;
use crate::progress::{DownloadMethod, ProgressReporter};
use crate::server::{ServerInfo, ServerKind};
use crate::settings::UrlSource;
use crate::status::{LoadedModelStatus, instance_statuses};

/// What the readiness flow did about the download.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DownloadStep {
    /// The server already had the model.
    AlreadyPresent,
    /// The model was downloaded by this call (or by a concurrent call it waited for).
    Downloaded {
        /// How.
        method: DownloadMethod,
        /// Bytes downloaded, when known.
        bytes: Option<u64>,
    },
    /// The check was skipped (the model list could not be read); see the warnings.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// What the readiness flow did about loading.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LoadStep {
    /// An instance was already loaded.
    AlreadyLoaded {
        /// The instance id to send as `model`.
        instance_id: String,
    },
    /// The model was loaded and the flow waited for it (`preload = "wait"`).
    Loaded {
        /// The instance id to send as `model`.
        instance_id: String,
        /// How it was loaded.
        method: LoadMethod,
        /// Load time reported by the server, when it says.
        load_seconds: Option<f64>,
        /// The context asked for and the one the instance has; when they differ the report
        /// also has a warning.
        context: LoadedContext,
    },
    /// A background task is loading it (`preload = "background"`); failures are logged.
    Background,
    /// Nothing was loaded.
    Skipped {
        /// Why (`preload = "off"`, or the server loads models itself).
        reason: String,
    },
}

/// Timings of one readiness run.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct ReadinessTimings {
    /// Reaching the server and reading the model list (an automatic start included).
    pub check: Duration,
    /// How long this call waited for an automatic start of the server, when one ran.
    pub server_start: Option<Duration>,
    /// The download, when one happened.
    pub download: Option<Duration>,
    /// The awaited load, when one happened.
    pub load: Option<Duration>,
    /// The whole run.
    pub total: Duration,
}

/// What [`LMStudioClient::ensure_ready`] found and did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReadinessReport {
    /// The server, when it could be identified.
    pub server: Option<ServerInfo>,
    /// The server root used, and where it came from.
    pub base_url: String,
    /// Where `base_url` came from.
    pub url_source: UrlSource,
    /// The local server was not running and `[lmstudio] auto_start` started it (this call or
    /// a concurrent one it waited for): on which port, and how long the start took.
    pub server_start: Option<ServerStartStep>,
    /// The model that was asked for.
    pub model: String,
    /// The server's key for it, when it is listed.
    pub model_key: Option<String>,
    /// What happened about the download.
    pub download: DownloadStep,
    /// What happened about loading.
    pub load: LoadStep,
    /// Problems that did not stop the flow (e.g. the model list could not be read, or LM
    /// Studio's estimate says the model will not fit in memory).
    pub warnings: Vec<String>,
    /// How long each step took.
    pub timings: ReadinessTimings,
    /// LM Studio's memory estimate for the load, read with `lms load --estimate-only` before
    /// loading (only when the flow loads, `lms` is on this machine and answers within
    /// [`lms_info_timeout`](crate::LMStudioClientBuilder::lms_info_timeout)). When it says
    /// the load will fail, [`warnings`](Self::warnings) says so too; the flow still loads.
    pub memory_estimate: Option<lmstudio_lms::LoadEstimate>,
    /// The instance requests will use, with its context, size, idle TTL and LM Link device,
    /// when known: for an instance already loaded, as the model list shows it (TTL and device
    /// only from an `lms` listing); for one this flow loaded, read back after the load, with
    /// TTL and device from `lms ps` when `lms` is on this machine. `None` for a background or
    /// skipped load.
    pub instance: Option<LoadedModelStatus>,
}

impl LMStudioClient {
    /// Makes `model` ready and reports what was done, using the config's preload mode.
    pub async fn ensure_ready(&self, model: &str) -> Result<ReadinessReport, LmStudioError> {
        let reporter = self.inner.reporter.clone();
        let preload = self.inner.settings.preload;
        self.ensure_ready_with(model, preload, reporter).await
    }

    /// Makes `model` ready with an explicit preload mode and progress reporter. Every event
    /// of the flow goes to `reporter`: the download's, the load's, and a background preload's
    /// (which is why it is shared, not borrowed).
    ///
    /// With `[lmstudio] auto_start` on, a local server that refuses connections is started
    /// first (`lms server start`, once for all concurrent callers; progress events
    /// [`StartingServer`](crate::ProgressEvent::StartingServer) and
    /// [`ServerStarted`](crate::ProgressEvent::ServerStarted); see
    /// [`ReadinessReport::server_start`]).
    ///
    /// Errors: an unreachable server (that could not be started), a rejected token, a failed
    /// download, a model that a non-LM-Studio server does not serve, and (with
    /// [`PreloadMode::Wait`]) a failed load. A model list that cannot be read is a warning in
    /// the report, as in the seed flow.
    pub async fn ensure_ready_with(
        &self,
        model: &str,
        preload: PreloadMode,
        reporter: Arc<dyn ProgressReporter>,
    ) -> Result<ReadinessReport, LmStudioError> {
        let started = Instant::now();
        model_id::validate(model)?;
        let mut report = ReadinessReport {
            server: None,
            base_url: self.base_url().to_owned(),
            url_source: self.inner.settings.url_source.clone(),
            server_start: None,
            model: model.to_owned(),
            model_key: None,
            download: DownloadStep::AlreadyPresent,
            load: LoadStep::Background,
            warnings: Vec::new(),
            timings: ReadinessTimings::default(),
            memory_estimate: None,
            instance: None,
        };

        let (listed, server_start) = self.models_starting_server(reporter.as_ref()).await;
        if server_start.is_some() {
            report.server_start = server_start;
            report.timings.server_start = Some(started.elapsed());
        }
        let catalog = match listed {
            Ok(catalog) => Some(catalog),
            Err(err @ (LmStudioError::NotResponding { .. } | LmStudioError::Auth { .. })) => {
                return Err(err);
            }
            Err(err) => {
                tracing::warn!(error = %err, model, "could not list LM Studio models; continuing");
                report
                    .warnings
                    .push(format!("could not list the server's models: {err}"));
                None
            }
        };
        report.server = self.detected_server();
        report.timings.check = started.elapsed();

        let mut loaded_instance = None;
        match &catalog {
            Some(catalog) => {
                let found = model_id::find(&catalog.models, model)?;
                match found {
                    Some(info) => {
                        report.model_key = Some(info.key.clone());
                        if info.is_loaded() {
                            loaded_instance = Some(info.request_id().to_owned());
                            report.instance = instance_statuses(info)
                                .into_iter()
                                .find(|s| s.instance_id == info.request_id());
                        }
                    }
                    None => {
                        self.refuse_download_on_foreign_server(&report, catalog, model)?;
                        let download_started = Instant::now();
                        let outcome = self.download(model, reporter.as_ref()).await?;
                        report.timings.download = Some(download_started.elapsed());
                        report.download = match outcome {
                            DownloadOutcome::AlreadyPresent { key } => {
                                report.model_key = Some(key);
                                DownloadStep::AlreadyPresent
                            }
                            DownloadOutcome::Downloaded { key, method, bytes } => {
                                report.model_key = Some(key);
                                DownloadStep::Downloaded { method, bytes }
                            }
                        };
                        report.server = self.detected_server();
                    }
                }
            }
            None => {
                report.download = DownloadStep::Skipped {
                    reason: "the model list could not be read".to_owned(),
                };
            }
        }

        report.load = if let Some(instance_id) = loaded_instance {
            LoadStep::AlreadyLoaded { instance_id }
        } else if report
            .server
            .as_ref()
            .is_some_and(|s| s.kind == ServerKind::OpenAiCompatible)
        {
            LoadStep::Skipped {
                reason: "this server is not LM Studio; it loads models itself".to_owned(),
            }
        } else {
            if preload != PreloadMode::Off {
                let key = report.model_key.as_deref().unwrap_or(model);
                report.memory_estimate = self.estimate_before_load(key, reporter.as_ref()).await;
                report.warnings.extend(
                    report
                        .memory_estimate
                        .as_ref()
                        .and_then(|estimate| memory_estimate::warning(model, estimate)),
                );
            }
            match preload {
                PreloadMode::Off => LoadStep::Skipped {
                    reason: "preload = \"off\"".to_owned(),
                },
                PreloadMode::Wait => {
                    let load_started = Instant::now();
                    let outcome = self
                        .load_reported(model, &LoadOptions::default(), reporter.as_ref())
                        .await?;
                    report.timings.load = Some(load_started.elapsed());
                    let key = report.model_key.as_deref().unwrap_or(model);
                    report.instance = self.fresh_instance_status(key, outcome.instance_id()).await;
                    match outcome {
                        LoadOutcome::AlreadyLoaded { instance_id } => {
                            LoadStep::AlreadyLoaded { instance_id }
                        }
                        LoadOutcome::Loaded {
                            instance_id,
                            method,
                            load_seconds,
                            context,
                        } => {
                            report.warnings.extend(context.warning(model));
                            report.warnings.extend(ttl_warning(
                                model,
                                method,
                                self.inner.settings.ttl_seconds,
                            ));
                            LoadStep::Loaded {
                                instance_id,
                                method,
                                load_seconds,
                                context,
                            }
                        }
                    }
                }
                PreloadMode::Background => {
                    self.spawn_background_load(model, reporter);
                    LoadStep::Background
                }
            }
        };
        report.timings.total = started.elapsed();
        Ok(report)
    }

    /// A non-LM-Studio server cannot download: say so, and list what it serves.
    fn refuse_download_on_foreign_server(
        &self,
        report: &ReadinessReport,
        catalog: &ModelCatalog,
        model: &str,
    ) -> Result<(), LmStudioError> {
        match &report.server {
            Some(server) if server.kind == ServerKind::OpenAiCompatible => {
                let served = catalog.keys();
                let list = if served.is_empty() {
                    "nothing".to_owned()
                } else {
                    served.join(", ")
                };
                Err(LmStudioError::Unsupported {
                    operation: format!("making {model} ready"),
                    url: server.base_url.clone(),
                    reason: format!(
                        "{model} is not among the models it serves ({list}), and it is an \
                         OpenAI-compatible server, not LM Studio, so it cannot download models. \
                         Set [agent].default_model to a served model or point LMSTUDIO_URL at \
                         LM Studio"
                    ),
                })
            }
            _ => Ok(()),
        }
    }

    /// The seed's preload: `tokio::spawn` the load and log failures with `tracing::warn!`.
    /// Its progress goes to the flow's reporter. The model is marked as loading
    /// before this returns, so a chat sent right after waits for the load instead of racing
    /// it (with JIT on, LM Studio could otherwise load a second instance).
    fn spawn_background_load(&self, model: &str, reporter: Arc<dyn ProgressReporter>) {
        let client = self.clone();
        let model = model.to_owned();
        let loading = self.engine().mark_loading(&[&model]);
        let task = async move {
            let _loading = loading;
            let loaded = client
                .load_reported(&model, &LoadOptions::default(), reporter.as_ref())
                .await;
            match loaded {
                Ok(outcome) => tracing::debug!(?outcome, model, "background preload finished"),
                Err(err) => tracing::warn!(error = %err, model, "background preload failed"),
            }
        };
        // This flow already runs on Tokio (its timers and sockets need it).
        tokio::spawn(task);
    }
}
