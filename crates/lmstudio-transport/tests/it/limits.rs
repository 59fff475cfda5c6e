//! Size limits: bodies (declared and counted) and SSE lines, against hostile servers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use futures_util::StreamExt;
use lmstudio_testkit::fault::{Fault, FaultServer};
use lmstudio_transport::{Error, Limits};
use mockito::Server;

#[test]
fn defaults_are_documented_values() {
    use std::time::Duration;
    let limits = Limits::default();
    assert_eq!(limits.connect, Duration::from_secs(5));
    assert_eq!(limits.response_headers, Duration::from_secs(30));
    assert_eq!(limits.idle, Duration::from_secs(120));
    assert_eq!(limits.deadline, Duration::from_secs(120));
    assert_eq!(limits.max_body_bytes, 32 * 1024 * 1024);
    assert_eq!(limits.max_sse_event_bytes, 4 * 1024 * 1024);
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_before_reading() {
    // Claims 10 GB, sends a few bytes, then stays open: only the header can end this early.
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                 Content-Length: 10000000000\r\n\r\n[1,2,3"
        .to_vec();
    let server = FaultServer::start(Fault::RawThenStall(head)).await.unwrap();
    let limits = support::short_limits().with_deadline(std::time::Duration::from_secs(30));
    let client = support::client(&server.url(), limits);
    let err = client
        .get_json::<serde_json::Value>("/v1/models")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::BodyTooLarge {
                limit: 65536,
                declared: Some(10_000_000_000),
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_endless_body_is_cut_at_the_limit() {
    let server = FaultServer::start(Fault::EndlessBody).await.unwrap();
    let limits = support::short_limits().with_deadline(std::time::Duration::from_secs(30));
    let client = support::client(&server.url(), limits);
    let err = client
        .get_json::<serde_json::Value>("/v1/models")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::BodyTooLarge {
                limit: 65536,
                declared: None,
                ..
            }
        ),
        "{err:?}"
    );
    let err = client.get("/v1/models").send_raw().await.unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { .. }), "{err:?}");
}

#[tokio::test]
async fn a_body_exactly_at_the_limit_is_read_and_one_more_byte_is_not() {
    let limit = 4096;
    let mut server = Server::new_async().await;
    server
        .mock("GET", "/exact")
        .with_body(vec![b'a'; limit])
        .create_async()
        .await;
    server
        .mock("GET", "/over")
        .with_body(vec![b'a'; limit + 1])
        .create_async()
        .await;
    server
        .mock("GET", "/chunked")
        .with_chunked_body(move |w| {
            for _ in 0..8 {
                w.write_all(&[b'b'; 1000])?;
            }
            Ok(())
        })
        .create_async()
        .await;
    let client = support::client(&server.url(), Limits::default().with_max_body_bytes(limit));
    let raw = client.get("/exact").send_raw().await.unwrap();
    assert_eq!(raw.body.len(), limit);
    let err = client.get("/over").send_raw().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::BodyTooLarge {
                declared: Some(4097),
                ..
            }
        ),
        "{err:?}"
    );
    let err = client.get("/chunked").send_raw().await.unwrap_err();
    assert!(
        matches!(err, Error::BodyTooLarge { declared: None, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_endless_sse_line_is_an_event_too_large() {
    let server = FaultServer::start(Fault::EndlessSseLine).await.unwrap();
    let limits = support::short_limits().with_idle(std::time::Duration::from_secs(30));
    let client = support::client(&server.url(), limits);
    let mut events = client.get("/events").send_events().await.unwrap();
    let err = events.next_event().await.expect("an error").unwrap_err();
    assert!(
        matches!(err, Error::SseEventTooLarge { limit: 16384, .. }),
        "{err:?}"
    );
    assert!(events.next_event().await.is_none());

    let mut values = client
        .get("/events")
        .send_json_stream::<serde_json::Value>()
        .await
        .unwrap();
    let err = values.next().await.expect("an error").unwrap_err();
    assert!(matches!(err, Error::SseEventTooLarge { .. }), "{err:?}");
    assert!(values.next().await.is_none());
}

#[tokio::test]
async fn an_error_body_on_a_stream_request_is_bounded_too() {
    let server = FaultServer::start(Fault::EndlessBody).await.unwrap();
    let limits = support::short_limits().with_deadline(std::time::Duration::from_secs(30));
    let client = support::client(&server.url(), limits);
    // EndlessBody answers `application/json`: read as an error answer, it is still bounded.
    let err = client.get("/events").send_events().await.unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { .. }), "{err:?}");
}
