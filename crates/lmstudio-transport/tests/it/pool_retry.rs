//! Keep-alive reuse, and the stale-connection rule: a GET is retried once, a POST never.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::time::Duration;

use lmstudio_testkit::fault::{Fault, FaultServer, http_response};
use lmstudio_transport::{Error, Limits};

fn ok_response() -> Vec<u8> {
    http_response(200, "application/json", br#"{"ok":true}"#)
}

/// Lets the finished connection go back to the pool (hyper-util returns it from a task).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn a_get_closed_before_any_answer_is_retried_exactly_once() {
    let server = FaultServer::start(Fault::CloseAfterRequest).await.unwrap();
    let client = support::client(&server.url(), Limits::default());
    let err = client
        .get_json::<serde_json::Value>("/v1/models")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(server.requests(), 2, "one retry");
    assert_eq!(server.accepted_connections(), 2);
}

#[tokio::test]
async fn a_post_closed_before_any_answer_is_never_resent() {
    let server = FaultServer::start(Fault::CloseAfterRequest).await.unwrap();
    let client = support::client(&server.url(), Limits::default());
    let err = client
        .post_json::<_, serde_json::Value>(
            "/api/v1/models/load",
            &serde_json::json!({"model": "m"}),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    let err = client
        .post("/v1/chat/completions")
        .json(&serde_json::json!({"stream": true}))
        .send_events()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(server.requests(), 2, "each POST sent once");
    assert_eq!(server.accepted_connections(), 2);
}

#[tokio::test]
async fn keep_alive_reuses_one_connection() {
    let server = FaultServer::start(Fault::KeepAliveThenClose {
        response: ok_response(),
        responses: 100,
    })
    .await
    .unwrap();
    let client = support::client(&server.url(), Limits::default());
    for _ in 0..5 {
        let value: serde_json::Value = client.get_json("/lmstudio-greeting").await.unwrap();
        assert_eq!(value["ok"], true);
        settle().await;
    }
    assert_eq!(server.requests(), 5);
    assert_eq!(server.accepted_connections(), 1);
}

#[tokio::test]
async fn a_get_on_a_stale_pooled_connection_is_retried_on_a_new_one() {
    let server = FaultServer::start(Fault::KeepAliveThenClose {
        response: ok_response(),
        responses: 1,
    })
    .await
    .unwrap();
    let client = support::client(&server.url(), Limits::default());
    let _: serde_json::Value = client.get_json("/v1/models").await.unwrap();
    settle().await;
    // The pooled connection reads this request and closes: the GET goes again on a new one.
    let value: serde_json::Value = client.get_json("/v1/models").await.unwrap();
    assert_eq!(value["ok"], true);
    assert_eq!(server.requests(), 3);
    assert_eq!(server.accepted_connections(), 2);
}

#[tokio::test]
async fn a_post_on_a_stale_pooled_connection_fails_and_is_not_resent() {
    let server = FaultServer::start(Fault::KeepAliveThenClose {
        response: ok_response(),
        responses: 1,
    })
    .await
    .unwrap();
    let client = support::client(&server.url(), Limits::default());
    let body = serde_json::json!({"model": "m"});
    let _: serde_json::Value = client
        .post_json("/api/v1/models/load", &body)
        .await
        .unwrap();
    settle().await;
    let err = client
        .post_json::<_, serde_json::Value>("/api/v1/models/load", &body)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(server.requests(), 2);
    assert_eq!(server.accepted_connections(), 1);
}
