//! `lms load --estimate-only` and `lms runtime survey --json` against fake `lms` scripts: the
//! argv and environment they run with, every output format (stderr, colours, locale
//! groupings, the will-fail verdict), and malformed, failing and hanging commands.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(unix)] // fake `lms` executables are `#!/bin/sh` scripts

use crate::common;

use std::path::Path;
use std::time::Duration;

use common::{FakeLms, data, record_args};
use lmstudio_lms::{EstimateOptions, EstimateVerdict, LmsError};
use lmstudio_proto::lms::{LmsCompatibilityStatus, LmsGpuDetectionPlatform};

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// A fake lms that records argv and its `LC_ALL` / `NO_COLOR`, then prints `text` on stderr
/// (where lms's logger writes) and exits 0.
fn estimating(text: &str) -> FakeLms {
    let text = text.to_owned();
    FakeLms::new(move |dir: &Path| {
        let out = dir.join("estimate.txt");
        std::fs::write(&out, &text).unwrap();
        format!(
            "{}\nprintf '%s\\n%s\\n' \"${{LC_ALL-unset}}\" \"${{NO_COLOR-unset}}\" > '{}'\ncat '{}' >&2",
            record_args(dir),
            dir.join("env").display(),
            out.display()
        )
    })
}

fn estimate_text(context: &str, size: &str, verdict: &str) -> String {
    format!(
        "Model: openai/gpt-oss-20b\nContext Length: {context}\nGPU Offload: 100%\n\
         Estimated GPU Memory:   \x1b[32m{size}\x1b[39m\nEstimated Total Memory: \x1b[32m13.50 GiB\x1b[39m\n\n\
         Estimate: \x1b[32mThis model {verdict} based on your resource guardrails settings.\x1b[39m\n"
    )
}

#[tokio::test]
async fn estimate_runs_with_the_c_locale_and_no_colour_and_reads_stderr() {
    let fake = estimating(&estimate_text("8,192", "12.34 GiB", "may be loaded"));
    let options = EstimateOptions::default()
        .with_context_length(Some(8192))
        .with_gpu("max");
    let estimate = fake
        .lms
        .estimate_load("openai/gpt-oss-20b", &options)
        .await
        .unwrap();
    assert_eq!(
        fake.recorded_args().unwrap(),
        [
            "load",
            "openai/gpt-oss-20b",
            "--yes",
            "--estimate-only",
            "-c",
            "8192",
            "--gpu",
            "max"
        ]
    );
    let env = std::fs::read_to_string(fake.file("env")).unwrap();
    assert_eq!(env, "C\n1\n", "LC_ALL and NO_COLOR in the child");
    assert_eq!(estimate.model.as_deref(), Some("openai/gpt-oss-20b"));
    assert_eq!(estimate.context_length, Some(8192));
    assert_eq!(estimate.gpu_offload_percent, Some(100.0));
    assert_eq!(estimate.gpu_memory_bytes, (12.34 * GIB).round() as u64);
    assert_eq!(estimate.total_memory_bytes, (13.5 * GIB).round() as u64);
    assert_eq!(estimate.verdict, EstimateVerdict::MayLoad);
    assert!(!estimate.low_confidence);
}

#[tokio::test]
async fn every_locale_grouping_and_the_will_fail_verdict() {
    for context in [
        "8,192",
        "8.192",
        "8 192",
        "8\u{a0}192",
        "8\u{202f}192",
        "8192",
    ] {
        let fake = estimating(&estimate_text(context, "65.68 GiB", "will fail to load"));
        let estimate = fake
            .lms
            .estimate_load("k", &EstimateOptions::default())
            .await
            .unwrap();
        assert_eq!(estimate.context_length, Some(8192), "{context:?}");
        assert!(estimate.will_fail(), "{context:?}");
    }
}

#[tokio::test]
async fn malformed_estimate_output_is_invalid_output_naming_the_command() {
    let fake = estimating("Model: k\nEstimated GPU Memory: a lot\nEstimate: fine\n");
    match fake
        .lms
        .estimate_load("k", &EstimateOptions::default())
        .await
    {
        Err(LmsError::InvalidOutput {
            command,
            message,
            excerpt,
        }) => {
            assert_eq!(command, "lms load k --yes --estimate-only");
            assert!(message.contains("Estimated GPU Memory"), "{message}");
            assert!(excerpt.starts_with("Model: k"), "{excerpt:?}");
        }
        other => panic!("{other:?}"),
    }
    let silent = estimating("");
    assert!(matches!(
        silent
            .lms
            .estimate_load("k", &EstimateOptions::default())
            .await,
        Err(LmsError::InvalidOutput { .. })
    ));
}

#[tokio::test]
async fn an_unknown_model_is_failed_with_the_stderr_tail() {
    let fake = FakeLms::new(|_| {
        "echo 'Error: No model found that matches model key \"nope\"' >&2\nexit 1".to_owned()
    });
    match fake
        .lms
        .estimate_load("nope", &EstimateOptions::default())
        .await
    {
        Err(LmsError::Failed {
            status,
            stderr_tail,
            ..
        }) => {
            assert_eq!(status, "exit code 1");
            assert!(stderr_tail.contains("No model found"), "{stderr_tail}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_hanging_estimate_is_stopped_at_the_time_limit() {
    let fake = FakeLms::new(|_| "exec sleep 30".to_owned());
    let lms = fake.lms.clone().with_timeout(Duration::from_millis(300));
    let err = lms
        .estimate_load("k", &EstimateOptions::default())
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

#[tokio::test]
async fn survey_parses_the_pretty_printed_output() {
    let file = data("survey_cuda.json");
    let fake =
        FakeLms::new(move |dir: &Path| format!("{}\ncat '{}'", record_args(dir), file.display()));
    let survey = fake.lms.runtime_survey().await.unwrap();
    assert_eq!(
        fake.recorded_args().unwrap(),
        ["runtime", "survey", "--json"]
    );
    let engine = survey.primary_engine().unwrap();
    assert_eq!(
        engine.compatibility.as_ref().unwrap().status,
        Some(LmsCompatibilityStatus::Compatible)
    );
    let gpu = &engine.gpus()[0];
    assert_eq!(gpu.detection_platform, Some(LmsGpuDetectionPlatform::Cuda));
    assert_eq!(gpu.memory_bytes(), Some(25_757_220_864));
    assert_eq!(
        engine.memory_info.as_ref().unwrap().ram_capacity,
        Some(67_245_383_680)
    );
}

#[tokio::test]
async fn a_survey_that_is_not_json_is_invalid_json() {
    let fake = FakeLms::new(|_| "echo 'No runtime survey results'".to_owned());
    assert!(matches!(
        fake.lms.runtime_survey().await,
        Err(LmsError::InvalidJson { .. })
    ));
}
