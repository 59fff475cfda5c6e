//! The readiness flow against the LM Studio emulator (0.4 profile): shared downloads and loads,
//! JIT off, and never a duplicate instance. The full matrix runs in `cargo xtask integration`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::StartFresh;
use std::time::Duration;

use lmstudio_testkit::{CatalogModel, Emulator};
use vtcode_config::{PreloadMode, VTCodeConfig};
use vtcode_lmstudio::{DownloadStep, LMStudioClient, LoadStep, NoProgress};

const MODEL: &str = "openai/gpt-oss-20b";

fn config_for(emulator: &Emulator) -> VTCodeConfig {
    let mut config = VTCodeConfig::default()
        .with_base_url(emulator.url())
        .with_preload(PreloadMode::Wait)
        .with_lms_path("/nonexistent/lms-for-tests");
    config.lmstudio.api_token_env = "VTCODE_LMSTUDIO_TESTS_NO_TOKEN".to_owned();
    config
}

fn client_for(emulator: &Emulator) -> LMStudioClient {
    LMStudioClient::builder(&config_for(emulator))
        .reporter(std::sync::Arc::new(NoProgress))
        .poll_interval(Duration::from_millis(10))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_ensure_calls_share_one_download_and_one_load() {
    let emulator = Emulator::builder()
        .model(CatalogModel::gpt_oss_20b().size_bytes(50_000_000))
        .load_delay(Duration::from_millis(50))
        .start_fresh()
        .await
        .unwrap();
    let client = client_for(&emulator);
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.ensure_ready(MODEL).await })
        })
        .collect();
    let mut downloaded = 0;
    for task in tasks {
        let report = task.await.unwrap().unwrap();
        if matches!(report.download, DownloadStep::Downloaded { .. }) {
            downloaded += 1;
        }
    }
    assert!(downloaded >= 1, "at least the leader reports the download");
    assert_eq!(emulator.download_job_count(), 1);
    assert_eq!(emulator.request_count("POST", "/api/v1/models/download"), 1);
    assert_eq!(emulator.request_count("POST", "/api/v1/models/load"), 1);
    assert_eq!(emulator.loaded_instances(MODEL), vec![MODEL.to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jit_off_with_a_downloaded_model_loads_it_without_downloading() {
    let emulator = Emulator::builder()
        .jit(false)
        .model(CatalogModel::gpt_oss_20b().downloaded(true))
        .start_fresh()
        .await
        .unwrap();
    let report = client_for(&emulator).ensure_ready(MODEL).await.unwrap();
    assert_eq!(report.download, DownloadStep::AlreadyPresent);
    assert!(
        matches!(report.load, LoadStep::Loaded { .. }),
        "{:?}",
        report.load
    );
    assert_eq!(emulator.download_job_count(), 0);
    assert_eq!(
        emulator.request_count("GET", "/v1/models"),
        0,
        "the v1 list cannot be trusted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loading_a_loaded_model_again_never_creates_a_second_instance() {
    let emulator = Emulator::builder()
        .model(CatalogModel::gpt_oss_20b().downloaded(true))
        .start_fresh()
        .await
        .unwrap();
    let client = client_for(&emulator);
    client.load(MODEL).await.unwrap();
    client.load(MODEL).await.unwrap();
    client.load_model(MODEL).await.unwrap();
    assert_eq!(emulator.loaded_instances(MODEL).len(), 1);
    assert_eq!(emulator.request_count("POST", "/api/v1/models/load"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn different_models_download_concurrently() {
    let emulator = Emulator::builder()
        .models([
            CatalogModel::llm("a/one").size_bytes(300_000_000),
            CatalogModel::llm("b/two").size_bytes(300_000_000),
        ])
        // 1 GB/s: each download takes about 0.3 s, in parallel about 0.3 s in total.
        .download_speed(1_000_000_000)
        .start_fresh()
        .await
        .unwrap();
    let client = client_for(&emulator);
    let (one, two) = tokio::join!(
        client.download("a/one", &NoProgress),
        client.download("b/two", &NoProgress)
    );
    one.unwrap();
    two.unwrap();
    assert_eq!(emulator.download_job_count(), 2);
    // Both jobs ran at the same time: after the second job was created, both jobs' statuses
    // were still being polled. Run one after the other, only the second job would be.
    let requests = emulator.requests();
    let posts: Vec<usize> = requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.method == "POST" && r.path == "/api/v1/models/download")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(posts.len(), 2);
    let polled_after_second_start: std::collections::HashSet<&str> = requests[posts[1]..]
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/api/v1/models/download/status/"))
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(
        polled_after_second_start.len(),
        2,
        "{polled_after_second_start:?}"
    );
    assert!(emulator.is_downloaded("a/one") && emulator.is_downloaded("b/two"));
}
