//! Loading and unloading over `/api/v1/models/load|unload`: instances `key`, `key:2`, errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::time::Duration;

use lmstudio_testkit::{CatalogModel, Emulator};
use serde_json::json;
use support::{get, post};

const KEY: &str = "openai/gpt-oss-20b";

async fn emulator() -> Emulator {
    Emulator::builder()
        .model(CatalogModel::gpt_oss_20b().downloaded(true))
        .model(CatalogModel::llm("x/remote"))
        .load_delay(Duration::from_millis(20))
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn each_load_creates_a_new_instance() {
    let emulator = emulator().await;
    let url = emulator.url();
    let first = post(&url, "/api/v1/models/load", &json!({"model": KEY}))
        .await
        .json();
    assert_eq!(first["instance_id"], KEY);
    assert_eq!(first["type"], "llm");
    assert!(first["load_time_seconds"].as_f64().unwrap() > 0.0);
    let second = post(
        &url,
        "/api/v1/models/load",
        &json!({"model": KEY, "context_length": 8192}),
    )
    .await
    .json();
    assert_eq!(second["instance_id"], "openai/gpt-oss-20b:2");
    assert_eq!(
        emulator.loaded_instances(KEY),
        [KEY, "openai/gpt-oss-20b:2"]
    );
    let listed = get(&url, "/api/v1/models").await.json();
    let instances = &listed["models"][0]["loaded_instances"];
    assert_eq!(instances[1]["id"], "openai/gpt-oss-20b:2");
    assert_eq!(instances[1]["config"]["context_length"], 8192);
    let unload = post(&url, "/api/v1/models/unload", &json!({"instance_id": KEY})).await;
    assert_eq!(unload.json(), json!({"instance_id": KEY}));
    assert_eq!(emulator.loaded_instances(KEY), ["openai/gpt-oss-20b:2"]);
    let third = post(&url, "/api/v1/models/load", &json!({"model": KEY}))
        .await
        .json();
    assert_eq!(third["instance_id"], KEY, "the freed id is reused");
}

#[tokio::test]
async fn concurrent_loads_create_distinct_instances() {
    let emulator = emulator().await;
    let url = emulator.url();
    let body = json!({"model": KEY});
    let (a, b) = tokio::join!(
        post(&url, "/api/v1/models/load", &body),
        post(&url, "/api/v1/models/load", &body)
    );
    let mut ids = vec![
        a.json()["instance_id"].clone(),
        b.json()["instance_id"].clone(),
    ];
    ids.sort_by_key(|v| v.to_string());
    assert_eq!(ids, [json!(KEY), json!("openai/gpt-oss-20b:2")]);
}

#[tokio::test]
async fn loading_an_unknown_or_remote_model_is_model_not_found() {
    let emulator = emulator().await;
    let url = emulator.url();
    for model in ["no/such", "x/remote", "openai/gpt-oss-20b@mxfp4"] {
        let response = post(&url, "/api/v1/models/load", &json!({"model": model})).await;
        assert_eq!(response.status, 404, "{model}");
        assert_eq!(
            response.json(),
            json!({"error": {"type": "model_not_found", "message": format!("Model {model} not found in downloaded models")}})
        );
    }
    assert!(emulator.all_loaded_instances().is_empty());
    let missing = post(&url, "/api/v1/models/load", &json!({})).await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.json()["error"]["message"], "\"model\" is required");
    let bad_json = support::post_raw(&url, "/api/v1/models/load", "{nope").await;
    assert_eq!(bad_json.status, 400);
    assert_eq!(bad_json.json()["error"]["type"], "invalid_request");
}

#[tokio::test]
async fn unloading_an_unknown_instance_is_an_error() {
    let emulator = emulator().await;
    let response = post(
        &emulator.url(),
        "/api/v1/models/unload",
        &json!({"instance_id": "ghost"}),
    )
    .await;
    assert_eq!(response.status, 404);
    assert!(
        response.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ghost")
    );
    let missing = post(&emulator.url(), "/api/v1/models/unload", &json!({})).await;
    assert_eq!(missing.json()["error"]["param"], "instance_id");
}

#[tokio::test]
async fn a_load_blocks_until_the_instance_exists() {
    let emulator = emulator().await;
    emulator.set_load_delay(Duration::from_millis(50));
    let response = post(
        &emulator.url(),
        "/api/v1/models/load",
        &json!({"model": KEY}),
    )
    .await;
    assert_eq!(response.status, 200);
    // The response only arrives once the instance is there.
    assert_eq!(emulator.loaded_instances(KEY), [KEY]);
    let chat = post(
        &emulator.url(),
        "/v1/chat/completions",
        &json!({"model": KEY, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(chat.json()["model"], KEY);
}

/// Waits (bounded, as a hang guard) until `n` loads wait at the emulator's gate.
async fn until_held(emulator: &Emulator, n: usize) {
    for _ in 0..2_000 {
        if emulator.held_loads() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{} loads held, expected {n}", emulator.held_loads());
}

#[tokio::test]
async fn held_loads_stay_in_progress_until_released() {
    let emulator = emulator().await;
    emulator.hold_loads();
    let url = emulator.url();
    let rest = tokio::spawn({
        let url = url.clone();
        async move { post(&url, "/api/v1/models/load", &json!({"model": KEY})).await }
    });
    // A JIT load (an inference request for the downloaded, unloaded model) waits too.
    let jit = tokio::spawn({
        let url = url.clone();
        async move {
            post(
                &url,
                "/v1/chat/completions",
                &json!({"model": KEY, "messages": [{"role": "user", "content": "hi"}]}),
            )
            .await
        }
    });
    until_held(&emulator, 2).await;
    // Both requests are in, both wait: nothing is loaded and neither has answered.
    assert!(emulator.loaded_instances(KEY).is_empty());
    assert!(!rest.is_finished() && !jit.is_finished());
    emulator.release_loads();
    let loaded = rest.await.unwrap().json();
    assert_eq!(loaded["status"], "loaded", "{loaded}");
    let answer = jit.await.unwrap().json();
    assert!(answer["choices"].is_array(), "{answer}");
    assert_eq!(emulator.held_loads(), 0);
    assert!(!emulator.loaded_instances(KEY).is_empty());
}
