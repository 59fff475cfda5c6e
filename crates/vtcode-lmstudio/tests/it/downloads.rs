//! Downloads: REST job + status polling with progress, `lms get` when REST is absent, sharing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;
use crate::support::StartFresh;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use lmstudio_testkit::{CatalogModel, Emulator, FakeLmsOptions, Profile};
use support::{Recorder, client_for, config_for, fake_lms, typed, v1_model, v1_models_body};
use vtcode_lmstudio::{DownloadMethod, DownloadStep, LmStudioError, ProgressEvent};

const MODEL: &str = "openai/gpt-oss-20b";

/// A 0.4 server where MODEL is downloadable in three status polls.
async fn rest_server(fail: bool) -> (mockito::Server, Arc<AtomicUsize>, Arc<AtomicBool>) {
    let mut server = support::server().await;
    let done = Arc::new(AtomicBool::new(false));
    let starts = Arc::new(AtomicUsize::new(0));
    let flag = done.clone();
    server
        .mock("GET", "/api/v1/models")
        .with_body_from_request(move |_| {
            let mut models = vec![v1_model("qwen/qwen3-4b", &[])];
            if flag.load(Ordering::SeqCst) {
                models.push(v1_model(MODEL, &[]));
            }
            v1_models_body(&models).into_bytes()
        })
        .create_async()
        .await;
    let counter = starts.clone();
    server
        .mock("POST", "/api/v1/models/download")
        .match_body(mockito::Matcher::PartialJsonString(format!(r#"{{"model":"{MODEL}"}}"#)))
        .with_body_from_request(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            br#"{"job_id":"job_1","status":"downloading","total_size_bytes":1000,"started_at":"2025-10-03T15:33:23.496Z"}"#.to_vec()
        })
        .create_async()
        .await;
    let polls = Arc::new(AtomicUsize::new(0));
    let flag = done.clone();
    server
        .mock("GET", "/api/v1/models/download/status/job_1")
        .with_body_from_request(move |_| {
            let n = polls.fetch_add(1, Ordering::SeqCst) + 1;
            let body = if n < 3 {
                serde_json::json!({"job_id":"job_1","status":"downloading","total_size_bytes":1000,"downloaded_bytes":n*250,"bytes_per_second":250.0})
            } else if fail {
                serde_json::json!({"job_id":"job_1","status":"failed","total_size_bytes":1000,"downloaded_bytes":500,"error":"disk full"})
            } else {
                flag.store(true, Ordering::SeqCst);
                serde_json::json!({"job_id":"job_1","status":"completed","total_size_bytes":1000,"downloaded_bytes":1000})
            };
            body.to_string().into_bytes()
        })
        .create_async()
        .await;
    (server, starts, done)
}

#[tokio::test]
async fn rest_download_reports_progress_then_waits_for_the_key() {
    let (server, starts, _) = rest_server(false).await;
    let recorder = Recorder::default();
    let mut config = config_for(&server.url());
    config.lmstudio.preload = vtcode_config::PreloadMode::Off;
    let client = client_for(&config, &recorder);
    let report = client.ensure_ready(MODEL).await.unwrap();
    assert_eq!(
        report.download,
        DownloadStep::Downloaded {
            method: DownloadMethod::Rest,
            bytes: Some(1000)
        }
    );
    assert_eq!(report.model_key.as_deref(), Some(MODEL));
    assert_eq!(starts.load(Ordering::SeqCst), 1);
    let events = recorder.events();
    assert!(
        matches!(
            events.first(),
            Some(ProgressEvent::DownloadStarted {
                total_bytes: Some(1000),
                ..
            })
        ),
        "{events:?}"
    );
    let progress: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            ProgressEvent::DownloadProgress {
                downloaded_bytes, ..
            } => Some(*downloaded_bytes),
            _ => None,
        })
        .collect();
    assert_eq!(progress, vec![250, 500, 1000]);
    assert!(
        matches!(
            events.last(),
            Some(ProgressEvent::DownloadFinished {
                already_present: false,
                ..
            })
        ),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_failed_rest_job_is_an_error_with_the_servers_reason() {
    let (server, _, _) = rest_server(true).await;
    let recorder = Recorder::default();
    let client = client_for(&config_for(&server.url()), &recorder);
    let err = client.download_model(MODEL).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Other);
    assert!(matches!(typed(&err), LmStudioError::DownloadFailed { .. }));
    assert!(err.to_string().contains("disk full"), "{err}");
}

#[tokio::test]
async fn concurrent_downloads_of_one_model_share_one_job() {
    let (server, starts, _) = rest_server(false).await;
    let recorder = Recorder::default();
    let client = client_for(&config_for(&server.url()), &recorder);
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.download_model(MODEL).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(starts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_already_present_model_is_not_downloaded() {
    let mut server = support::server().await;
    let _list = server
        .mock("GET", "/api/v1/models")
        .with_body(v1_models_body(&[v1_model(MODEL, &[])]))
        .create_async()
        .await;
    let download = server
        .mock("POST", "/api/v1/models/download")
        .expect(0)
        .create_async()
        .await;
    let recorder = Recorder::default();
    let client = client_for(&config_for(&server.url()), &recorder);
    client.download_model("OpenAI/GPT-OSS-20B").await.unwrap();
    download.assert_async().await;
}

/// A 0.3 emulator (no REST download) with MODEL downloadable, and a config whose `lms` is the
/// testkit's fake wired to it, recording its arguments in `dir/args.txt`.
async fn v0_emulator_with_lms(
    dir: &std::path::Path,
    options: FakeLmsOptions,
) -> (Emulator, vtcode_config::VTCodeConfig) {
    let emulator = Emulator::builder()
        .profile(Profile::V0_3)
        .model(CatalogModel::gpt_oss_20b().size_bytes(40_000_000))
        .start_fresh()
        .await
        .unwrap();
    let options = options.record_args_to(dir.join("args.txt"));
    let mut config = config_for(&emulator.url());
    config.lmstudio.lms_path = Some(fake_lms(dir, &emulator.url(), &options));
    (emulator, config)
}

#[tokio::test]
async fn without_rest_downloads_lms_get_runs_with_progress() {
    let dir = tempfile::tempdir().unwrap();
    let (emulator, mut config) = v0_emulator_with_lms(dir.path(), FakeLmsOptions::new()).await;
    config.lmstudio.preload = vtcode_config::PreloadMode::Off;
    let recorder = Recorder::default();
    let client = client_for(&config, &recorder);
    let report = client.ensure_ready(MODEL).await.unwrap();
    assert!(
        matches!(
            report.download,
            DownloadStep::Downloaded {
                method: DownloadMethod::LmsCli,
                ..
            }
        ),
        "{report:?}"
    );
    assert!(emulator.is_downloaded(MODEL));
    assert_eq!(emulator.request_count("POST", "/api/v1/models/download"), 0);
    // Always with the port of the URL: without it `lms` could start LM Studio itself.
    let calls = lmstudio_testkit::recorded_calls(&dir.path().join("args.txt")).unwrap();
    let port = emulator.port().to_string();
    assert!(
        calls.contains(&vec![
            "get".to_owned(),
            "--yes".to_owned(),
            MODEL.to_owned(),
            "--port".to_owned(),
            port
        ]),
        "{calls:?}"
    );
    let progress: Vec<(u64, Option<u64>)> = recorder
        .events()
        .iter()
        .filter_map(|e| match e {
            ProgressEvent::DownloadProgress {
                downloaded_bytes,
                total_bytes,
                ..
            } => Some((*downloaded_bytes, *total_bytes)),
            _ => None,
        })
        .collect();
    // The fake redraws its bar from the emulator's job: rising, ending at the whole size.
    assert!(!progress.is_empty(), "no progress events");
    assert!(
        progress.windows(2).all(|w| w[0].0 <= w[1].0),
        "{progress:?}"
    );
    assert_eq!(progress.last().unwrap().0, 40_000_000, "{progress:?}");
}

#[tokio::test]
async fn a_failed_lms_get_reports_exit_code_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let options = FakeLmsOptions::new()
        .only_for("get")
        .stderr_line("Error: network unreachable")
        .exit_with(3);
    let (emulator, config) = v0_emulator_with_lms(dir.path(), options).await;
    let recorder = Recorder::default();
    let client = client_for(&config, &recorder);
    let err = client.download_model(MODEL).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Other);
    let text = err.to_string();
    assert!(text.contains("exit code 3"), "{text}");
    assert!(text.contains("network unreachable"), "{text}");
    assert!(!emulator.is_downloaded(MODEL));
}
