//! The four time limits and refused connections, against servers that misbehave.
//!
//! Limits are short (200 ms); tests assert the error kind, never the elapsed time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use futures_util::StreamExt;
use std::time::Duration;

use lmstudio_testkit::fault::{Fault, FaultServer};
use lmstudio_transport::{Error, Limits};

#[tokio::test]
async fn headers_never_sent_is_a_response_headers_timeout() {
    let server = FaultServer::start(Fault::NeverRespond).await.unwrap();
    let client = support::client(&server.url(), support::short_limits());
    let err = client
        .get_json::<serde_json::Value>("/v1/models")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ResponseHeadersTimeout { method, limit, .. } if method == "GET" && *limit == Duration::from_millis(200)),
        "{err:?}"
    );
    assert!(err.is_timeout());
    let err = client.post("/v1/chat/completions").send_events().await;
    assert!(
        matches!(err, Err(Error::ResponseHeadersTimeout { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_stalled_stream_is_an_idle_timeout() {
    let server = FaultServer::start(Fault::HeadersThenStall).await.unwrap();
    let client = support::client(&server.url(), support::short_limits());
    let mut events = client
        .post("/v1/chat/completions")
        .send_events()
        .await
        .unwrap();
    let err = events.next_event().await.expect("an error").unwrap_err();
    assert!(
        matches!(err, Error::IdleTimeout { limit, .. } if limit == Duration::from_millis(200)),
        "{err:?}"
    );
    assert!(err.is_timeout());
    assert!(events.next_event().await.is_none());
}

#[tokio::test]
async fn a_stalled_json_body_hits_the_deadline() {
    let server = FaultServer::start(Fault::HeadersThenStall).await.unwrap();
    let client = support::client(&server.url(), support::short_limits());
    let err = client
        .get_json::<serde_json::Value>("/v1/models")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::DeadlineExceeded { method, .. } if method == "GET"),
        "{err:?}"
    );
    assert!(err.is_timeout());
}

#[tokio::test]
async fn the_deadline_covers_headers_and_body() {
    // Headers arrive at once, the body never completes; the header limit is long.
    let partial =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":"
            .to_vec();
    let server = FaultServer::start(Fault::RawThenStall(partial))
        .await
        .unwrap();
    let limits = support::short_limits().with_response_headers(Duration::from_secs(30));
    let client = support::client(&server.url(), limits);
    let err = client.get("/x").send_raw().await.unwrap_err();
    assert!(matches!(err, Error::DeadlineExceeded { .. }), "{err:?}");
}

#[tokio::test]
async fn per_request_overrides_replace_the_client_limits() {
    let never = FaultServer::start(Fault::NeverRespond).await.unwrap();
    let client = support::client(&never.url(), Limits::default());
    let err = client
        .get("/v1/models")
        .response_headers_timeout(Duration::from_millis(200))
        .send_json::<serde_json::Value>()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ResponseHeadersTimeout { limit, .. } if limit == Duration::from_millis(200)),
        "{err:?}"
    );
    let err = client
        .get("/v1/models")
        .deadline(Duration::from_millis(200))
        .send_json::<serde_json::Value>()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::DeadlineExceeded { limit, .. } if limit == Duration::from_millis(200)),
        "{err:?}"
    );

    let stall = FaultServer::start(Fault::HeadersThenStall).await.unwrap();
    let client = support::client(&stall.url(), Limits::default());
    let mut events = client
        .get("/events")
        .idle_timeout(Duration::from_millis(200))
        .send_events()
        .await
        .unwrap();
    let err = events.next_event().await.unwrap().unwrap_err();
    assert!(matches!(err, Error::IdleTimeout { .. }), "{err:?}");
}

#[tokio::test]
async fn slow_headers_within_the_limit_succeed() {
    let server = FaultServer::start(Fault::SlowHeaders(Duration::from_millis(100)))
        .await
        .unwrap();
    let limits = Limits::default()
        .with_response_headers(Duration::from_secs(30))
        .with_deadline(Duration::from_secs(30));
    let client = support::client(&server.url(), limits);
    let value: serde_json::Value = client.get_json("/slow").await.unwrap();
    assert_eq!(value, serde_json::json!({}));

    let slower = FaultServer::start(Fault::SlowHeaders(Duration::from_secs(60)))
        .await
        .unwrap();
    let client = support::client(&slower.url(), support::short_limits());
    let err = client
        .get_json::<serde_json::Value>("/slow")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ResponseHeadersTimeout { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_idle_limit_applies_between_frames_not_to_the_whole_stream() {
    // Ten events 100 ms apart: the stream lasts longer than the idle limit, no gap does.
    let mut server = mockito::Server::new_async().await;
    server
        .mock("GET", "/events")
        .with_header("content-type", "text/event-stream")
        .with_chunked_body(|w| {
            for i in 0..10 {
                w.write_all(format!("data: {{\"n\":{i}}}\n\n").as_bytes())?;
                std::thread::sleep(Duration::from_millis(100));
            }
            w.write_all(b"data: [DONE]\n\n")
        })
        .create_async()
        .await;
    let limits = Limits::default().with_idle(Duration::from_millis(700));
    let client = support::client(&server.url(), limits);
    let mut stream = client
        .get("/events")
        .send_json_stream::<serde_json::Value>()
        .await
        .unwrap();
    let mut seen = 0;
    while let Some(item) = stream.next().await {
        assert_eq!(item.unwrap()["n"], seen);
        seen += 1;
    }
    assert_eq!(seen, 10);
}

/// A port nothing listens on, which no other test's server can take meanwhile.
fn closed_port() -> u16 {
    lmstudio_testkit::closed_port()
}

#[tokio::test]
async fn a_closed_port_is_connect_refused() {
    let port = closed_port();
    for host in ["127.0.0.1", "localhost"] {
        let url = format!("http://{host}:{port}");
        let client = support::client(&url, Limits::default());
        let err = client
            .get_json::<serde_json::Value>("/v1/models")
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::ConnectRefused { url: u, .. } if u == &format!("{url}/v1/models")),
            "{host}: {err:?}"
        );
        assert!(err.is_connect() && !err.is_timeout());
        let err = client.post("/v1/chat/completions").send_events().await;
        assert!(matches!(err, Err(Error::ConnectRefused { .. })), "{err:?}");
    }
}

#[tokio::test]
async fn localhost_reaches_an_ipv4_only_server() {
    let server = FaultServer::start(Fault::Raw(lmstudio_testkit::fault::http_response(
        200,
        "application/json",
        br#"{"lmstudio":true}"#,
    )))
    .await
    .unwrap();
    let url = format!("http://localhost:{}", server.addr().port());
    let client = support::client(&url, Limits::default());
    let value: serde_json::Value = client.get_json("/lmstudio-greeting").await.unwrap();
    assert_eq!(value["lmstudio"], true);
    assert_eq!(server.accepted_connections(), 1);
}

/// Linux drops SYNs to a listener whose accept queue is full, so a connect to it hangs:
/// a deterministic connect timeout without any network.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_connect_that_hangs_is_a_connect_timeout() {
    let (listener, addr, _fillers) = support::hanging_listener().await;
    let limits = Limits::default().with_connect(Duration::from_millis(200));
    let client = support::client(&format!("http://{addr}"), limits);
    let err = client
        .get_json::<serde_json::Value>("/v1/models")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ConnectTimeout { limit, .. } if limit == Duration::from_millis(200)),
        "{err:?}"
    );
    assert!(err.is_connect() && err.is_timeout());
    drop(listener);
}

#[tokio::test]
async fn a_trickling_body_still_hits_the_deadline() {
    // One byte every 20 ms: never idle long, but the whole answer takes seconds.
    let mut server = mockito::Server::new_async().await;
    server
        .mock("GET", "/v1/models")
        .with_header("content-type", "application/json")
        .with_chunked_body(|w| {
            for _ in 0..500 {
                w.write_all(b" ")?;
                std::thread::sleep(Duration::from_millis(20));
            }
            w.write_all(b"{}")
        })
        .create_async()
        .await;
    let limits = Limits::default()
        .with_response_headers(Duration::from_secs(30))
        .with_idle(Duration::from_secs(30))
        .with_deadline(Duration::from_millis(300));
    let client = support::client(&server.url(), limits);
    let err = client
        .get_json::<serde_json::Value>("/v1/models")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::DeadlineExceeded { method, limit, .. } if method == "GET" && *limit == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(err.is_timeout());
}

#[tokio::test]
async fn a_stall_after_the_first_event_is_an_idle_timeout() {
    let head = format!(
        "{}{}",
        support::SSE_HEAD,
        support::sse_chunk("data: {\"n\":1}\n\n")
    );
    let server = FaultServer::start(Fault::RawThenStall(head.into_bytes()))
        .await
        .unwrap();
    let mut stream = support::client(&server.url(), support::short_limits())
        .post("/v1/chat/completions")
        .send_json_stream::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap()["n"], 1);
    let err = stream.next().await.expect("an error").unwrap_err();
    assert!(
        matches!(&err, Error::IdleTimeout { limit, .. } if *limit == Duration::from_millis(200)),
        "{err:?}"
    );
    assert!(err.is_timeout());
    assert!(stream.next().await.is_none());
}
