//! Heads and bodies that are wrong (fault catalogue, docs/faults.md): malformed heads, bodies
//! cut short, wrong content types, redirects, error bodies. Slow bodies are in `timeouts`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use lmstudio_transport::http::StatusCode;
use std::time::Duration;

use lmstudio_testkit::fault::{Fault, FaultServer, http_response};
use lmstudio_transport::{EXCERPT_CHARS, Error};

/// Answers every request with `bytes` verbatim, then closes.
async fn raw(bytes: &[u8]) -> FaultServer {
    FaultServer::start(Fault::Raw(bytes.to_vec()))
        .await
        .unwrap()
}

/// `GET /v1/models` as JSON against `server`, with the short test limits; must fail.
async fn get_err(server: &FaultServer) -> Error {
    let client = support::client(&server.url(), support::short_limits());
    client
        .get_json::<serde_json::Value>("/v1/models")
        .await
        .expect_err("a fault must be an error")
}

/// Asserts `err` is a transport error whose message mentions `needle` (case-insensitive).
fn assert_transport(err: &Error, needle: &str) {
    match err {
        Error::Transport { message, .. } => assert!(
            message.to_ascii_lowercase().contains(needle),
            "{needle:?} not in {message:?}"
        ),
        other => panic!("expected Transport, got {other:?}"),
    }
    assert!(!err.is_timeout() && !err.is_connect());
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct ModelList {
    data: Vec<serde_json::Value>,
}

#[tokio::test]
async fn a_malformed_status_line_is_a_transport_error() {
    let server = raw(b"HTTP/1.1 abc Broken\r\nContent-Length: 2\r\n\r\n{}").await;
    let err = get_err(&server).await;
    assert_transport(&err, "status");
}

#[tokio::test]
async fn a_header_line_without_a_colon_is_a_transport_error() {
    let server =
        raw(b"HTTP/1.1 200 OK\r\nthis is not a header\r\nContent-Length: 2\r\n\r\n{}").await;
    let err = get_err(&server).await;
    assert_transport(&err, "header");
}

#[tokio::test]
async fn conflicting_content_lengths_are_a_transport_error() {
    let server = raw(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\
          Content-Length: 5\r\n\r\n{}",
    )
    .await;
    let err = get_err(&server).await;
    assert_transport(&err, "content-length");
}

#[tokio::test]
async fn a_non_numeric_content_length_is_a_transport_error() {
    let server = raw(b"HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n{}").await;
    let err = get_err(&server).await;
    assert_transport(&err, "content-length");
}

#[tokio::test]
async fn an_oversized_response_head_is_a_transport_error() {
    let mut head = b"HTTP/1.1 200 OK\r\nX-Padding: ".to_vec();
    head.resize(head.len() + 1024 * 1024, b'p');
    head.extend_from_slice(b"\r\nContent-Length: 2\r\n\r\n{}");
    let server = FaultServer::start(Fault::RawThenStall(head)).await.unwrap();
    let limits = support::short_limits().with_response_headers(Duration::from_secs(30));
    let client = support::client(&server.url(), limits.with_deadline(Duration::from_secs(30)));
    let err = client
        .get_json::<serde_json::Value>("/v1/models")
        .await
        .unwrap_err();
    assert_transport(&err, "too large");
}

#[tokio::test]
async fn a_body_shorter_than_its_content_length_is_a_transport_error() {
    // The server closes cleanly (FIN, not RST) after 5 of the 100 bytes it announced.
    let server = raw(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":",
    )
    .await;
    let err = get_err(&server).await;
    assert_transport(&err, "end of file");
}

#[tokio::test]
async fn a_chunked_body_without_its_last_chunk_is_a_transport_error() {
    let server = raw(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\n{\"a\":\r\n",
    )
    .await;
    let err = get_err(&server).await;
    assert_transport(&err, "chunk");
}

#[tokio::test]
async fn an_invalid_chunk_size_is_a_transport_error() {
    let server = raw(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
          zz\r\n{}\r\n0\r\n\r\n",
    )
    .await;
    let err = get_err(&server).await;
    assert_transport(&err, "chunk size");
}

#[tokio::test]
async fn an_html_page_with_status_200_is_invalid_json_with_an_excerpt() {
    let page = format!(
        "<!DOCTYPE html>\n<html><head><title>Proxy login</title></head><body>{}</body></html>",
        "<p>please sign in</p>\n".repeat(200)
    );
    let server = raw(&http_response(200, "text/html", page.as_bytes())).await;
    let err = get_err(&server).await;
    match &err {
        Error::InvalidJson {
            status, excerpt, ..
        } => {
            assert_eq!(*status, 200);
            assert!(excerpt.starts_with("<!DOCTYPE html> <html>"), "{excerpt}");
            assert!(excerpt.chars().count() <= EXCERPT_CHARS);
        }
        other => panic!("expected InvalidJson, got {other:?}"),
    }
}

#[tokio::test]
async fn an_empty_200_body_where_an_object_is_expected_is_invalid_json() {
    let server = raw(&http_response(200, "application/json", b"")).await;
    let client = support::client(&server.url(), support::short_limits());
    let err = client
        .get_json::<ModelList>("/v1/models")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidJson { status: StatusCode::OK, message, excerpt, .. } if message.contains("null") && excerpt.is_empty()),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_json_body_labelled_text_plain_is_still_decoded() {
    // The content type of a JSON answer is not trusted either way: the body decides.
    let server = raw(&http_response(200, "text/plain", br#"{"data":[]}"#)).await;
    let client = support::client(&server.url(), support::short_limits());
    let list: ModelList = client.get_json("/v1/models").await.unwrap();
    assert!(list.data.is_empty());
    let server = raw(&http_response(
        200,
        "text/plain",
        br#"{"error":"Model is still loading"}"#,
    ))
    .await;
    let err = get_err(&server).await;
    assert!(
        matches!(&err, Error::Server { status: StatusCode::OK, message, .. } if message == "Model is still loading"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_is_a_server_error() {
    let server = raw(
        b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/elsewhere\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    let err = get_err(&server).await;
    assert!(
        matches!(&err, Error::Server { status: StatusCode::FOUND, message, envelope: None, .. } if message == "Found"),
        "{err:?}"
    );
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn too_many_requests_keeps_the_servers_message() {
    let body = br#"{"error":{"message":"Too many concurrent requests","type":"rate_limit_error"}}"#;
    let server = raw(&http_response(429, "application/json", body)).await;
    let err = get_err(&server).await;
    assert!(
        matches!(&err, Error::Server { status: StatusCode::TOO_MANY_REQUESTS, message, envelope: Some(_), .. } if message == "Too many concurrent requests"),
        "{err:?}"
    );
    assert_eq!(err.status(), Some(StatusCode::TOO_MANY_REQUESTS));
}

#[tokio::test]
async fn an_error_object_without_a_message_falls_back_to_its_type() {
    let body = br#"{"error":{"type":"server_error","code":null}}"#;
    let server = raw(&http_response(500, "application/json", body)).await;
    let err = get_err(&server).await;
    assert!(
        matches!(&err, Error::Server { status: StatusCode::INTERNAL_SERVER_ERROR, message, .. } if message == "server_error"),
        "{err:?}"
    );
}
