//! `lms ls --json`, `lms ps --json` and `lms server status --json` outputs parse and round-trip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::round_trip;
use lmstudio_proto::lms::{
    LmsInstanceStatus, LmsLoadedModel, LmsModel, LmsModelType, LmsQuantization, LmsServerStatus,
};

#[test]
fn docs_ls_example() {
    let models: Vec<LmsModel> = round_trip(
        "docs_lms_ls_json_sdk_example",
        include_str!("../data/lmstudio/docs_lms_ls_json_sdk_example.json"),
    );
    assert_eq!(models.len(), 2);
    let qwen = &models[0];
    assert_eq!(qwen.model_key, "qwen2.5-7b-instruct");
    assert_eq!(qwen.model_type, Some(LmsModelType::Llm));
    assert_eq!(qwen.size_bytes, Some(4_683_073_952));
    assert_eq!(qwen.max_context_length, Some(32768));
    assert_eq!(qwen.trained_for_tool_use, Some(true));
    assert_eq!(qwen.vision, Some(false));
    assert!(models[1].is_embedding());
    assert_eq!(
        models[1].model_key,
        "text-embedding-nomic-embed-text-v1.5@q4_k_m"
    );
}

#[test]
fn current_ls_row_with_variants() {
    let models: Vec<LmsModel> = round_trip(
        "reference_lms_ls_json",
        include_str!("../data/lmstudio/reference_lms_ls_json.json"),
    );
    let model = &models[0];
    assert_eq!(model.model_key, "qwen/qwen3.8-27b");
    let quantization: &LmsQuantization = model.quantization.as_ref().unwrap();
    assert_eq!(quantization.name.as_deref(), Some("Q4_K_M"));
    assert_eq!(quantization.bits, Some(4.0));
    assert!(quantization.extra.is_empty());
    assert_eq!(model.variants, ["qwen/qwen3.8-27b@q4_k_m"]);
    assert_eq!(
        model.selected_variant.as_deref(),
        Some("qwen/qwen3.8-27b@q4_k_m")
    );
    assert_eq!(model.device_identifier, None);
    assert!(
        model.extra.is_empty(),
        "unexpected extra: {:?}",
        model.extra
    );
}

#[test]
fn ps_row() {
    let loaded: Vec<LmsLoadedModel> = round_trip(
        "reference_lms_ps_json",
        include_str!("../data/lmstudio/reference_lms_ps_json.json"),
    );
    let row = &loaded[0];
    assert_eq!(row.instance_id(), "ornith-1.0-35b-mlx-oq8");
    assert_eq!(row.model.model_key, "ornith-1.0-35b-mlx-oq8");
    assert_eq!(row.model.format.as_deref(), Some("safetensors"));
    assert_eq!(row.ttl_ms, None);
    assert_eq!(row.last_used_time, Some(1_786_252_670_392));
    assert_eq!(row.context_length, Some(65536));
    assert_eq!(row.status, Some(LmsInstanceStatus::Idle));
    assert_eq!(row.queued, Some(0));
    assert_eq!(row.parallel, Some(2));
    assert!(
        row.model.extra.is_empty(),
        "unexpected extra: {:?}",
        row.model.extra
    );
}

#[test]
fn ps_without_identifier_falls_back_to_the_key() {
    let row: LmsLoadedModel =
        serde_json::from_str(r#"{"modelKey":"a/b","status":"warmingUp","ttlMs":3600000}"#).unwrap();
    assert_eq!(row.instance_id(), "a/b");
    assert_eq!(
        row.status,
        Some(LmsInstanceStatus::Other("warmingUp".into()))
    );
    let text = serde_json::to_string(&row).unwrap();
    assert!(text.contains(r#""status":"warmingUp""#), "{text}");
}

#[test]
fn empty_lists() {
    let models: Vec<LmsModel> = serde_json::from_str("[]").unwrap();
    assert!(models.is_empty());
    let loaded: Vec<LmsLoadedModel> = serde_json::from_str("[]").unwrap();
    assert!(loaded.is_empty());
}

#[test]
fn server_status() {
    let running: LmsServerStatus = round_trip("running", r#"{"running":true,"port":1234}"#);
    assert!(running.running);
    assert_eq!(running.port, Some(1234));
    let stopped: LmsServerStatus = round_trip("stopped", r#"{"running":false}"#);
    assert!(!stopped.running);
    assert_eq!(stopped.port, None);
    assert_eq!(
        serde_json::to_string(&stopped).unwrap(),
        r#"{"running":false}"#
    );
}
