//! Loading a model: `POST /api/v1/models/load` when no instance is loaded, else nothing;
//! older servers: `lms load --yes`, then a minimal inference request (JIT loading). An idle
//! TTL goes through `lms load --ttl` (or a JIT request's `ttl`), never over REST.

use std::time::Duration;

use lmstudio_proto::native::v1;
use lmstudio_proto::openai::{
    ChatCompletionRequest, ChatMessage, EmbeddingInput, EmbeddingRequest,
};
use serde_json::Value;

use crate::catalog::ModelInfo;
use crate::client::LMStudioClient;
use crate::error::LmStudioError;
use crate::model_id;
use crate::progress::{ProgressEvent, ProgressReporter};
use crate::server::{NativeApi, ServerKind};
use crate::single_flight::FlightProgress;

/// How a model was loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadMethod {
    /// `POST /api/v1/models/load`.
    Rest,
    /// `lms load <key> --yes`.
    LmsCli,
    /// A one-token inference request that made LM Studio load it just in time.
    JitRequest,
}

impl std::fmt::Display for LoadMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Rest => "LM Studio REST API",
            Self::LmsCli => "lms load",
            Self::JitRequest => "a just-in-time load request",
        })
    }
}

/// The result of a load call.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LoadOutcome {
    /// An instance was already loaded; nothing was done.
    AlreadyLoaded {
        /// The instance id to send as `model`.
        instance_id: String,
    },
    /// The model was loaded by this call (or a concurrent call it waited for).
    Loaded {
        /// The instance id to send as `model`.
        instance_id: String,
        /// How.
        method: LoadMethod,
        /// Load time reported by the server, when it says.
        load_seconds: Option<f64>,
        /// The context asked for and the one the instance really has.
        context: LoadedContext,
    },
}

impl LoadOutcome {
    /// The instance id to send as `model` in requests.
    pub fn instance_id(&self) -> &str {
        match self {
            Self::AlreadyLoaded { instance_id } | Self::Loaded { instance_id, .. } => instance_id,
        }
    }
}

/// The context a load asked for, and the one the loaded instance really has: LM Studio fits
/// the context to memory when it loads (`llama.load.autoFit`, on by default since 2026-07)
/// and caps it at the model's maximum, so the two can differ.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadedContext {
    /// The context length the load asked for (`None`: LM Studio's default).
    pub requested: Option<u32>,
    /// The context length the instance was loaded with, read back after the load (`None`
    /// when the server does not say).
    pub actual: Option<u64>,
}

impl LoadedContext {
    /// True when a context was asked for and the instance has another one.
    pub fn differs(&self) -> bool {
        matches!((self.requested, self.actual), (Some(asked), Some(got)) if u64::from(asked) != got)
    }

    /// A warning for reports when [`differs`](Self::differs), naming both lengths.
    pub fn warning(&self, model: &str) -> Option<String> {
        match (self.requested, self.actual) {
            (Some(asked), Some(got)) if u64::from(asked) != got => Some(format!(
                "{model} was loaded with a context of {got} tokens, not the {asked} asked for \
                 (LM Studio fits the context to memory and to the model's maximum)"
            )),
            _ => None,
        }
    }
}

/// Options for a load; unset fields fall back to the config (`context_length`, `ttl_seconds`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadOptions {
    /// Context length to load with.
    pub context_length: Option<u32>,
    /// Idle time-to-live in seconds: LM Studio unloads the instance after this long without
    /// requests. Set with `lms load --ttl` (also on LM Studio 0.4, whose REST load API does
    /// not document a TTL, so it is never sent there) or a JIT request's `ttl`. When neither
    /// is possible (0.4 without `lms` on this machine) the model is loaded over REST without
    /// it, with a `tracing` warning and a readiness-report warning.
    pub ttl_seconds: Option<u64>,
}

impl LoadOptions {
    /// Options with a context length.
    pub fn with_context_length(mut self, tokens: u32) -> Self {
        self.context_length = Some(tokens);
        self
    }

    /// Options with an idle TTL.
    pub fn with_ttl_seconds(mut self, seconds: u64) -> Self {
        self.ttl_seconds = Some(seconds);
        self
    }
}

/// The report's warning when a TTL was asked for and the load went over REST (which takes
/// none).
pub(crate) fn ttl_warning(
    model: &str,
    method: LoadMethod,
    ttl_seconds: Option<u64>,
) -> Option<String> {
    match (method, ttl_seconds) {
        (LoadMethod::Rest, Some(ttl)) => Some(format!(
            "{model} was loaded without the idle TTL of {ttl} s: it is set with `lms load --ttl`,              and no lms was found for this server (LM Studio's REST load API documents no TTL)"
        )),
        _ => None,
    }
}

impl LMStudioClient {
    /// Loads `model` with the config's options unless an instance is already loaded.
    pub async fn load(&self, model: &str) -> Result<LoadOutcome, LmStudioError> {
        self.load_with(model, &LoadOptions::default()).await
    }

    /// Loads `model` unless an instance is already loaded. Concurrent loads of one model,
    /// from any client of this server in the process, share one load; never creates a
    /// duplicate instance. Chat, completion and embedding requests for the model wait for
    /// the load (bounded by the load timeout) instead of racing it.
    pub async fn load_with(
        &self,
        model: &str,
        options: &LoadOptions,
    ) -> Result<LoadOutcome, LmStudioError> {
        let reporter = self.inner.reporter.clone();
        self.load_reported(model, options, reporter.as_ref()).await
    }

    /// [`load_with`](Self::load_with), with the load's progress going to `reporter`.
    pub(crate) async fn load_reported(
        &self,
        model: &str,
        options: &LoadOptions,
        reporter: &dyn ProgressReporter,
    ) -> Result<LoadOutcome, LmStudioError> {
        model_id::validate(model)?;
        let _loading = self.engine().mark_loading(&[model]);
        let server = self.server_info().await?;
        if server.kind == ServerKind::OpenAiCompatible {
            return Err(server.unsupported("load_model"));
        }
        let info = self
            .require_model(model, server.listing.lists_unloaded_models())
            .await?;
        if let Some(info) = &info
            && info.is_loaded()
        {
            return Ok(LoadOutcome::AlreadyLoaded {
                instance_id: info.request_id().to_owned(),
            });
        }
        let key = info.as_ref().map_or(model, |i| i.key.as_str()).to_owned();
        let flight_key = key.to_ascii_lowercase();
        let options = LoadOptions {
            context_length: options
                .context_length
                .or(self.inner.settings.context_length),
            ttl_seconds: options.ttl_seconds.or(self.inner.settings.ttl_seconds),
        };
        let client = self.clone();
        self.engine()
            .loads
            .run(&flight_key, reporter, move |progress| {
                // Held by the load's own task: requests for the model keep waiting for it
                // even if the caller that started it is cancelled.
                let loading = client.engine().mark_loading(&[&key]);
                async move {
                    let _loading = loading;
                    client.load_uncached(&key, info, &options, &progress).await
                }
            })
            .await
    }

    /// Finds the model, or fails with the list of what the server has. When the listing does
    /// not include unloaded models, a missing model is not an error (it may still be on disk).
    async fn require_model(
        &self,
        model: &str,
        listing_is_complete: bool,
    ) -> Result<Option<ModelInfo>, LmStudioError> {
        let catalog = self.models().await?;
        match model_id::find(&catalog.models, model)? {
            Some(info) => Ok(Some(info.clone())),
            None if listing_is_complete => Err(LmStudioError::ModelNotFound {
                model: model.to_owned(),
                url: self.base_url().to_owned(),
                available: catalog.keys().into_iter().take(50).collect(),
            }),
            None => Ok(None),
        }
    }

    async fn load_uncached(
        &self,
        key: &str,
        info: Option<ModelInfo>,
        options: &LoadOptions,
        reporter: &FlightProgress,
    ) -> Result<LoadOutcome, LmStudioError> {
        // Another caller may have finished loading between our check and our turn.
        self.invalidate_models();
        if let Ok(Some(fresh)) = self.model_info(key).await
            && fresh.is_loaded()
        {
            return Ok(LoadOutcome::AlreadyLoaded {
                instance_id: fresh.request_id().to_owned(),
            });
        }
        reporter.report(&ProgressEvent::LoadStarted {
            model: key.to_owned(),
        });
        let server = self.server_info().await?;
        let result = match server.kind {
            ServerKind::LmStudio(NativeApi::V1) => match self.lms_for_ttl(options) {
                Some(lms) => self.load_with_lms(lms, key, options).await,
                None => self.load_rest(key, options).await,
            },
            _ => self.load_legacy(key, info.as_ref(), options).await,
        };
        self.invalidate_models();
        let mut result = result;
        if let Ok(LoadOutcome::Loaded {
            instance_id,
            context,
            ..
        }) = &mut result
        {
            context.requested = options.context_length;
            if context.actual.is_none() {
                context.actual = self.loaded_context(key, instance_id).await;
            }
        }
        if let Ok(LoadOutcome::Loaded {
            instance_id,
            load_seconds,
            ..
        }) = &result
        {
            reporter.report(&ProgressEvent::LoadFinished {
                model: key.to_owned(),
                instance_id: instance_id.clone(),
                load_seconds: *load_seconds,
            });
        }
        result
    }

    async fn load_rest(
        &self,
        key: &str,
        options: &LoadOptions,
    ) -> Result<LoadOutcome, LmStudioError> {
        let limit = self.inner.settings.load_timeout;
        let mut request = v1::LoadRequest::new(key);
        request.context_length = options.context_length.map(u64::from);
        // The answer then says which context the instance really got.
        request.echo_load_config = Some(true);
        let response: v1::LoadResponse = self
            .http()
            .post("/api/v1/models/load")
            .json(&request)
            .response_headers_timeout(limit)
            .deadline(limit)
            .send_json()
            .await
            .map_err(|e| self.map_http(e))?;
        Ok(LoadOutcome::Loaded {
            instance_id: response
                .instance_id
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| key.to_owned()),
            method: LoadMethod::Rest,
            load_seconds: crate::numbers::seconds(response.load_time_seconds),
            context: LoadedContext {
                requested: None,
                actual: response.load_config.as_ref().and_then(|c| c.context_length),
            },
        })
    }

    /// The context the instance `instance_id` of `key` has, from a fresh model list.
    async fn loaded_context(&self, key: &str, instance_id: &str) -> Option<u64> {
        let info = self.model_info(key).await.ok().flatten()?;
        let instance = info
            .loaded_instances
            .iter()
            .find(|i| i.id == instance_id)
            .or_else(|| info.loaded_instances.first());
        instance
            .and_then(|i| i.context_length)
            .or(info.loaded_context_length)
    }

    /// On LM Studio 0.4, a load with a TTL goes through `lms load --ttl` when `lms` is on
    /// this machine: the REST load API documents no TTL, and this crate sends none there
    /// until a real server shows it is honoured. Without `lms` the REST load goes ahead
    /// without the TTL (a warning).
    fn lms_for_ttl(&self, options: &LoadOptions) -> Option<lmstudio_lms::Lms> {
        let ttl = options.ttl_seconds?;
        let found = if self.inner.settings.lms_allowed() {
            self.lms().ok()
        } else {
            None
        };
        if found.is_none() {
            tracing::warn!(
                ttl_seconds = ttl,
                "no lms for this server: loading over REST without the idle TTL (the REST load                  API does not document one)"
            );
        }
        found
    }

    /// `lms load <key> --yes [-c N] [--ttl N]`, within the load timeout.
    async fn load_with_lms(
        &self,
        lms: lmstudio_lms::Lms,
        key: &str,
        options: &LoadOptions,
    ) -> Result<LoadOutcome, LmStudioError> {
        let lms = lms.with_timeout(self.inner.settings.load_timeout);
        let lms_options = lmstudio_lms::LoadOptions::default()
            .with_context_length(options.context_length)
            .with_ttl_seconds(options.ttl_seconds);
        lms.load(key, &lms_options)
            .await
            .map_err(LmStudioError::from_lms)?;
        self.invalidate_models();
        let instance_id = match self.model_info(key).await {
            Ok(Some(fresh)) => fresh.request_id().to_owned(),
            _ => key.to_owned(),
        };
        Ok(LoadOutcome::Loaded {
            instance_id,
            method: LoadMethod::LmsCli,
            load_seconds: None,
            context: LoadedContext::default(),
        })
    }

    /// Servers without `/api/v1`: `lms load` on this machine, else a JIT inference request.
    async fn load_legacy(
        &self,
        key: &str,
        info: Option<&ModelInfo>,
        options: &LoadOptions,
    ) -> Result<LoadOutcome, LmStudioError> {
        if self.inner.settings.lms_allowed() {
            match self.lms() {
                Ok(lms) => return self.load_with_lms(lms, key, options).await,
                Err(LmStudioError::LmsNotFound) => {
                    tracing::debug!("lms not found; loading {key} with a JIT request instead");
                }
                Err(other) => return Err(other),
            }
        }
        self.load_by_request(key, info.is_some_and(ModelInfo::is_embedding), options)
            .await
    }

    /// A minimal inference request: LM Studio loads the model just in time to answer it.
    async fn load_by_request(
        &self,
        key: &str,
        embedding: bool,
        options: &LoadOptions,
    ) -> Result<LoadOutcome, LmStudioError> {
        let limit = self.inner.settings.load_timeout;
        let mut extra = serde_json::Map::new();
        if let Some(ttl) = options.ttl_seconds {
            extra.insert("ttl".to_owned(), Value::from(ttl));
        }
        let started = std::time::Instant::now();
        let result: Result<Value, _> = if embedding {
            let mut request = EmbeddingRequest::new(key, EmbeddingInput::from("."));
            request.extra = extra;
            self.http()
                .post("/v1/embeddings")
                .json(&request)
                .response_headers_timeout(limit)
                .deadline(limit)
                .send_json()
                .await
        } else {
            let mut request = ChatCompletionRequest::new(key, vec![ChatMessage::user(".")]);
            request.max_tokens = Some(1);
            request.ttl = options.ttl_seconds;
            self.http()
                .post("/v1/chat/completions")
                .json(&request)
                .response_headers_timeout(limit)
                .deadline(limit)
                .send_json()
                .await
        };
        result.map_err(|e| self.map_http(e))?;
        Ok(LoadOutcome::Loaded {
            instance_id: key.to_owned(),
            method: LoadMethod::JitRequest,
            load_seconds: Some(duration_secs(started.elapsed())),
            context: LoadedContext::default(),
        })
    }
}

fn duration_secs(d: Duration) -> f64 {
    d.as_secs_f64()
}
