//! JSON calls against a mock server: the headers sent, the bodies sent and decoded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::collections::BTreeMap;
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use lmstudio_transport::{Error, Limits};
use mockito::{Matcher, Server};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, PartialEq)]
struct ModelList {
    object: String,
    data: Vec<ModelEntry>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct ModelEntry {
    id: String,
}

#[derive(Serialize)]
struct Prompt<'a> {
    model: &'a str,
    stream: bool,
}

#[tokio::test]
async fn get_json_sends_accept_and_decodes() {
    let mut server = Server::new_async().await;
    let mock = server
        .mock("GET", "/v1/models")
        .match_header("accept", "application/json")
        .match_header("user-agent", Matcher::Regex("^lmstudio-transport/".into()))
        .match_header("authorization", Matcher::Missing)
        .match_header("content-type", Matcher::Missing)
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body(r#"{"object":"list","data":[{"id":"qwen/qwen3-4b","extra":1}]}"#)
        .create_async()
        .await;
    // The endpoint was given with `/v1/`: paths are still built from the root.
    let client = support::client(&format!("{}/v1/", server.url()), Limits::default());
    let models: ModelList = client.get_json("/v1/models").await.unwrap();
    assert_eq!(
        models,
        ModelList {
            object: "list".into(),
            data: vec![ModelEntry {
                id: "qwen/qwen3-4b".into()
            }],
        }
    );
    mock.assert_async().await;
}

#[tokio::test]
async fn post_json_sends_the_body_as_json() {
    let mut server = Server::new_async().await;
    let mock = server
        .mock("POST", "/api/v1/models/load")
        .match_header("content-type", "application/json")
        .match_header("accept", "application/json")
        .match_body(r#"{"model":"openai/gpt-oss-20b","stream":false}"#)
        .with_status(200)
        .with_body(r#"{"status":"loaded","instance_id":"openai/gpt-oss-20b"}"#)
        .create_async()
        .await;
    let client = support::client(&server.url(), Limits::default());
    let body = Prompt {
        model: "openai/gpt-oss-20b",
        stream: false,
    };
    let answer: serde_json::Value = client
        .post_json("/api/v1/models/load", &body)
        .await
        .unwrap();
    assert_eq!(answer["status"], "loaded");
    mock.assert_async().await;
}

#[tokio::test]
async fn extra_headers_and_overrides_are_applied() {
    let mut server = Server::new_async().await;
    let mock = server
        .mock("GET", "/x")
        .match_header("x-trace", "abc")
        .match_header("accept", "application/vnd.test")
        .with_body("{}")
        .create_async()
        .await;
    let client = support::client(&server.url(), Limits::default());
    let value: serde_json::Value = client
        .get("/x")
        .header(
            HeaderName::from_static("x-trace"),
            HeaderValue::from_static("abc"),
        )
        .header(
            http::header::ACCEPT,
            HeaderValue::from_static("application/vnd.test"),
        )
        .deadline(Duration::from_secs(10))
        .response_headers_timeout(Duration::from_secs(10))
        .send_json()
        .await
        .unwrap();
    assert_eq!(value, serde_json::json!({}));
    mock.assert_async().await;
}

#[tokio::test]
async fn send_raw_returns_any_status_unchecked() {
    let mut server = Server::new_async().await;
    let _mock = server
        .mock("GET", "/broken")
        .with_status(500)
        .with_header("x-request-id", "r-1")
        .with_body(r#"{"error":"boom"}"#)
        .create_async()
        .await;
    let client = support::client(&server.url(), Limits::default());
    let raw = client.get("/broken").send_raw().await.unwrap();
    assert_eq!(raw.status, 500);
    assert_eq!(raw.headers["x-request-id"], "r-1");
    assert_eq!(&raw.body[..], br#"{"error":"boom"}"#);
}

#[tokio::test]
async fn empty_success_bodies_decode_as_null() {
    let mut server = Server::new_async().await;
    let _mock = server
        .mock("POST", "/api/v1/models/unload")
        .with_status(204)
        .create_async()
        .await;
    let client = support::client(&server.url(), Limits::default());
    let unit: () = client
        .post_json(
            "/api/v1/models/unload",
            &serde_json::json!({"instance_id": "x"}),
        )
        .await
        .unwrap();
    assert_eq!(unit, ());
    let none: Option<ModelList> = client
        .post_json("/api/v1/models/unload", &serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(none, None);
}

#[tokio::test]
async fn a_null_error_field_is_not_an_error() {
    let mut server = Server::new_async().await;
    let _mock = server
        .mock("GET", "/api/v1/models/download/status/job-1")
        .with_body(r#"{"status":"completed","error":null}"#)
        .create_async()
        .await;
    let client = support::client(&server.url(), Limits::default());
    let status: serde_json::Value = client
        .get_json("/api/v1/models/download/status/job-1")
        .await
        .unwrap();
    assert_eq!(status["status"], "completed");
}

#[tokio::test]
async fn clones_share_the_client_and_run_concurrently() {
    let mut server = Server::new_async().await;
    let mock = server
        .mock("GET", "/lmstudio-greeting")
        .with_body(r#"{"lmstudio":true}"#)
        .expect(8)
        .create_async()
        .await;
    let client = support::client(&server.url(), Limits::default());
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            client
                .get_json::<serde_json::Value>("/lmstudio-greeting")
                .await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap()["lmstudio"], true);
    }
    mock.assert_async().await;
}

#[tokio::test]
async fn a_body_that_cannot_be_serialized_is_a_request_error() {
    // JSON object keys must be strings: a map keyed by lists cannot be serialized.
    let mut bad = BTreeMap::new();
    bad.insert(vec![1u8], 1u8);
    let client = support::client("http://127.0.0.1:9", Limits::default());
    let err = client
        .post_json::<_, serde_json::Value>("/x", &bad)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Request { .. }), "{err:?}");
}

#[tokio::test]
async fn accessors_report_the_configuration() {
    let limits = Limits::default().with_deadline(Duration::from_secs(3));
    let client = support::client("http://LOCALHOST:1234/v1", limits);
    assert_eq!(client.endpoint().root(), "http://localhost:1234");
    assert_eq!(client.limits().deadline, Duration::from_secs(3));
    assert!(!client.has_token());
}
