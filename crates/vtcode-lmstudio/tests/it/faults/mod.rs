//! The fault catalogue's facade cases (docs/faults.md), one module per concern: time limits,
//! wrong answers, broken streams, failed downloads, a misbehaving `lms`. Shared here: configs
//! and clients for emulators and for the raw fault server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bodies;
mod downloads;
mod lms;
mod streams;
mod timeouts;

use std::time::Duration;

use lmstudio_testkit::fault::{Fault, FaultServer};
use lmstudio_testkit::{CatalogModel, Emulator, EmulatorBuilder};
use vtcode_config::{PreloadMode, VTCodeConfig};
use vtcode_lmstudio::proto::openai::{ChatCompletionRequest, ChatMessage};
use vtcode_lmstudio::{LMStudioClient, NoProgress};

use crate::support::config_for;

/// The model every case asks for.
pub(crate) const MODEL: &str = "openai/gpt-oss-20b";
/// A token variable nobody sets, so no test reads a token from this machine.
pub(crate) const NO_TOKEN_VAR: &str = "VTCODE_LMSTUDIO_FAULT_TESTS_NO_TOKEN";

pub(crate) fn emulator_config(emulator: &Emulator) -> VTCodeConfig {
    let mut config = VTCodeConfig::default()
        .with_base_url(emulator.url())
        .with_preload(PreloadMode::Wait)
        .with_lms_path("/nonexistent/lms-for-tests");
    config.lmstudio.api_token_env = NO_TOKEN_VAR.to_owned();
    config.lmstudio.connect_timeout_ms = 2_000;
    config.lmstudio.request_timeout_ms = 10_000;
    config
}

pub(crate) fn emulator_client(config: &VTCodeConfig) -> LMStudioClient {
    LMStudioClient::builder(config)
        .reporter(std::sync::Arc::new(NoProgress))
        .poll_interval(Duration::from_millis(10))
        .index_wait(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// An emulator with the model downloaded and loaded.
pub(crate) fn loaded() -> EmulatorBuilder {
    Emulator::builder().model(CatalogModel::gpt_oss_20b().loaded(true))
}

pub(crate) fn chat(text: &str) -> ChatCompletionRequest {
    ChatCompletionRequest::new(MODEL, vec![ChatMessage::user(text)])
}

/// A config for `url` with 200 ms time limits and a 64 KiB body limit.
pub(crate) fn short_config(url: &str) -> VTCodeConfig {
    let mut config = config_for(url);
    config.lmstudio.api_token_env = NO_TOKEN_VAR.to_owned();
    config.lmstudio.response_headers_timeout_ms = 200;
    config.lmstudio.idle_timeout_ms = 200;
    config.lmstudio.request_timeout_ms = 5_000;
    config.lmstudio.max_body_bytes = 64 * 1024;
    config
}

pub(crate) fn plain_client(config: &VTCodeConfig) -> LMStudioClient {
    LMStudioClient::new(config).unwrap()
}

/// The error `fetch_models()` gives against a fault server playing `fault` (short limits).
pub(crate) async fn models_error(fault: Fault) -> (FaultServer, std::io::Error) {
    let server = FaultServer::start(fault).await.unwrap();
    let err = plain_client(&short_config(&server.url()))
        .fetch_models()
        .await
        .unwrap_err();
    (server, err)
}

pub(crate) fn chat_request() -> ChatCompletionRequest {
    ChatCompletionRequest::new("openai/gpt-oss-20b", vec![ChatMessage::user("hi")])
}
