//! Make a local LM Studio model ready and usable for a coding agent.
//!
//! The entry point most programs need:
//!
//! ```no_run
//! use vtcode_config::ConfigManager;
//! use vtcode_lmstudio::ensure_oss_ready;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = ConfigManager::load_from_workspace(".")?;
//! ensure_oss_ready(manager.config()).await?;
//! # Ok(())
//! # }
//! ```
//!
//! [`ensure_oss_ready`] reaches the server (a refused connection fails in milliseconds), reads
//! the model list once, downloads the model with progress on stderr if it is missing, then
//! loads it in the background. [`LMStudioClient`] offers each step separately, an awaited
//! variant with a [`ReadinessReport`], model metadata, chat (streamed or not), completions,
//! embeddings, the OpenAI Responses API ([`ResponsesStream`]), the Anthropic Messages API
//! ([`MessagesStream`]), and LM Studio's native chat with model-load progress
//! ([`NativeChatStream`]).
//!
//! **Two layers.** The seed API — [`ensure_oss_ready`], [`LMStudioClient::try_from_provider`],
//! [`fetch_models`](LMStudioClient::fetch_models), [`load_model`](LMStudioClient::load_model)
//! and [`download_model`](LMStudioClient::download_model) — keeps the `std::io::Result`
//! signatures other code compiles against, with the error kinds and verbatim messages of its
//! contract. Everything else is the typed layer, named by its verb (`models`, `download`,
//! `load`, `unload`, `status`, `ensure_ready`, `chat`, `chat_stream`, ...), returning
//! [`LmStudioError`] with predicates (`is_not_responding`, `is_timeout`, `is_connect`,
//! `is_auth`, `is_not_found`) and the cause in its `source()`. The seed functions are thin
//! wrappers over the typed ones, and clients are configured with
//! [`LMStudioClient::builder`] (from a `VTCodeConfig`) or [`LMStudioClientBuilder::new`]
//! (from a URL, for agents that are not VT Code).
//!
//! Errors from the seed API are `std::io::Error`s whose inner error is an [`LmStudioError`]:
//!
//! ```no_run
//! # async fn run(config: &vtcode_config::VTCodeConfig) {
//! if let Err(err) = vtcode_lmstudio::ensure_oss_ready(config).await {
//!     match err.get_ref().and_then(|e| e.downcast_ref::<vtcode_lmstudio::LmStudioError>()) {
//!         Some(typed) if typed.is_not_responding() => eprintln!("start LM Studio: {typed}"),
//!         _ => eprintln!("{err}"),
//!     }
//! }
//! # }
//! ```

mod auto_start;
mod builder;
mod catalog;
mod client;
mod context;
mod convert;
mod download;
mod engine;
mod error;
mod inference;
mod listing;
mod load;
mod memory_estimate;
mod messages;
mod messages_stream;
mod model_id;
mod native_chat;
mod numbers;
mod progress;
mod readiness;
mod resources;
mod responses;
mod responses_stream;
#[cfg(test)]
mod send_checks;
mod server;
mod settings;
mod single_flight;
mod status;
mod stream_error;

use std::io;

pub use auto_start::ServerStartStep;
pub use builder::LMStudioClientBuilder;
pub use catalog::{
    Capabilities, CatalogSource, LoadedInstanceInfo, ModelCatalog, ModelInfo, ModelKind,
    ModelState, ReasoningOptions,
};
pub use client::LMStudioClient;
pub use download::DownloadOutcome;
pub use error::{
    ErrorSource, LMS_NOT_FOUND_MESSAGE, LmStudioError, NOT_RESPONDING_MESSAGE, ServerStartError,
};
pub use inference::{ChatStream, ChatStreamSummary};
pub use load::{LoadMethod, LoadOptions, LoadOutcome, LoadedContext};
pub use memory_estimate::DEFAULT_LMS_INFO_TIMEOUT;
pub use messages_stream::{MessagesStream, MessagesStreamSummary, ToolInputError};
pub use native_chat::{NativeChatStream, NativeChatSummary, NativeModelLoad};
pub use progress::{
    DownloadMethod, NoProgress, ProgressEvent, ProgressReporter, StderrReporter, format_bytes,
    progress_line,
};
pub use readiness::{DownloadStep, LoadStep, ReadinessReport, ReadinessTimings};
pub use resources::{EngineResources, GpuResources, RESOURCE_LIMITS, Resources};
pub use responses::{LMSTUDIO_TOOL_TYPES, strip_unsupported_tools};
pub use responses_stream::{ResponsesStream, ResponsesStreamSummary};
pub use server::{NativeApi, ServerInfo, ServerKind};
pub use settings::{DEFAULT_BASE_URL, UrlSource};
pub use status::LoadedModelStatus;

pub use lmstudio_lms::{EstimateVerdict, LmsError, LoadEstimate};
/// Re-exported wire types, so callers can build requests without another dependency.
pub use lmstudio_proto as proto;
/// Re-exported HTTP layer: [`LMStudioClient::http`] returns its `Client`, and
/// [`LMStudioClientBuilder::limits`] takes its `Limits`.
pub use lmstudio_transport as transport;
pub use lmstudio_transport::Limits;
/// Re-exported so callers can name [`http::StatusCode`] (see [`LmStudioError::status`]).
pub use lmstudio_transport::http;
pub use vtcode_config::{PreloadMode, VTCodeConfig};

// The README's examples compile as doctests, so the quick start cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExamples;

#[cfg(doctest)]
#[doc = include_str!("../../../docs/api-tour.md")]
struct ApiTourExamples;

/// Forgets what this process knows about the server at `base_url` (with or without `/v1`):
/// its shared engine — detected kind, cached model list, idle connections — is dropped from
/// the registry, for every token, so the next client probes the server afresh. Clients that
/// exist keep their engine. Use it after replacing the server at that address (another LM
/// Studio version, another program on the port); a refused connection already does this.
/// Returns how many engines were forgotten; an unusable URL forgets nothing.
pub fn forget_server(base_url: &str) -> usize {
    match lmstudio_transport::Endpoint::parse(base_url) {
        Ok(endpoint) => engine::forget(endpoint.root()),
        Err(_) => 0,
    }
}

/// The model made ready when `[agent].default_model` is not set.
pub const DEFAULT_OSS_MODEL: &str = "openai/gpt-oss-20b";

/// Makes the configured model ready: reach LM Studio, download the model if it is missing
/// (progress on stderr), then preload it per `[lmstudio].preload` (default: in the background
/// with `tokio::spawn`, failures logged with `tracing::warn!`). With `[lmstudio] auto_start =
/// true`, a local server that refuses connections is first started with `lms server start`
/// (one start at a time per port, whoever asks: concurrent callers share it); off by default,
/// and nothing else ever starts LM Studio.
///
/// Errors keep the seed's contract: `ConnectionRefused` "LM Studio is not responding. ..."
/// when the server is unreachable, `NotFound` "LM Studio not found. ..." when `lms` is needed
/// and missing, `PermissionDenied` when the token is missing or wrong, and `Other` with the
/// exit code and stderr of a failed `lms get`. A model list that cannot be read is only a
/// warning. The inner error is an [`LmStudioError`].
pub async fn ensure_oss_ready(config: &VTCodeConfig) -> io::Result<()> {
    ensure_oss_ready_with_report(config)
        .await
        .map(|_| ())
        .map_err(Into::into)
}

/// The awaited variant of [`ensure_oss_ready`]: the same flow, returning what was done and
/// how long it took. With `preload = "wait"` it also waits for the load.
pub async fn ensure_oss_ready_with_report(
    config: &VTCodeConfig,
) -> Result<ReadinessReport, LmStudioError> {
    let client = LMStudioClient::new(config)?;
    let model = client.default_model().to_owned();
    client.ensure_ready(&model).await
}

// The crate's README examples compile as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadmeExamples;
