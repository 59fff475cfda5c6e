//! The fake `lms`'s resource outputs, read by the real `lmstudio-lms` parsers: `runtime survey
//! --json` for each machine, `load --estimate-only` in each format (colours, locale grouping,
//! the will-fail verdict, a malformed one), and `ps --json` rows with LM Link fields.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use lmstudio_lms::{DiscoverySource, EstimateOptions, Lms, LmsError, LmsLocation};
use lmstudio_proto::lms::{LmsGpuIntegrationType, LmsSurveyStatus};
use lmstudio_testkit::fake_lms::{FakeEstimate, FakeSurvey, Grouping};
use lmstudio_testkit::{CatalogModel, Emulator, FakeLmsOptions, write_lms_wrapper_with};

const KEY: &str = "qwen/qwen3-4b";
const GIB: u64 = 1 << 30;

/// An emulator with KEY (4 GiB on disk, one instance loaded) and an `Lms` for a fake `lms`
/// wired to it with `options`.
async fn fake(dir: &Path, options: &FakeLmsOptions) -> (Emulator, Lms) {
    let emulator = Emulator::builder()
        .model(CatalogModel::llm(KEY).size_bytes(4 * GIB).loaded(true))
        .start()
        .await
        .unwrap();
    let path = write_lms_wrapper_with(
        dir,
        Path::new(env!("CARGO_BIN_EXE_fake-lms")),
        &emulator.url(),
        options,
    )
    .unwrap();
    let lms = Lms::new(LmsLocation {
        path,
        source: DiscoverySource::Explicit,
    });
    (emulator, lms)
}

#[tokio::test]
async fn every_survey_machine_parses_as_the_real_types() {
    for machine in [
        FakeSurvey::Cuda,
        FakeSurvey::AppleSilicon,
        FakeSurvey::NoGpu,
        FakeSurvey::Hostile,
        FakeSurvey::NoEngines,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (_emulator, lms) = fake(dir.path(), &FakeLmsOptions::new().survey(machine)).await;
        let survey = lms.runtime_survey().await.unwrap();
        let primary = survey.primary_engine();
        match machine {
            FakeSurvey::Cuda => {
                let engine = primary.unwrap();
                assert_eq!(engine.gpus()[0].memory_bytes(), Some(24 * GIB));
                assert_eq!(
                    engine.memory_info.as_ref().unwrap().ram_capacity,
                    Some(64 * GIB)
                );
            }
            FakeSurvey::AppleSilicon => {
                assert_eq!(survey.engines.len(), 2);
                let gpu = &primary.unwrap().gpus()[0];
                assert_eq!(
                    gpu.integration_type,
                    Some(LmsGpuIntegrationType::Integrated)
                );
                assert_eq!(gpu.dedicated_memory_capacity_bytes, Some(0));
                assert_eq!(gpu.memory_bytes(), Some(48 * GIB));
            }
            FakeSurvey::NoGpu => assert!(primary.unwrap().gpus().is_empty()),
            FakeSurvey::Hostile => {
                let engine = primary.unwrap();
                let memory: Vec<Option<u64>> =
                    engine.gpus().iter().map(|g| g.memory_bytes()).collect();
                // Negative and 1e300: unknown. A string of digits: read. `true` as the
                // dedicated memory: unknown, so the total (a fraction of a byte dropped).
                assert_eq!(memory, [None, Some(25_769_803_776), Some(25_769_803_776)]);
                let info = engine.memory_info.as_ref().unwrap();
                assert_eq!(info.ram_capacity, Some(u64::MAX));
                assert_eq!((info.vram_capacity, info.total_memory), (None, None));
            }
            FakeSurvey::NoEngines => {
                assert_eq!(survey.status, Some(LmsSurveyStatus::NoCompatibleBackends));
                assert!(primary.is_none());
            }
            _ => unreachable!(),
        }
    }
}

#[tokio::test]
async fn a_malformed_survey_is_invalid_json() {
    let dir = tempfile::tempdir().unwrap();
    let options = FakeLmsOptions::new().survey(FakeSurvey::Malformed);
    let (_emulator, lms) = fake(dir.path(), &options).await;
    assert!(matches!(
        lms.runtime_survey().await,
        Err(LmsError::InvalidJson { .. })
    ));
}

#[tokio::test]
async fn every_estimate_format_reads_back() {
    let groupings = [
        Grouping::Comma,
        Grouping::Dot,
        Grouping::Space,
        Grouping::NoBreakSpace,
        Grouping::NarrowNoBreakSpace,
        Grouping::None,
    ];
    for (i, grouping) in groupings.into_iter().enumerate() {
        let will_fail = i % 2 == 1;
        let style = if will_fail {
            FakeEstimate::will_fail()
        } else {
            FakeEstimate::fits()
        };
        let style = style.coloured().low_confidence().grouping(grouping);
        let dir = tempfile::tempdir().unwrap();
        let (_emulator, lms) = fake(dir.path(), &FakeLmsOptions::new().estimate(style)).await;
        let options = EstimateOptions::default()
            .with_context_length(Some(131_072))
            .with_gpu("0.5");
        let estimate = lms.estimate_load(KEY, &options).await.unwrap();
        assert_eq!(estimate.model.as_deref(), Some(KEY), "{grouping:?}");
        assert_eq!(estimate.context_length, Some(131_072), "{grouping:?}");
        assert_eq!(estimate.gpu_offload_percent, Some(50.0));
        assert!(estimate.low_confidence);
        assert_eq!(estimate.will_fail(), will_fail, "{grouping:?}");
        // The fake's sizes: 4 GiB of weights + 48 KiB per token of context, half on the GPU.
        let weights = 4 * GIB + 131_072 * 48 * 1024;
        let near = |printed: u64, expected: u64| printed.abs_diff(expected) <= expected / 200;
        assert!(near(estimate.gpu_memory_bytes, weights / 2), "{estimate:?}");
        assert!(
            near(estimate.total_memory_bytes, weights + (512 << 20)),
            "{estimate:?}"
        );
    }
}

#[tokio::test]
async fn a_malformed_estimate_and_an_unknown_model_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let options = FakeLmsOptions::new().estimate(FakeEstimate::malformed());
    let (emulator, lms) = fake(dir.path(), &options).await;
    assert!(matches!(
        lms.estimate_load(KEY, &EstimateOptions::default()).await,
        Err(LmsError::InvalidOutput { .. })
    ));
    assert!(matches!(
        lms.estimate_load("no/such-model", &EstimateOptions::default())
            .await,
        Err(LmsError::Failed { .. })
    ));
    // An estimate loads nothing.
    assert_eq!(emulator.loaded_instances(KEY).len(), 1);
}

#[tokio::test]
async fn ps_rows_carry_the_lm_link_fields_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let options = FakeLmsOptions::new()
        .ps_field("deviceIdentifier", "mac-studio")
        .ps_field("ttlMs", 600_000);
    let (_emulator, lms) = fake(dir.path(), &options).await;
    let rows = lms.ps().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].model.device_identifier.as_deref(),
        Some("mac-studio")
    );
    assert_eq!(rows[0].ttl_ms, Some(600_000));
    // `ls` is untouched.
    assert_eq!(lms.ls().await.unwrap()[0].device_identifier, None);
}
