//! Fault catalogue (docs/faults.md): streams that go wrong in ways the other streaming tests
//! do not inject: a stall after the first event, an event built from many lines, and an
//! error status labelled as an event stream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use futures_util::StreamExt;
use lmstudio_transport::http::StatusCode;
use std::time::Duration;

use lmstudio_testkit::fault::{Fault, FaultServer, http_response};
use lmstudio_transport::{Error, JsonStream};
use serde_json::Value;

const SSE_HEAD: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

/// One HTTP chunk holding `data`.
fn chunk(data: &str) -> String {
    format!("{:x}\r\n{data}\r\n", data.len())
}

/// Opens a chat stream against a fault server playing `fault`.
async fn open(fault: Fault) -> (FaultServer, Result<JsonStream<Value>, Error>) {
    let server = FaultServer::start(fault).await.unwrap();
    let client = support::client(&server.url(), support::short_limits());
    let opened = client
        .post("/v1/chat/completions")
        .send_json_stream::<Value>()
        .await;
    (server, opened)
}

/// The error opening a stream against a server that sends `raw` gives.
async fn open_error(raw: Vec<u8>) -> Error {
    let (_server, opened) = open(Fault::Raw(raw)).await;
    match opened {
        Ok(_) => panic!("the answer was taken for an event stream"),
        Err(err) => err,
    }
}

#[tokio::test]
async fn a_stall_after_the_first_event_is_an_idle_timeout() {
    let head = format!("{SSE_HEAD}{}", chunk("data: {\"n\":1}\n\n"));
    let (_server, opened) = open(Fault::RawThenStall(head.into_bytes())).await;
    let mut stream = opened.unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap()["n"], 1);
    let err = stream.next().await.expect("an error").unwrap_err();
    assert!(
        matches!(&err, Error::IdleTimeout { limit, .. } if *limit == Duration::from_millis(200)),
        "{err:?}"
    );
    assert!(err.is_timeout());
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn an_event_of_many_small_lines_over_the_limit_is_too_large() {
    // 200 lines of 100 bytes: every line is small, the event (20 kB) is over the 16 kB limit.
    let line = format!("data: {}\n", "x".repeat(94));
    let mut body = String::from(SSE_HEAD);
    for _ in 0..200 {
        body.push_str(&chunk(&line));
    }
    body.push_str(&chunk("\ndata: [DONE]\n\n"));
    body.push_str("0\r\n\r\n");
    let (_server, opened) = open(Fault::Raw(body.into_bytes())).await;
    let mut stream = opened.unwrap();
    let err = stream.next().await.expect("an error").unwrap_err();
    assert!(
        matches!(err, Error::SseEventTooLarge { limit: 16384, .. }),
        "{err:?}"
    );
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn an_error_status_labelled_as_an_event_stream_is_a_server_error() {
    let body = br#"{"error":{"message":"Model crashed while loading","type":"server_error"}}"#;
    let err = open_error(http_response(500, "text/event-stream", body)).await;
    assert!(
        matches!(&err, Error::Server { status: StatusCode::INTERNAL_SERVER_ERROR, message, .. } if message == "Model crashed while loading"),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_unlabelled_error_body_where_events_were_expected_keeps_the_message() {
    let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 26\r\n\r\n{\"error\":\"Model unloaded\"}";
    let err = open_error(raw.to_vec()).await;
    assert!(
        matches!(&err, Error::Server { status: StatusCode::OK, message, .. } if message == "Model unloaded"),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_html_page_labelled_text_where_events_were_expected_is_reported_with_an_excerpt() {
    let body = b"\n  <html><body>Bad gateway</body></html>";
    let err = open_error(http_response(200, "text/html", body)).await;
    match &err {
        Error::Transport { message, .. } => {
            assert!(message.contains("expected an event stream"), "{message}");
            assert!(message.contains("text/html"), "{message}");
            assert!(message.contains("Bad gateway"), "{message}");
        }
        other => panic!("expected Transport, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unlabelled_event_stream_split_before_its_first_field_still_streams() {
    // No Content-Type and a first chunk holding only a BOM: the client must read on to decide,
    // then hand everything it read to the decoder.
    let mut raw = String::from("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    raw.push_str(&chunk("\u{feff}"));
    raw.push_str(&chunk(": keep-alive\n\ndata: {\"n\""));
    raw.push_str(&chunk(":7}\n\ndata: [DONE]\n\n"));
    raw.push_str("0\r\n\r\n");
    let (_server, opened) = open(Fault::Raw(raw.into_bytes())).await;
    let mut stream = opened.unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap()["n"], 7);
    assert!(stream.next().await.is_none());
}
