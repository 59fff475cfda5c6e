//! Downloads over the REST API: progress over time, completion, injected failures, errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::time::Duration;

use lmstudio_testkit::{CatalogModel, Emulator};
use serde_json::{Value, json};
use support::{get, post};

const KEY: &str = "ibm/granite-4-micro";
const SIZE: u64 = 1_000_000;

async fn emulator(speed: u64) -> Emulator {
    Emulator::builder()
        .model(CatalogModel::llm(KEY).size_bytes(SIZE))
        .model(CatalogModel::llm("x/broken").size_bytes(SIZE))
        .model(CatalogModel::llm("x/present").downloaded(true))
        .fail_download("x/broken")
        .download_speed(speed)
        .start()
        .await
        .unwrap()
}

async fn start(emulator: &Emulator, model: &str) -> Value {
    post(
        &emulator.url(),
        "/api/v1/models/download",
        &json!({"model": model}),
    )
    .await
    .json()
}

async fn status(emulator: &Emulator, job: &str) -> Value {
    get(
        &emulator.url(),
        &format!("/api/v1/models/download/status/{job}"),
    )
    .await
    .json()
}

/// Polls until the job leaves `downloading` (bounded), returning every status seen.
async fn follow(emulator: &Emulator, job: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    for _ in 0..2000 {
        let now = status(emulator, job).await;
        let done = now["status"] != "downloading";
        seen.push(now);
        if done {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("download never finished: {:?}", seen.last());
}

#[tokio::test]
async fn a_download_progresses_then_completes_and_the_model_appears() {
    // 1 MB at 1 MB/s: about a second, so the first polls see it in flight.
    let emulator = emulator(1_000_000).await;
    let started = start(&emulator, KEY).await;
    assert_eq!(started["status"], "downloading");
    assert_eq!(started["total_size_bytes"], SIZE);
    let job = started["job_id"].as_str().unwrap().to_owned();
    assert!(!emulator.is_downloaded(KEY));
    let seen = follow(&emulator, &job).await;
    let bytes: Vec<u64> = seen
        .iter()
        .map(|s| s["downloaded_bytes"].as_u64().unwrap())
        .collect();
    assert!(
        bytes.windows(2).all(|w| w[0] <= w[1]),
        "progress never goes back: {bytes:?}"
    );
    assert!(
        seen.iter()
            .any(|s| s["status"] == "downloading" && s["bytes_per_second"] == 1_000_000)
    );
    let last = seen.last().unwrap();
    assert_eq!(last["status"], "completed");
    assert_eq!(last["downloaded_bytes"], SIZE);
    assert!(last["completed_at"].as_str().unwrap().ends_with('Z'));
    assert!(emulator.is_downloaded(KEY));
    let listed = get(&emulator.url(), "/api/v1/models").await.json();
    assert!(
        listed["models"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["key"] == KEY)
    );
    assert_eq!(
        start(&emulator, KEY).await,
        json!({"status": "already_downloaded"})
    );
}

#[tokio::test]
async fn a_stalled_download_reports_partial_progress() {
    let emulator = emulator(0).await;
    let job = start(&emulator, KEY).await["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let now = status(&emulator, &job).await;
    assert_eq!(now["status"], "downloading");
    assert_eq!(now["downloaded_bytes"], 0);
    assert!(now.get("estimated_completion").is_none());
    let again = start(&emulator, KEY).await;
    assert_eq!(
        again["job_id"],
        job.as_str(),
        "a second request joins the running job"
    );
    assert_eq!(emulator.download_job_count(), 1);
}

#[tokio::test]
async fn an_injected_failure_ends_the_job_as_failed() {
    let emulator = emulator(u64::MAX / 4).await;
    let job = start(&emulator, "x/broken").await["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let seen = follow(&emulator, &job).await;
    let last = seen.last().unwrap();
    assert_eq!(last["status"], "failed");
    assert!(last["downloaded_bytes"].as_u64().unwrap() < SIZE);
    assert!(!emulator.is_downloaded("x/broken"));
    emulator.set_fail_download("x/broken", false);
    let retry = start(&emulator, "x/broken").await["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(retry, job);
    assert_eq!(
        follow(&emulator, &retry).await.last().unwrap()["status"],
        "completed"
    );
}

#[tokio::test]
async fn download_errors_use_the_native_error_object() {
    let emulator = emulator(1).await;
    let unknown_job = get(&emulator.url(), "/api/v1/models/download/status/job_nope").await;
    assert_eq!(unknown_job.status, 404);
    assert_eq!(unknown_job.json()["error"]["type"], "job_not_found");
    let unknown_model = post(
        &emulator.url(),
        "/api/v1/models/download",
        &json!({"model": "no/such"}),
    )
    .await;
    assert_eq!(unknown_model.status, 404);
    assert_eq!(unknown_model.json()["error"]["type"], "model_not_found");
    let missing = post(&emulator.url(), "/api/v1/models/download", &json!({})).await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.json()["error"]["param"], "model");
    let present = start(&emulator, "x/present").await;
    assert_eq!(present, json!({"status": "already_downloaded"}));
}

#[tokio::test]
async fn set_downloaded_changes_the_catalog() {
    let emulator = emulator(1).await;
    assert!(emulator.set_downloaded(KEY, true));
    assert!(emulator.is_downloaded(KEY));
    emulator.load_instance(KEY).unwrap();
    assert!(emulator.set_downloaded(KEY, false));
    assert!(emulator.loaded_instances(KEY).is_empty());
    assert!(!emulator.set_downloaded("no/such", true));
}
