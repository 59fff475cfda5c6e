//! `lms runtime survey --json`: realistic outputs parse with every field where it belongs and
//! round-trip; hostile numbers read as unknown without failing the parse; unknown enum values
//! and fields are kept.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::round_trip;
use lmstudio_proto::lms::{
    LmsCompatibilityStatus, LmsCpuArchitecture, LmsCpuInstructionSetExtension,
    LmsGpuDetectionPlatform, LmsGpuIntegrationType, LmsLoadedModel, LmsRuntimeSurvey,
    LmsSurveyResultCode, LmsSurveyStatus,
};
use serde_json::{Value, json};

const CUDA: &str = include_str!("../data/lmstudio/reference_lms_runtime_survey_cuda.json");
const APPLE: &str = include_str!("../data/lmstudio/reference_lms_runtime_survey_apple.json");

#[test]
fn a_cuda_machine_reads_field_by_field() {
    let survey: LmsRuntimeSurvey = round_trip("survey_cuda", CUDA);
    assert_eq!(survey.status, Some(LmsSurveyStatus::Ok));
    assert_eq!(survey.engines.len(), 1);
    let engine = survey.primary_engine().unwrap();
    assert_eq!(engine.name.as_deref(), Some("CUDA 12 llama.cpp (Linux)"));
    assert_eq!(engine.version.as_deref(), Some("1.52.1"));
    assert_eq!(engine.engine.as_deref(), Some("llama.cpp"));
    assert_eq!(engine.platform.as_deref(), Some("linux"));
    let compatibility = engine.compatibility.as_ref().unwrap();
    assert_eq!(
        compatibility.status,
        Some(LmsCompatibilityStatus::Compatible)
    );
    assert_eq!(compatibility.message, None);
    assert_eq!(engine.supported_model_format_names, ["gguf"]);

    let gpus = engine.gpus();
    assert_eq!(gpus.len(), 1);
    let gpu = &gpus[0];
    assert_eq!(gpu.name.as_deref(), Some("NVIDIA GeForce RTX 4090"));
    assert_eq!(gpu.device_id, Some(0));
    assert_eq!(gpu.total_memory_capacity_bytes, Some(25_757_220_864));
    assert_eq!(gpu.dedicated_memory_capacity_bytes, Some(25_757_220_864));
    assert_eq!(gpu.memory_bytes(), Some(25_757_220_864));
    assert_eq!(gpu.integration_type, Some(LmsGpuIntegrationType::Discrete));
    assert_eq!(gpu.detection_platform, Some(LmsGpuDetectionPlatform::Cuda));
    assert_eq!(gpu.detection_platform_version.as_deref(), Some("12.8"));
    assert_eq!(gpu.other_info["driverVersion"], "570.133.07");
    assert!(gpu.extra.is_empty(), "{:?}", gpu.extra);
    let gpu_result = engine
        .hardware_survey
        .as_ref()
        .and_then(|h| h.gpu_survey_result.as_ref())
        .and_then(|g| g.result.as_ref())
        .unwrap();
    assert_eq!(gpu_result.code, Some(LmsSurveyResultCode::Success));

    let cpu = engine.cpu().unwrap();
    assert_eq!(cpu.architecture, Some(LmsCpuArchitecture::X86_64));
    assert_eq!(
        cpu.supported_instruction_set_extensions,
        [
            LmsCpuInstructionSetExtension::Avx,
            LmsCpuInstructionSetExtension::Avx2
        ]
    );
    let memory = engine.memory_info.as_ref().unwrap();
    assert_eq!(memory.ram_capacity, Some(67_245_383_680));
    assert_eq!(memory.vram_capacity, Some(25_757_220_864));
    assert_eq!(memory.total_memory, Some(93_002_604_544));
    // Not modelled, kept as sent.
    assert_eq!(
        engine.extra["visibleDevicesConfig"],
        json!({"visibleDevices": [0], "changesOrder": false})
    );
}

#[test]
fn an_apple_machine_has_two_engines_and_shows_llama_cpp_first() {
    let survey: LmsRuntimeSurvey = round_trip("survey_apple", APPLE);
    assert_eq!(survey.engines.len(), 2);
    assert_eq!(survey.engines[0].engine.as_deref(), Some("mlx-llm"));
    let primary = survey.primary_engine().unwrap();
    assert_eq!(primary.name.as_deref(), Some("Metal llama.cpp"));
    let gpu = &primary.gpus()[0];
    assert_eq!(
        gpu.integration_type,
        Some(LmsGpuIntegrationType::Integrated)
    );
    assert_eq!(gpu.detection_platform, Some(LmsGpuDetectionPlatform::Metal));
    // No dedicated memory: `lms` shows the total.
    assert_eq!(gpu.dedicated_memory_capacity_bytes, Some(0));
    assert_eq!(gpu.memory_bytes(), Some(51_539_607_552));
    assert!(gpu.other_info.is_empty());
    assert_eq!(
        primary.cpu().unwrap().architecture,
        Some(LmsCpuArchitecture::Arm64)
    );
    assert_eq!(primary.cpu().unwrap().name, None);
}

#[test]
fn hostile_numbers_read_as_unknown_and_the_rest_still_parses() {
    let text = r#"{"engines":[{"engine":"llama.cpp",
        "hardwareSurvey":{"gpuSurveyResult":{"gpuInfo":[
            {"name":"a","deviceId":-1,"totalMemoryCapacityBytes":-8589934592,"dedicatedMemoryCapacityBytes":1e400},
            {"name":"b","deviceId":"0","totalMemoryCapacityBytes":"8589934592","dedicatedMemoryCapacityBytes":8589934592.75},
            {"name":"c","deviceId":true,"totalMemoryCapacityBytes":18446744073709551616,"dedicatedMemoryCapacityBytes":[1]},
            {"name":"d","totalMemoryCapacityBytes":{"bytes":1},"dedicatedMemoryCapacityBytes":"lots"}
        ]}},
        "memoryInfo":{"ramCapacity":18446744073709551615,"vramCapacity":-0.0,"totalMemory":"NaN"}}]}"#;
    // `1e400` is not even a double: serde_json refuses it, as any JSON reader must.
    assert!(serde_json::from_str::<LmsRuntimeSurvey>(text).is_err());
    let text = text.replace("1e400", "1e300");
    let survey: LmsRuntimeSurvey = serde_json::from_str(&text).unwrap();
    let gpus = survey.engines[0].gpus();
    assert_eq!(gpus.len(), 4);
    assert_eq!(gpus[0].device_id, Some(-1));
    assert_eq!(gpus[0].total_memory_capacity_bytes, None);
    assert_eq!(gpus[0].dedicated_memory_capacity_bytes, None);
    assert_eq!(gpus[0].memory_bytes(), None);
    assert_eq!(gpus[1].device_id, Some(0));
    assert_eq!(gpus[1].total_memory_capacity_bytes, Some(8_589_934_592));
    assert_eq!(gpus[1].dedicated_memory_capacity_bytes, Some(8_589_934_592));
    assert_eq!(gpus[2].device_id, None);
    assert_eq!(gpus[2].total_memory_capacity_bytes, None);
    assert_eq!(gpus[2].memory_bytes(), None);
    assert_eq!(gpus[3].memory_bytes(), None);
    let memory = survey.engines[0].memory_info.as_ref().unwrap();
    assert_eq!(memory.ram_capacity, Some(u64::MAX));
    assert_eq!(memory.vram_capacity, Some(0));
    assert_eq!(memory.total_memory, None);
    // What was kept round-trips.
    let again: LmsRuntimeSurvey =
        serde_json::from_str(&serde_json::to_string(&survey).unwrap()).unwrap();
    assert_eq!(again, survey);
}

#[test]
fn unknown_enum_values_and_fields_are_kept() {
    let text = r#"{"status":"partial","engines":[{"engine":"onnx","compatibility":{"status":"needsReboot","message":"m"},
        "hardwareSurvey":{"gpuSurveyResult":{"result":{"code":"throttled","message":""},"gpuInfo":[
            {"name":"x","integrationType":"external","detectionPlatform":"OneAPI","newField":[1]}]},
            "cpuSurveyResult":{"result":{"code":"success","message":""},"cpuInfo":{"architecture":"riscv64","supportedInstructionSetExtensions":["RVV"]}}},
        "npuInfo":{"tops":40}}],"surveyedAt":1}"#;
    let survey: LmsRuntimeSurvey = serde_json::from_str(text).unwrap();
    assert_eq!(
        survey.status,
        Some(LmsSurveyStatus::Other("partial".into()))
    );
    assert_eq!(survey.extra["surveyedAt"], 1);
    let engine = &survey.engines[0];
    assert_eq!(
        engine.compatibility.as_ref().unwrap().status,
        Some(LmsCompatibilityStatus::Other("needsReboot".into()))
    );
    assert_eq!(engine.extra["npuInfo"]["tops"], 40);
    let gpu = &engine.gpus()[0];
    assert_eq!(
        gpu.integration_type,
        Some(LmsGpuIntegrationType::Other("external".into()))
    );
    assert_eq!(
        gpu.detection_platform,
        Some(LmsGpuDetectionPlatform::Other("OneAPI".into()))
    );
    assert_eq!(gpu.extra["newField"], json!([1]));
    let cpu = engine.cpu().unwrap();
    assert_eq!(
        cpu.architecture,
        Some(LmsCpuArchitecture::Other("riscv64".into()))
    );
    let again: Value = serde_json::to_value(&survey).unwrap();
    assert_eq!(again, serde_json::from_str::<Value>(text).unwrap());
}

#[test]
fn an_empty_or_null_survey_is_empty() {
    for text in [
        "{}",
        r#"{"status":null,"engines":null}"#,
        r#"{"engines":[]}"#,
    ] {
        let survey: LmsRuntimeSurvey = serde_json::from_str(text).unwrap();
        assert!(survey.engines.is_empty(), "{text}");
        assert!(survey.primary_engine().is_none());
    }
    let engine: LmsRuntimeSurvey = serde_json::from_str(
        r#"{"engines":[{"hardwareSurvey":{"gpuSurveyResult":null,"cpuSurveyResult":{"cpuInfo":null}},"memoryInfo":null}]}"#,
    )
    .unwrap();
    assert!(engine.engines[0].gpus().is_empty());
    assert!(engine.engines[0].cpu().is_none());
}

#[test]
fn ps_ttl_and_last_used_read_hostile_numbers_as_unknown() {
    let rows: Vec<LmsLoadedModel> = serde_json::from_str(
        r#"[{"modelKey":"a","ttlMs":-1,"lastUsedTime":"yesterday"},
            {"modelKey":"b","ttlMs":600000.9,"lastUsedTime":1786252670392},
            {"modelKey":"c","ttlMs":"600000","deviceIdentifier":"mac-studio"},
            {"modelKey":"d","ttlMs":1e300}]"#,
    )
    .unwrap();
    assert_eq!(rows[0].ttl_ms, None);
    assert_eq!(rows[0].last_used_time, None);
    assert_eq!(rows[1].ttl_ms, Some(600_000));
    assert_eq!(rows[2].ttl_ms, Some(600_000));
    assert_eq!(
        rows[2].model.device_identifier.as_deref(),
        Some("mac-studio")
    );
    assert_eq!(rows[3].ttl_ms, None);
}
