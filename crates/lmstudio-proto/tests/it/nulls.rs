//! `null` wherever a response or event type has a key: each key of a fully populated sample
//! set to `null` in turn, at every depth, must still parse (see `common::nulls`).
//!
//! Adding a type is one line in `populated_samples!` plus its sample in `data/populated/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::nulls::{assert_nulls_tolerated, assert_populated, defaults_in_debug, populated};
use lmstudio_proto::error::ErrorEnvelope;
use lmstudio_proto::lms::{LmsLoadedModel, LmsModel, LmsRuntimeSurvey, LmsServerStatus};
use lmstudio_proto::native::{v0, v1};
use lmstudio_proto::openai::{
    ChatCompletionChunk, ChatCompletionResponse, CompletionResponse, EmbeddingResponse, ModelList,
};
use lmstudio_proto::responses::{Response, ResponseStreamEvent};

/// For each `name: Type = "sample.json"`, a module `name` with two tests: the sample is fully
/// populated, and every key of it may be `null`.
macro_rules! populated_samples {
    ($($name:ident: $ty:ty = $file:literal;)+) => {$(
        mod $name {
            use super::*;

            const SAMPLE: &str = include_str!(concat!("../data/populated/", $file));

            #[test]
            fn sample_is_fully_populated() {
                let (value, serialized) = populated::<$ty>($file, SAMPLE);
                assert_populated($file, &value, &serialized);
            }

            #[test]
            fn every_key_may_be_null() {
                let (_, serialized) = populated::<$ty>($file, SAMPLE);
                assert_nulls_tolerated::<$ty>($file, &serialized);
            }
        }
    )+};
}

populated_samples! {
    openai_models: ModelList = "openai_models.json";
    openai_chat_response: ChatCompletionResponse = "openai_chat_response.json";
    openai_chat_chunks: Vec<ChatCompletionChunk> = "openai_chat_chunks.json";
    openai_completion: CompletionResponse = "openai_completion.json";
    openai_embeddings: EmbeddingResponse = "openai_embeddings.json";
    errors: Vec<ErrorEnvelope> = "errors.json";
    v0_models: v0::ModelsResponse = "v0_models.json";
    v1_models: v1::ModelsResponse = "v1_models.json";
    v1_download_status: v1::DownloadStatus = "v1_download_status.json";
    v1_load: v1::LoadResponse = "v1_load.json";
    v1_unload: v1::UnloadResponse = "v1_unload.json";
    v1_chat: v1::ChatResponse = "v1_chat.json";
    v1_chat_events: Vec<v1::ChatStreamEvent> = "v1_chat_events.json";
    lms_ls: Vec<LmsModel> = "lms_ls.json";
    lms_ps: Vec<LmsLoadedModel> = "lms_ps.json";
    lms_server_status: LmsServerStatus = "lms_server_status.json";
    responses_response: Response = "responses_response.json";
    responses_events: Vec<ResponseStreamEvent> = "responses_events.json";
    lms_runtime_survey: LmsRuntimeSurvey = "lms_runtime_survey.json";
}

#[test]
fn the_debug_scan_sees_defaults_outside_strings_only() {
    assert!(defaults_in_debug(r#"A { a: Some("x"), b: "{}[]None\"", c: NoneX }"#).is_empty());
    assert_eq!(
        defaults_in_debug(r#"A { a: None, b: "", c: [], d: {} }"#).len(),
        4
    );
}

#[test]
fn a_missing_field_or_a_refused_null_is_caught() {
    // The walker itself: a sample that leaves a field out fails the populated check ...
    let (value, serialized) = populated::<LmsServerStatus>("x", r#"{"running":true,"x":1}"#);
    let missed = std::panic::catch_unwind(|| assert_populated("x", &value, &serialized));
    assert!(missed.is_err(), "port is None");
    // ... and a type that refuses null for an optional key fails the null check.
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Strict {
        #[serde(default)]
        n: u32,
    }
    let refused = std::panic::catch_unwind(|| {
        assert_nulls_tolerated::<Strict>("strict", &serde_json::json!({"n": 1}))
    });
    assert!(refused.is_err(), "n = null is refused but n is optional");
}
