//! Version profiles, the greeting, unknown routes, the request log and the threaded start.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use lmstudio_testkit::{Emulator, Profile};
use serde_json::json;
use support::{get, post, request};

#[tokio::test]
async fn the_greeting_identifies_lm_studio_in_both_profiles() {
    for profile in [Profile::V0_3, Profile::V0_4] {
        let emulator = Emulator::builder().profile(profile).start().await.unwrap();
        assert_eq!(emulator.profile(), profile);
        let response = get(&emulator.url(), "/lmstudio-greeting").await;
        assert_eq!(response.status, 200);
        assert_eq!(response.json(), json!({"lmstudio": true}));
        assert!(
            response
                .header("content-type")
                .unwrap()
                .starts_with("application/json")
        );
    }
}

#[tokio::test]
async fn unknown_routes_answer_200_with_a_string_error() {
    let emulator = Emulator::builder().start().await.unwrap();
    let response = get(&emulator.url(), "/x").await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.json(),
        json!({"error": "Unexpected endpoint or method. (GET /x)"})
    );
    let wrong_method = get(&emulator.url(), "/v1/chat/completions").await;
    assert_eq!(
        wrong_method.json(),
        json!({"error": "Unexpected endpoint or method. (GET /v1/chat/completions)"})
    );
    let with_query = get(&emulator.url(), "/api/v0/load?x=1").await;
    assert_eq!(
        with_query.json()["error"],
        "Unexpected endpoint or method. (GET /api/v0/load)"
    );
}

#[tokio::test]
async fn the_0_3_profile_has_no_api_v1() {
    let emulator = Emulator::builder()
        .profile(Profile::V0_3)
        .start()
        .await
        .unwrap();
    let url = emulator.url();
    let models = get(&url, "/api/v1/models").await;
    assert_eq!(models.status, 200);
    assert_eq!(
        models.json(),
        json!({"error": "Unexpected endpoint or method. (GET /api/v1/models)"})
    );
    let load = post(
        &url,
        "/api/v1/models/load",
        &json!({"model": "openai/gpt-oss-20b"}),
    )
    .await;
    assert_eq!(
        load.json()["error"],
        "Unexpected endpoint or method. (POST /api/v1/models/load)"
    );
    let status = get(&url, "/api/v1/models/download/status/job_1").await;
    assert!(status.json()["error"].is_string());
    let chat = post(
        &url,
        "/api/v1/chat",
        &json!({"model": "openai/gpt-oss-20b", "input": "hi", "stream": true}),
    )
    .await;
    assert_eq!(
        (chat.status, chat.json()),
        (
            200,
            json!({"error": "Unexpected endpoint or method. (POST /api/v1/chat)"})
        )
    );
    assert_eq!(get(&url, "/api/v0/models").await.json()["object"], "list");
    assert_eq!(get(&url, "/v1/models").await.json()["object"], "list");
}

#[tokio::test]
async fn the_0_4_profile_serves_api_v1() {
    let emulator = Emulator::builder().start().await.unwrap();
    assert_eq!(emulator.profile(), Profile::V0_4);
    let models = get(&emulator.url(), "/api/v1/models").await.json();
    let keys: Vec<&str> = models["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["text-embedding-nomic-embed-text-v1.5"],
        "default catalog: only the embedder is downloaded"
    );
}

#[tokio::test]
async fn every_request_is_recorded() {
    let emulator = Emulator::builder().start().await.unwrap();
    let url = emulator.url();
    get(&url, "/v1/models?limit=3").await;
    post(&url, "/v1/embeddings", &json!({"input": "hi"})).await;
    request(
        &url,
        "GET",
        "/nowhere",
        None,
        &[("Authorization", "Bearer abc"), ("X-Test", "1")],
    )
    .await;
    let log = emulator.requests();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, "/v1/models");
    assert_eq!(log[0].query.as_deref(), Some("limit=3"));
    assert_eq!(log[1].json().unwrap()["input"], "hi");
    assert!(log[2].had_auth_header && log[2].authorized);
    assert_eq!(log[2].header("authorization"), Some("<redacted>"));
    assert_eq!(log[2].header("x-test"), Some("1"));
    assert_eq!(emulator.request_count("POST", "/v1/embeddings"), 1);
    assert_eq!(emulator.request_count("GET", "/v1/embeddings"), 0);
    emulator.clear_requests();
    assert!(emulator.requests().is_empty());
}

#[test]
fn a_threaded_emulator_serves_synchronous_callers() {
    let emulator = Emulator::builder().start_threaded().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let response = runtime.block_on(get(&emulator.url(), "/lmstudio-greeting"));
    assert_eq!(response.json()["lmstudio"], true);
    let addr = emulator.addr();
    drop(emulator);
    // Once dropped, the port stops answering (bounded retries: shutdown is asynchronous).
    let refused = (0..100).any(|_| {
        let gone = std::net::TcpStream::connect(addr).is_err();
        if !gone {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        gone
    });
    assert!(refused, "the emulator still accepts connections after drop");
}

#[tokio::test]
async fn the_request_log_can_be_turned_off() {
    let emulator = Emulator::builder()
        .record_requests(false)
        .start()
        .await
        .unwrap();
    assert_eq!(get(&emulator.url(), "/lmstudio-greeting").await.status, 200);
    assert!(emulator.requests().is_empty());
    assert_eq!(emulator.request_count("GET", "/lmstudio-greeting"), 0);
}
