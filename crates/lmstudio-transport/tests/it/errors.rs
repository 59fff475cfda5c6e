//! Error answers: every status, both `error` forms, 200 + error, non-JSON and invalid JSON.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use lmstudio_proto::error::{ErrorCode, ErrorField};
use lmstudio_transport::http::StatusCode;
use lmstudio_transport::{EXCERPT_CHARS, Error, Limits};
use mockito::{Server, ServerGuard};

async fn answer(status: usize, content_type: &str, body: Vec<u8>) -> (ServerGuard, Error) {
    let mut server = Server::new_async().await;
    server
        .mock("GET", "/v1/models")
        .with_status(status)
        .with_header("content-type", content_type)
        .with_body(body)
        .create_async()
        .await;
    let client = support::client(&server.url(), Limits::default());
    let err = client
        .get_json::<serde_json::Value>("/v1/models")
        .await
        .expect_err("an error");
    (server, err)
}

#[tokio::test]
async fn ok_status_with_a_string_error_is_a_server_error() {
    // LM Studio answers unknown routes with 200 and the string form.
    let body = br#"{"error":"Unexpected endpoint or method. (GET /v1/models)"}"#.to_vec();
    let (server, err) = answer(200, "application/json", body).await;
    match &err {
        Error::Server {
            status,
            url,
            message,
            envelope,
        } => {
            assert_eq!(*status, 200);
            assert_eq!(url, &format!("{}/v1/models", server.url()));
            assert_eq!(message, "Unexpected endpoint or method. (GET /v1/models)");
            assert!(matches!(
                envelope.as_deref().map(|e| &e.error),
                Some(ErrorField::Text(_))
            ));
        }
        other => panic!("expected Server, got {other:?}"),
    }
    assert_eq!(err.status(), Some(StatusCode::OK));
    assert!(err.to_string().contains("Unexpected endpoint or method"));
    assert!(!err.is_timeout() && !err.is_connect());
}

#[tokio::test]
async fn not_found_with_the_object_form_keeps_code_and_message() {
    let body = support::data("lmstudio_error_model_not_found_404.json");
    let (_server, err) = answer(404, "application/json", body).await;
    let Error::Server {
        status,
        message,
        envelope,
        ..
    } = &err
    else {
        panic!("expected Server, got {err:?}");
    };
    assert_eq!(*status, 404);
    assert!(message.starts_with("Model \"local model\" not found."));
    let envelope = envelope.as_deref().expect("envelope");
    assert_eq!(
        envelope.error.code(),
        Some(&ErrorCode::Text("model_not_found".into()))
    );
    assert_eq!(err.envelope(), Some(envelope));
}

#[tokio::test]
async fn bad_request_with_the_string_form() {
    let body = support::data("lmstudio_error_missing_messages_400.json");
    let (_server, err) = answer(400, "application/json", body).await;
    assert!(
        matches!(&err, Error::Server { status: StatusCode::BAD_REQUEST, message, .. } if message == "'messages' field is required"),
        "{err:?}"
    );
}

#[tokio::test]
async fn unavailable_with_a_numeric_code() {
    let body = support::data("llama_server_loading_503.json");
    let (_server, err) = answer(503, "application/json; charset=utf-8", body).await;
    assert!(
        matches!(&err, Error::Server { status: StatusCode::SERVICE_UNAVAILABLE, message, envelope: Some(_), .. } if message == "Loading model"),
        "{err:?}"
    );
}

#[tokio::test]
async fn plain_text_error_bodies_become_the_message() {
    let body = support::data("llama_cpp_python_500.txt");
    let (_server, err) = answer(500, "text/plain; charset=utf-8", body).await;
    assert!(
        matches!(&err, Error::Server { status: StatusCode::INTERNAL_SERVER_ERROR, message, envelope: None, .. } if message == "Internal Server Error"),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_empty_error_body_uses_the_status_reason() {
    let (_server, err) = answer(502, "text/plain", Vec::new()).await;
    assert!(
        matches!(&err, Error::Server { status: StatusCode::BAD_GATEWAY, message, .. } if message == "Bad Gateway"),
        "{err:?}"
    );
}

#[tokio::test]
async fn long_html_error_pages_are_cut_to_a_bounded_excerpt() {
    let page = format!(
        "<html><body><h1>502 Bad Gateway</h1>{}</body></html>",
        "<p>upstream</p>\n".repeat(500)
    );
    let (_server, err) = answer(502, "text/html", page.into_bytes()).await;
    let Error::Server { message, .. } = &err else {
        panic!("expected Server, got {err:?}");
    };
    assert!(message.starts_with("<html><body><h1>502 Bad Gateway</h1>"));
    assert!(message.chars().count() <= EXCERPT_CHARS);
    assert!(!message.contains('\n'));
}

#[tokio::test]
async fn invalid_json_keeps_a_bounded_excerpt() {
    let (_server, err) = answer(200, "application/json", b"{\"data\": [1, 2,".to_vec()).await;
    match &err {
        Error::InvalidJson {
            status,
            excerpt,
            message,
            ..
        } => {
            assert_eq!(*status, 200);
            assert_eq!(excerpt, "{\"data\": [1, 2,");
            assert!(message.contains("EOF"), "{message}");
        }
        other => panic!("expected InvalidJson, got {other:?}"),
    }
    assert_eq!(err.status(), Some(StatusCode::OK));

    let huge = format!("not json {}", "x".repeat(100_000));
    let (_server, err) = answer(200, "application/json", huge.into_bytes()).await;
    let Error::InvalidJson { excerpt, .. } = &err else {
        panic!("expected InvalidJson, got {err:?}");
    };
    assert!(excerpt.starts_with("not json xxx"));
    assert!(excerpt.chars().count() <= EXCERPT_CHARS);
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_invalid_json() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Expected {
        data: Vec<String>,
    }
    let mut server = Server::new_async().await;
    server
        .mock("GET", "/v1/models")
        .with_body(r#"{"data": 5}"#)
        .create_async()
        .await;
    let client = support::client(&server.url(), Limits::default());
    let err = client.get_json::<Expected>("/v1/models").await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidJson { status: StatusCode::OK, message, .. } if message.contains("invalid type")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_server_error_is_never_taken_for_a_json_error() {
    // A 500 whose body is not JSON at all must still be a Server error, not InvalidJson.
    let (_server, err) = answer(500, "application/json", b"<<<garbage>>>".to_vec()).await;
    assert!(
        matches!(&err, Error::Server { status: StatusCode::INTERNAL_SERVER_ERROR, message, .. } if message == "<<<garbage>>>"),
        "{err:?}"
    );
}

/// Every error's sources, outermost first.
fn sources(err: &Error) -> Vec<&(dyn std::error::Error + 'static)> {
    std::iter::successors(std::error::Error::source(err), |e| e.source()).collect()
}

#[tokio::test]
async fn causes_stay_reachable_through_source() {
    // A refused connection keeps the operating system's error in its chain.
    let url = format!("http://127.0.0.1:{}", lmstudio_testkit::closed_port());
    let err = support::client(&url, Limits::default())
        .get_json::<serde_json::Value>("/v1/models")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConnectRefused { .. }), "{err:?}");
    let refused = sources(&err).into_iter().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
    });
    assert!(refused, "the io::Error is in the chain of {err:?}");

    // A body that is not JSON keeps serde_json's error.
    let (_server, err) = answer(200, "application/json", b"{not json".to_vec()).await;
    assert!(matches!(err, Error::InvalidJson { .. }), "{err:?}");
    assert!(
        sources(&err)
            .iter()
            .any(|e| e.downcast_ref::<serde_json::Error>().is_some()),
        "{err:?}"
    );
    assert_eq!(err.status(), Some(StatusCode::OK));
    assert!(err.url().is_some_and(|u| u.ends_with("/v1/models")));
}

#[tokio::test]
async fn a_connection_reset_mid_body_keeps_hypers_error() {
    let server =
        lmstudio_testkit::fault::FaultServer::start(lmstudio_testkit::fault::Fault::ResetMidBody)
            .await
            .unwrap();
    let err = support::client(&server.url(), Limits::default())
        .get_json::<serde_json::Value>("/v1/models")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(
        sources(&err)
            .iter()
            .any(|e| e.downcast_ref::<hyper::Error>().is_some()),
        "hyper's error is the source of {err:?}"
    );
}
