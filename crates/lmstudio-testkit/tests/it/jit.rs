//! JIT loading on and off: what `/v1/models` lists and what inference does with an unloaded
//! model, plus LM Studio's "the single loaded model answers" quirk.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use lmstudio_testkit::{CatalogModel, Emulator};
use serde_json::json;
use support::{get, post};

async fn emulator(jit: bool) -> Emulator {
    Emulator::builder()
        .jit(jit)
        .model(CatalogModel::llm("a/loaded").loaded(true))
        .model(CatalogModel::llm("b/on-disk").downloaded(true))
        .model(CatalogModel::llm("c/remote"))
        .start()
        .await
        .unwrap()
}

fn ids(body: &serde_json::Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

fn chat_body(model: &str) -> serde_json::Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hello"}]})
}

#[tokio::test]
async fn with_jit_on_v1_models_lists_every_downloaded_model() {
    let emulator = emulator(true).await;
    let body = get(&emulator.url(), "/v1/models").await.json();
    assert_eq!(ids(&body), ["a/loaded", "b/on-disk"]);
}

#[tokio::test]
async fn with_jit_off_v1_models_lists_loaded_instances_only() {
    let emulator = emulator(false).await;
    emulator.load_instance("a/loaded").unwrap();
    let body = get(&emulator.url(), "/v1/models").await.json();
    assert_eq!(ids(&body), ["a/loaded", "a/loaded:2"]);
    emulator.set_jit(true);
    assert!(emulator.jit());
    let body = get(&emulator.url(), "/v1/models").await.json();
    assert_eq!(ids(&body), ["a/loaded", "b/on-disk"]);
}

#[tokio::test]
async fn with_jit_on_inference_loads_the_model() {
    let emulator = emulator(true).await;
    assert!(emulator.loaded_instances("b/on-disk").is_empty());
    let response = post(
        &emulator.url(),
        "/v1/chat/completions",
        &chat_body("b/on-disk"),
    )
    .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["model"], "b/on-disk");
    assert_eq!(emulator.loaded_instances("b/on-disk"), ["b/on-disk"]);
    let again = post(
        &emulator.url(),
        "/v1/chat/completions",
        &chat_body("b/on-disk"),
    )
    .await;
    assert_eq!(again.status, 200);
    assert_eq!(
        emulator.loaded_instances("b/on-disk").len(),
        1,
        "no second instance"
    );
}

#[tokio::test]
async fn jit_loads_evict_the_previous_jit_model() {
    let emulator = Emulator::builder()
        .model(CatalogModel::llm("x/one").downloaded(true))
        .model(CatalogModel::llm("y/two").downloaded(true))
        .start()
        .await
        .unwrap();
    post(&emulator.url(), "/v1/chat/completions", &chat_body("x/one")).await;
    post(&emulator.url(), "/v1/chat/completions", &chat_body("y/two")).await;
    assert!(emulator.loaded_instances("x/one").is_empty());
    assert_eq!(emulator.loaded_instances("y/two"), ["y/two"]);
}

#[tokio::test]
async fn with_jit_off_an_unloaded_model_is_an_error_when_nothing_is_loaded() {
    let emulator = emulator(false).await;
    emulator.unload_all();
    let response = post(
        &emulator.url(),
        "/v1/chat/completions",
        &chat_body("b/on-disk"),
    )
    .await;
    assert_eq!(response.status, 404);
    let error = &response.json()["error"];
    assert_eq!(
        error["message"],
        "No models loaded. Please load a model in the developer page or use the 'lms load' command."
    );
    assert_eq!(error["type"], "invalid_request_error");
    assert!(error["code"].is_null());
    assert!(emulator.loaded_instances("b/on-disk").is_empty());
}

#[tokio::test]
async fn the_single_loaded_model_answers_whatever_the_request_names() {
    for jit in [true, false] {
        let emulator = emulator(jit).await;
        let response = post(
            &emulator.url(),
            "/v1/chat/completions",
            &chat_body("no/such-model"),
        )
        .await;
        assert_eq!(response.status, 200, "jit {jit}");
        assert_eq!(response.json()["model"], "a/loaded");
    }
    let emulator = emulator(false).await;
    let response = post(
        &emulator.url(),
        "/v1/chat/completions",
        &chat_body("b/on-disk"),
    )
    .await;
    assert_eq!(
        response.json()["model"],
        "a/loaded",
        "JIT off: the loaded model answers"
    );
}

#[tokio::test]
async fn an_unknown_model_is_not_found_when_several_or_none_are_loaded() {
    let emulator = emulator(true).await;
    emulator.load_instance("a/loaded").unwrap();
    let response = post(
        &emulator.url(),
        "/v1/chat/completions",
        &chat_body("c/remote"),
    )
    .await;
    assert_eq!(response.status, 404);
    assert_eq!(response.json()["error"]["code"], "model_not_found");
    emulator.unload_all();
    let response = post(
        &emulator.url(),
        "/v1/chat/completions",
        &chat_body("c/remote"),
    )
    .await;
    assert_eq!(response.json()["error"]["code"], "model_not_found");
}

#[tokio::test]
async fn instance_ids_and_variants_select_the_model() {
    let emulator = emulator(true).await;
    emulator.load_instance("a/loaded").unwrap();
    let response = post(
        &emulator.url(),
        "/v1/chat/completions",
        &chat_body("a/loaded:2"),
    )
    .await;
    assert_eq!(response.json()["model"], "a/loaded:2");
    let response = post(
        &emulator.url(),
        "/v1/chat/completions",
        &chat_body("b/on-disk@q4_k_m"),
    )
    .await;
    assert_eq!(response.json()["model"], "b/on-disk");
}

#[tokio::test]
async fn v0_models_report_state() {
    let emulator = emulator(true).await;
    let body = get(&emulator.url(), "/api/v0/models").await.json();
    let states: Vec<(&str, &str)> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap(), m["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [("a/loaded", "loaded"), ("b/on-disk", "not-loaded")]
    );
    let unloaded = &body["data"][1];
    assert!(unloaded.get("loaded_context_length").is_none());
}
