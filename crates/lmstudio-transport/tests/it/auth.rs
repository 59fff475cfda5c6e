//! Bearer tokens: sent when configured, rejected logins mapped to `Auth`, never shown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use lmstudio_transport::http::StatusCode;
use lmstudio_transport::{Client, Endpoint, Error};
use mockito::{Matcher, Server};

const TOKEN: &str = "sk-lm-SECRETSECRET:TOKENTOKEN";

#[tokio::test]
async fn the_token_is_sent_as_a_bearer_header() {
    let mut server = Server::new_async().await;
    let mock = server
        .mock("GET", "/api/v1/models")
        .match_header("authorization", format!("Bearer {TOKEN}").as_str())
        .with_body(r#"{"models":[]}"#)
        .create_async()
        .await;
    let client = support::client_with_token(&server.url(), Some(TOKEN));
    assert!(client.has_token());
    let _: serde_json::Value = client.get_json("/api/v1/models").await.unwrap();
    mock.assert_async().await;
}

#[tokio::test]
async fn no_or_blank_token_sends_no_header() {
    let mut server = Server::new_async().await;
    let mock = server
        .mock("GET", "/v1/models")
        .match_header("authorization", Matcher::Missing)
        .with_body("{}")
        .expect(2)
        .create_async()
        .await;
    for token in [None, Some("   ")] {
        let client = support::client_with_token(&server.url(), token);
        assert!(!client.has_token());
        let _: serde_json::Value = client.get_json("/v1/models").await.unwrap();
    }
    mock.assert_async().await;
}

#[tokio::test]
async fn unauthorized_keeps_the_server_message() {
    let mut server = Server::new_async().await;
    server
        .mock("GET", "/api/v1/models")
        .with_status(401)
        .with_header("content-type", "application/json")
        .with_body(support::data("lmstudio_error_auth_required.json"))
        .create_async()
        .await;
    let client = support::client_with_token(&server.url(), Some(TOKEN));
    let err = client
        .get_json::<serde_json::Value>("/api/v1/models")
        .await
        .unwrap_err();
    match &err {
        Error::Auth {
            status, message, ..
        } => {
            assert_eq!(*status, 401);
            assert!(message.starts_with("An LM Studio API token is required"));
        }
        other => panic!("expected Auth, got {other:?}"),
    }
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert!(!format!("{err:?} {err}").contains("SECRET"));
}

#[tokio::test]
async fn llama_cpp_401_and_a_403_are_auth_errors() {
    let mut server = Server::new_async().await;
    server
        .mock("POST", "/v1/chat/completions")
        .with_status(401)
        .with_body(support::data("llama_server_apikey_wrong_401.json"))
        .create_async()
        .await;
    server
        .mock("GET", "/v1/models")
        .with_status(403)
        .with_body("forbidden by policy")
        .create_async()
        .await;
    let client = support::client_with_token(&server.url(), Some(TOKEN));
    let err = client
        .post_json::<_, serde_json::Value>("/v1/chat/completions", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Auth { status: StatusCode::UNAUTHORIZED, message, .. } if message == "Invalid API Key"),
        "{err:?}"
    );
    let err = client
        .get_json::<serde_json::Value>("/v1/models")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Auth { status: StatusCode::FORBIDDEN, message, .. } if message == "forbidden by policy"),
        "{err:?}"
    );
    // A stream request rejected before it starts is an Auth error too.
    let err = client.post("/v1/chat/completions").send_events().await;
    assert!(
        matches!(
            err,
            Err(Error::Auth {
                status: StatusCode::UNAUTHORIZED,
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn debug_output_never_shows_the_token() {
    let endpoint = Endpoint::parse("http://localhost:1234").unwrap();
    let builder = Client::builder(endpoint).bearer_token(Some(TOKEN.to_owned()));
    let builder_debug = format!("{builder:?}");
    let client = builder.build().unwrap();
    let request_debug = format!("{:?}", client.get("/v1/models"));
    let client_debug = format!("{client:?}");
    for text in [&builder_debug, &client_debug, &request_debug] {
        assert!(!text.contains("SECRET"), "{text}");
        assert!(!text.contains("TOKEN"), "{text}");
    }
    assert!(client_debug.contains("<redacted>"), "{client_debug}");
}

#[test]
fn a_token_that_cannot_be_a_header_is_refused_without_echoing_it() {
    let endpoint = Endpoint::parse("http://localhost:1234").unwrap();
    let err = Client::builder(endpoint)
        .bearer_token(Some("sk-lm-SECRET\nInjected: header".to_owned()))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Request { .. }), "{err:?}");
    assert!(!format!("{err:?} {err}").contains("SECRET"));
}
