//! The emulator's native API bodies (`/api/v0`, `/api/v1`) carry the fields of the fixtures
//! captured from LM Studio's documentation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use lmstudio_testkit::{CatalogModel, Emulator};
use serde_json::{Value, json};
use support::{check_fields, fixture_json, get, post};

async fn catalog_emulator() -> Emulator {
    Emulator::builder()
        .model(
            CatalogModel::llm("google/gemma-4-26b-a4b")
                .reasoning(true)
                .vision(true)
                .loaded(true),
        )
        .model(
            CatalogModel::llm("qwen2-vl-7b-instruct")
                .vision(true)
                .format("mlx")
                .downloaded(true),
        )
        .model(CatalogModel::llm("meta-llama-3.1-8b-instruct").downloaded(true))
        .model(CatalogModel::nomic_embed())
        .model(CatalogModel::llm("ibm/granite-4-micro").size_bytes(2_279_145_003))
        .download_speed(u64::MAX / 4)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn v0_models_have_the_documented_fields() {
    let emulator = catalog_emulator().await;
    let listing = get(&emulator.url(), "/api/v0/models").await;
    assert_eq!(listing.status, 200);
    let body = listing.json();
    check_fields(&fixture_json("docs_v0_0.json"), &body, false, "$");
    let types: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"vlm") && types.contains(&"llm") && types.contains(&"embeddings"));
    let loaded = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "google/gemma-4-26b-a4b")
        .unwrap();
    assert_eq!(loaded["state"], "loaded");
    assert_eq!(loaded["loaded_context_length"], 4096);
}

#[tokio::test]
async fn v1_models_have_the_documented_fields() {
    let emulator = catalog_emulator().await;
    let body = get(&emulator.url(), "/api/v1/models").await.json();
    check_fields(&fixture_json("docs_v1_list_0.json"), &body, false, "$");
    let models = body["models"].as_array().unwrap();
    assert_eq!(models.len(), 4, "only downloaded models are listed");
    let gemma = &models[0];
    assert_eq!(gemma["loaded_instances"][0]["id"], "google/gemma-4-26b-a4b");
    assert_eq!(
        gemma["loaded_instances"][0]["config"]["context_length"],
        4096
    );
    assert_eq!(gemma["selected_variant"], "google/gemma-4-26b-a4b@q4_k_m");
    let embed = models.iter().find(|m| m["type"] == "embedding").unwrap();
    assert!(embed.get("architecture").is_none() && embed.get("capabilities").is_none());
}

#[tokio::test]
async fn load_and_unload_bodies_match_the_fixtures_exactly() {
    let emulator = catalog_emulator().await;
    let request = json!({"model": "meta-llama-3.1-8b-instruct", "context_length": 16384, "flash_attention": true, "echo_load_config": true});
    let load = post(&emulator.url(), "/api/v1/models/load", &request).await;
    assert_eq!(load.status, 200);
    let body = load.json();
    check_fields(&fixture_json("docs_v1_load_0.json"), &body, true, "$");
    assert_eq!(body["load_config"]["context_length"], 16384);
    assert_eq!(body["status"], "loaded");
    let quiet = post(
        &emulator.url(),
        "/api/v1/models/load",
        &json!({"model": "meta-llama-3.1-8b-instruct"}),
    )
    .await;
    assert!(
        quiet.json().get("load_config").is_none(),
        "load_config only with echo_load_config"
    );
    let unload = post(
        &emulator.url(),
        "/api/v1/models/unload",
        &json!({"instance_id": "meta-llama-3.1-8b-instruct"}),
    )
    .await;
    check_fields(
        &fixture_json("docs_v1_unload_0.json"),
        &unload.json(),
        true,
        "$",
    );
}

#[tokio::test]
async fn download_bodies_match_the_fixtures_exactly() {
    let emulator = catalog_emulator().await;
    let start = post(
        &emulator.url(),
        "/api/v1/models/download",
        &json!({"model": "ibm/granite-4-micro"}),
    )
    .await;
    let body = start.json();
    check_fields(&fixture_json("docs_v1_download_0.json"), &body, true, "$");
    assert_eq!(body["total_size_bytes"], 2_279_145_003u64);
    let job = body["job_id"].as_str().unwrap();
    assert!(job.starts_with("job_"));
    let mut status = Value::Null;
    for _ in 0..200 {
        status = get(
            &emulator.url(),
            &format!("/api/v1/models/download/status/{job}"),
        )
        .await
        .json();
        if status["status"] == "completed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    check_fields(
        &fixture_json("docs_v1_download_status_0.json"),
        &status,
        true,
        "$",
    );
    assert_eq!(status["downloaded_bytes"], status["total_size_bytes"]);
}

#[tokio::test]
async fn v1_chat_bodies_and_stream_events_have_the_documented_fields() {
    let emulator = Emulator::builder()
        .model(CatalogModel::llm("openai/gpt-oss-20b").downloaded(true))
        .reasoning(lmstudio_testkit::ReasoningField::Reasoning)
        .start()
        .await
        .unwrap();
    let whole = post(
        &emulator.url(),
        "/api/v1/chat",
        &json!({"model": "openai/gpt-oss-20b", "input": "What is in this image?"}),
    )
    .await;
    assert_eq!(whole.status, 200);
    let body = whole.json();
    check_fields(&fixture_json("docs_v1_chat_1.json"), &body, false, "$");
    assert_eq!(body["output"][0]["type"], "reasoning");
    assert_eq!(body["output"][1]["type"], "message");
    assert!(
        body["stats"]["model_load_time_seconds"].is_number(),
        "JIT-loaded"
    );
    emulator.unload_all();
    let streamed = post(
        &emulator.url(),
        "/api/v1/chat",
        &json!({"model": "openai/gpt-oss-20b", "input": "hello there", "stream": true}),
    )
    .await;
    assert_eq!(streamed.header("content-type"), Some("text/event-stream"));
    let events = streamed.sse_events();
    let names: Vec<&str> = events.iter().filter_map(|(n, _)| n.as_deref()).collect();
    assert_eq!(names.len(), events.len(), "every event is named");
    assert_eq!(names.first(), Some(&"chat.start"));
    assert_eq!(names.last(), Some(&"chat.end"));
    for (name, data) in &events {
        let data: Value = serde_json::from_str(data).unwrap();
        assert_eq!(
            data["type"].as_str(),
            name.as_deref(),
            "type repeats the name"
        );
        let fixture = (0..19)
            .map(|i| fixture_json(&format!("docs_v1_stream_events_{i}.json")))
            .find(|f| f["type"] == data["type"])
            .unwrap_or_else(|| panic!("undocumented event {name:?}"));
        // The fixture of `chat.end` shows a tool call the emulator never makes: compare
        // `result` with the non-streamed body instead.
        if fixture["type"] == "chat.end" {
            check_fields(
                &fixture_json("docs_v1_chat_1.json"),
                &data["result"],
                false,
                "$",
            );
        } else {
            check_fields(&fixture, &data, true, "$");
        }
    }
    for expected in [
        "model_load.start",
        "model_load.progress",
        "model_load.end",
        "prompt_processing.start",
        "prompt_processing.progress",
        "prompt_processing.end",
        "reasoning.start",
        "reasoning.delta",
        "reasoning.end",
        "message.start",
        "message.delta",
        "message.end",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    assert_eq!(
        emulator.loaded_instances("openai/gpt-oss-20b"),
        ["openai/gpt-oss-20b"]
    );
}
