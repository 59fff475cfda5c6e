//! Bearer-token auth (0.4 profile): every route but the greeting needs the token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use lmstudio_proto::error::ErrorEnvelope;
use lmstudio_testkit::{Emulator, Profile};
use serde_json::json;
use support::{get, get_with_token, post, request};

const TOKEN: &str = "sk-lm-abc:def";

async fn emulator(profile: Profile) -> Emulator {
    Emulator::builder()
        .profile(profile)
        .auth_token(Some(TOKEN.to_owned()))
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn requests_without_the_token_get_401_invalid_api_key() {
    let emulator = emulator(Profile::V0_4).await;
    for path in ["/v1/models", "/api/v0/models", "/api/v1/models", "/nowhere"] {
        let response = get(&emulator.url(), path).await;
        assert_eq!(response.status, 401, "{path}");
        let envelope = ErrorEnvelope::from_slice(response.body.as_bytes()).unwrap();
        assert_eq!(envelope.error.kind(), Some("invalid_request"));
        assert!(
            envelope
                .message()
                .contains("Authorization: Bearer $LM_API_TOKEN")
        );
        assert_eq!(response.json()["error"]["code"], "invalid_api_key");
    }
    let chat = post(
        &emulator.url(),
        "/v1/chat/completions",
        &json!({"messages": []}),
    )
    .await;
    assert_eq!(chat.status, 401);
    let log = emulator.requests();
    assert!(log.iter().all(|r| !r.authorized && !r.had_auth_header));
}

#[tokio::test]
async fn a_wrong_token_is_rejected_and_the_right_one_accepted() {
    let emulator = emulator(Profile::V0_4).await;
    let wrong = get_with_token(&emulator.url(), "/api/v1/models", "sk-lm-wrong").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json()["error"]["code"], "invalid_api_key");
    assert!(
        !wrong.body.contains("sk-lm-wrong"),
        "the token never appears in errors"
    );
    let basic = request(
        &emulator.url(),
        "GET",
        "/v1/models",
        None,
        &[("Authorization", TOKEN)],
    )
    .await;
    assert_eq!(basic.status, 401, "the scheme is required");
    let right = get_with_token(&emulator.url(), "/api/v1/models", TOKEN).await;
    assert_eq!(right.status, 200);
    assert!(right.json()["models"].is_array());
    let log = emulator.requests();
    assert!(log[0].had_auth_header && !log[0].authorized);
    assert!(log[2].had_auth_header && log[2].authorized);
    assert!(
        log.iter().all(|r| !format!("{r:?}").contains("def")),
        "the log redacts tokens"
    );
}

#[tokio::test]
async fn the_greeting_needs_no_token() {
    let emulator = emulator(Profile::V0_4).await;
    let response = get(&emulator.url(), "/lmstudio-greeting").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json(), json!({"lmstudio": true}));
}

#[tokio::test]
async fn without_a_token_any_authorization_is_accepted() {
    let emulator = Emulator::builder().start().await.unwrap();
    assert_eq!(get(&emulator.url(), "/v1/models").await.status, 200);
    assert_eq!(
        get_with_token(&emulator.url(), "/v1/models", "anything")
            .await
            .status,
        200
    );
    assert!(emulator.requests().iter().all(|r| r.authorized));
}

#[tokio::test]
async fn the_0_3_profile_ignores_tokens() {
    let emulator = emulator(Profile::V0_3).await;
    assert_eq!(get(&emulator.url(), "/v1/models").await.status, 200);
}

#[tokio::test]
async fn the_token_can_change_at_run_time() {
    let emulator = Emulator::builder().start().await.unwrap();
    emulator.set_auth_token(Some(TOKEN.to_owned()));
    assert_eq!(get(&emulator.url(), "/v1/models").await.status, 401);
    emulator.set_auth_token(None);
    assert_eq!(get(&emulator.url(), "/v1/models").await.status, 200);
}
