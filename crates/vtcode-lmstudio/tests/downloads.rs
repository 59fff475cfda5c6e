//! Downloads: REST job + status polling with progress, `lms get` when REST is absent, sharing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use support::{
    Recorder, client_for, config_for, typed, unexpected_endpoint, v0_model, v0_models_body,
    v1_model, v1_models_body,
};
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

/// Writes an executable fake `lms` that prints a progress bar and creates `marker`.
#[cfg(unix)]
fn fake_lms(dir: &std::path::Path, marker: &std::path::Path, exit_code: i32) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("lms");
    let tmp = dir.join("lms.tmp");
    let script = format!(
        "#!/bin/sh\n\
         echo \"$@\" >> '{args}'\n\
         if [ \"$1\" = get ]; then\n\
           printf '\\033[?25l\\r\\033[0K⠋ [██        ] 21.00%% | 210.00 MB / 1.00 GB | 50.00 MB/s | ETA 00:16'\n\
           printf '\\r\\033[0K⠙ [██████████] 100.00%% | 1.00 GB / 1.00 GB | 50.00 MB/s | ETA 00:00\\n'\n\
           if [ {code} -ne 0 ]; then echo 'Error: network unreachable' >&2; exit {code}; fi\n\
           echo 'Download completed.' >&2\n\
           touch '{marker}'\n\
         fi\n\
         exit 0\n",
        args = dir.join("args.txt").display(),
        marker = marker.display(),
        code = exit_code,
    );
    std::fs::write(&tmp, script).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    path
}

#[cfg(unix)]
async fn v0_server(marker: std::path::PathBuf) -> mockito::Server {
    let mut server = support::server().await;
    server
        .mock("GET", "/api/v1/models")
        .with_body(unexpected_endpoint("GET", "/api/v1/models"))
        .create_async()
        .await;
    server
        .mock("GET", "/api/v0/models")
        .with_body_from_request(move |_| {
            let mut models = vec![v0_model("qwen2.5-7b-instruct", false)];
            if marker.exists() {
                models.push(v0_model(MODEL, false));
            }
            v0_models_body(&models).into_bytes()
        })
        .create_async()
        .await;
    server
}

#[cfg(unix)]
#[tokio::test]
async fn without_rest_downloads_lms_get_runs_with_progress() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("downloaded");
    let lms = fake_lms(dir.path(), &marker, 0);
    let server = v0_server(marker.clone()).await;
    let mut config = config_for(&server.url());
    config.lmstudio.lms_path = Some(lms);
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
    let args = std::fs::read_to_string(dir.path().join("args.txt")).unwrap();
    assert!(
        args.lines().any(|l| l == format!("get --yes {MODEL}")),
        "{args}"
    );
    let fractions: Vec<u64> = recorder
        .events()
        .iter()
        .filter_map(|e| match e {
            ProgressEvent::DownloadProgress {
                downloaded_bytes, ..
            } => Some(*downloaded_bytes),
            _ => None,
        })
        .collect();
    assert_eq!(fractions, vec![210_000_000, 1_000_000_000]);
}

#[cfg(unix)]
#[tokio::test]
async fn a_failed_lms_get_reports_exit_code_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("downloaded");
    let lms = fake_lms(dir.path(), &marker, 3);
    let server = v0_server(marker).await;
    let mut config = config_for(&server.url());
    config.lmstudio.lms_path = Some(lms);
    let recorder = Recorder::default();
    let client = client_for(&config, &recorder);
    let err = client.download_model(MODEL).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Other);
    let text = err.to_string();
    assert!(text.contains('3'), "{text}");
    assert!(text.contains("network unreachable"), "{text}");
}
