//! Streaming calls over HTTP: real captures delivered in small chunks, `[DONE]`, errors inside
//! a stream, early ends, error answers instead of a stream, faults mid-stream (events of many
//! lines, error statuses labelled as event streams), and drop. Stalls are in `timeouts`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use futures_util::StreamExt;
use lmstudio_transport::http::StatusCode;
use std::future::poll_fn;
use std::pin::Pin;
use std::time::Duration;

use futures_core::{FusedStream, Stream};
use lmstudio_testkit::fault::{Fault, FaultServer, http_response};
use lmstudio_transport::sse::decode_all;
use lmstudio_transport::{Error, JsonStream, Limits, RequestBuilder};
use mockito::{Matcher, Server, ServerGuard};
use serde::Deserialize;
use serde_json::Value;
use support::{SSE_HEAD, sse_chunk as chunk};

/// A mock answering `POST /v1/chat/completions` with `body` as an event stream, written in
/// HTTP chunks of `chunk` bytes.
/// A chat request with default limits to `server`, ready to send.
fn chat_post(server: &ServerGuard) -> RequestBuilder {
    support::client(&server.url(), Limits::default())
        .post("/v1/chat/completions")
        .json(&chat_request())
}

async fn sse_server(body: Vec<u8>, chunk: usize) -> ServerGuard {
    let mut server = Server::new_async().await;
    server
        .mock("POST", "/v1/chat/completions")
        .match_header("accept", "text/event-stream")
        .match_header("content-type", "application/json")
        .with_header("content-type", "text/event-stream")
        .with_chunked_body(move |w| {
            for piece in body.chunks(chunk) {
                w.write_all(piece)?;
            }
            Ok(())
        })
        .create_async()
        .await;
    server
}

fn chat_request() -> serde_json::Value {
    serde_json::json!({"model": "m", "stream": true, "messages": []})
}

#[derive(Debug, Deserialize, PartialEq)]
struct Chunk {
    object: String,
    #[serde(default)]
    choices: Vec<serde_json::Value>,
    #[serde(default)]
    usage: Option<serde_json::Value>,
}

#[tokio::test]
async fn captures_in_one_byte_chunks_give_every_value_then_end() {
    for name in support::SSE_FIXTURES {
        if *name == "lmstudio_native_chat_events.sse" {
            continue;
        }
        let bytes = support::data(name);
        let expected: Vec<serde_json::Value> = decode_all(&bytes, 1 << 20)
            .into_iter()
            .map(|e| e.unwrap().data)
            .filter(|d| d != "[DONE]")
            .map(|d| serde_json::from_str(&d).unwrap())
            .collect();
        assert!(!expected.is_empty());
        for chunk in [1, 7, 4096] {
            let server = sse_server(bytes.clone(), chunk).await;
            let mut stream = chat_post(&server)
                .send_json_stream::<serde_json::Value>()
                .await
                .unwrap();
            assert_eq!(stream.status(), 200);
            let mut got = Vec::new();
            while let Some(value) = stream.next().await {
                got.push(value.unwrap());
            }
            assert_eq!(got, expected, "{name} in {chunk}-byte chunks");
            assert!(stream.next().await.is_none());
            assert!(stream.is_terminated());
        }
    }
}

#[tokio::test]
async fn values_decode_into_typed_chunks_including_the_usage_chunk() {
    let server = sse_server(support::data("lmstudio_sse_usage_chunk.sse"), 5).await;
    let mut stream = chat_post(&server)
        .send_json_stream::<Chunk>()
        .await
        .unwrap();
    let chunk = stream.next().await.unwrap().unwrap();
    assert_eq!(chunk.object, "chat.completion.chunk");
    assert!(chunk.choices.is_empty());
    assert_eq!(chunk.usage.unwrap()["total_tokens"], 133);
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn named_events_come_through_send_events() {
    let mut server = Server::new_async().await;
    server
        .mock("POST", "/api/v1/chat")
        .with_header("content-type", "text/event-stream")
        .with_body(support::data("lmstudio_native_chat_events.sse"))
        .create_async()
        .await;
    let client = support::client(&server.url(), Limits::default());
    let mut events = client
        .post("/api/v1/chat")
        .json(&serde_json::json!({"model": "m", "input": "hi", "stream": true}))
        .send_events()
        .await
        .unwrap();
    let mut names = Vec::new();
    while let Some(event) = events.next_event().await {
        let event = event.unwrap();
        let data: serde_json::Value = serde_json::from_str(&event.data).unwrap();
        let name = event.event.unwrap();
        assert_eq!(data["type"], name.as_str());
        names.push(name);
    }
    assert_eq!(names.len(), 19);
    assert_eq!(names.first().map(String::as_str), Some("chat.start"));
    assert_eq!(names.last().map(String::as_str), Some("chat.end"));
}

async fn stream_outcome(body: &'static [u8]) -> Vec<Result<serde_json::Value, String>> {
    let server = sse_server(body.to_vec(), 3).await;
    let mut stream = chat_post(&server)
        .send_json_stream::<serde_json::Value>()
        .await
        .unwrap();
    let mut out = Vec::new();
    while let Some(item) = stream.next().await {
        out.push(item.map_err(|e| format!("{e:?}")));
    }
    assert!(stream.next().await.is_none(), "None after the end");
    out
}

#[tokio::test]
async fn an_error_object_mid_stream_is_a_server_error() {
    let out = stream_outcome(
        b"data: {\"n\":1}\n\ndata: {\"error\":{\"message\":\"Model crashed\",\"type\":\"server_error\"}}\n\ndata: {\"n\":2}\n\n",
    )
    .await;
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(out[0], Ok(serde_json::json!({"n": 1})));
    let err = out[1].as_ref().unwrap_err();
    assert!(err.starts_with("Server { status: 200"), "{err}");
    assert!(err.contains("message: \"Model crashed\""), "{err}");
}

#[tokio::test]
async fn an_error_string_mid_stream_is_a_server_error() {
    let server = sse_server(
        b"data: {\"n\":1}\n\ndata: {\"error\":\"Model unloaded\"}\n\n".to_vec(),
        4,
    )
    .await;
    let mut stream = chat_post(&server)
        .send_json_stream::<serde_json::Value>()
        .await
        .unwrap();
    assert!(stream.next().await.unwrap().is_ok());
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(
        matches!(&err, Error::Server { status: StatusCode::OK, message, envelope: Some(_), .. } if message == "Model unloaded"),
        "{err:?}"
    );
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn a_stream_without_done_ended_early() {
    let out = stream_outcome(b"data: {\"n\":1}\n\ndata: {\"n\":2}\n\n").await;
    assert_eq!(out.len(), 3);
    assert!(out[2].as_ref().unwrap_err().starts_with("StreamEndedEarly"));
    // An empty stream too.
    let out = stream_outcome(b": nothing but a comment\n\n").await;
    assert_eq!(out.len(), 1);
    assert!(out[0].as_ref().unwrap_err().starts_with("StreamEndedEarly"));
}

#[tokio::test]
async fn a_done_without_its_blank_line_still_ends_cleanly() {
    let out = stream_outcome(b"data: {\"n\":1}\r\n\r\ndata: [DONE]").await;
    assert_eq!(out, [Ok(serde_json::json!({"n": 1}))]);
}

#[tokio::test]
async fn invalid_json_in_an_event_ends_the_stream() {
    let out = stream_outcome(b"data: {\"n\":1}\n\ndata: {not json\n\ndata: [DONE]\n\n").await;
    assert_eq!(out.len(), 2);
    let err = out[1].as_ref().unwrap_err();
    assert!(err.starts_with("InvalidJson { "), "{err}");
    assert!(err.contains("excerpt: \"{not json\""), "{err}");
}

#[tokio::test]
async fn invalid_utf8_skips_one_raw_event_but_ends_a_json_stream() {
    let body = b"data: {\"n\":1}\n\ndata: \xff\xfe\n\ndata: {\"n\":2}\n\ndata: [DONE]\n\n";
    let server = sse_server(body.to_vec(), 2).await;
    let mut events = chat_post(&server).send_events().await.unwrap();
    let mut out = Vec::new();
    while let Some(event) = events.next_event().await {
        out.push(event.map(|e| e.data).map_err(|e| format!("{e:?}")));
    }
    assert_eq!(out.len(), 4);
    assert!(out[1].as_ref().unwrap_err().starts_with("InvalidUtf8"));
    assert_eq!(out[2].as_deref(), Ok("{\"n\":2}"));
    assert_eq!(out[3].as_deref(), Ok("[DONE]"));

    let out = stream_outcome(b"data: {\"n\":1}\n\ndata: \xff\n\ndata: {\"n\":2}\n\n").await;
    assert_eq!(out.len(), 2);
    assert!(out[1].as_ref().unwrap_err().starts_with("InvalidUtf8"));
}

#[tokio::test]
async fn error_answers_instead_of_a_stream_keep_the_server_message() {
    let mut server = Server::new_async().await;
    // LM Studio: unknown route, HTTP 200 with the string form.
    server
        .mock("POST", "/v1/unknown")
        .with_header("content-type", "application/json")
        .with_body(r#"{"error":"Unexpected endpoint or method. (POST /v1/unknown)"}"#)
        .create_async()
        .await;
    server
        .mock("POST", "/v1/chat/completions")
        .match_body(Matcher::Regex("missing".into()))
        .with_status(400)
        .with_header("content-type", "application/json")
        .with_body(support::data("lmstudio_error_missing_messages_400.json"))
        .create_async()
        .await;
    server
        .mock("POST", "/v1/plain-json")
        .with_header("content-type", "application/json")
        .with_body(r#"{"id":"chatcmpl-1","object":"chat.completion"}"#)
        .create_async()
        .await;
    let client = support::client(&server.url(), Limits::default());

    let err = client
        .post("/v1/unknown")
        .json(&chat_request())
        .send_json_stream::<serde_json::Value>()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Server { status: StatusCode::OK, message, .. } if message.starts_with("Unexpected endpoint")),
        "{err:?}"
    );
    let err = client
        .post("/v1/chat/completions")
        .json(&serde_json::json!({"missing": true}))
        .send_events()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Server { status: StatusCode::BAD_REQUEST, message, .. } if message == "'messages' field is required"),
        "{err:?}"
    );
    // A JSON answer without an error where events were expected is a protocol error.
    let err = client
        .post("/v1/plain-json")
        .send_events()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Transport { message, .. } if message.contains("expected an event stream")),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_streams_implement_futures_stream() {
    let server = sse_server(support::data("lmstudio_sse_chat_basic.sse"), 16).await;
    let mut values = chat_post(&server)
        .send_json_stream::<serde_json::Value>()
        .await
        .unwrap();
    let mut count = 0;
    while let Some(item) = poll_fn(|cx| Pin::new(&mut values).poll_next(cx)).await {
        assert_eq!(item.unwrap()["object"], "chat.completion.chunk");
        count += 1;
    }
    assert_eq!(count, 2);
    assert!(values.is_terminated());

    let server = sse_server(support::data("lmstudio_sse_chat_basic.sse"), 16).await;
    let mut events = chat_post(&server).send_events().await.unwrap();
    let mut datas = Vec::new();
    while let Some(item) = poll_fn(|cx| Pin::new(&mut events).poll_next(cx)).await {
        datas.push(item.unwrap().data);
    }
    assert_eq!(datas.len(), 3);
    assert_eq!(datas[2], "[DONE]");
    assert!(events.is_terminated());
}

#[tokio::test]
async fn a_reset_mid_body_is_a_transport_error() {
    let server = FaultServer::start(Fault::ResetMidBody).await.unwrap();
    let limits = support::short_limits().with_deadline(Duration::from_secs(30));
    let client = support::client(&server.url(), limits);
    let err = client
        .get_json::<serde_json::Value>("/v1/models")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");

    // Closed in the middle of a chunk of an event stream.
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\
                 Transfer-Encoding: chunked\r\n\r\nf\r\ndata: {\"n\":1}\n\n\r\n5\r\nda"
        .to_vec();
    let server = FaultServer::start(Fault::Raw(head)).await.unwrap();
    let client = support::client(&server.url(), support::short_limits());
    let mut stream = client
        .get("/events")
        .send_json_stream::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap()["n"], 1);
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn garbage_is_a_transport_error() {
    let server = FaultServer::start(Fault::Garbage).await.unwrap();
    let client = support::client(&server.url(), support::short_limits());
    let err = client
        .get_json::<serde_json::Value>("/v1/models")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    let err = client
        .post("/v1/chat/completions")
        .send_events()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
}

#[tokio::test]
async fn dropping_a_stream_closes_the_connection() {
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\
                 Transfer-Encoding: chunked\r\n\r\nf\r\ndata: {\"n\":1}\n\n\r\n"
        .to_vec();
    let server = FaultServer::start(Fault::RawThenStall(head)).await.unwrap();
    let limits = Limits::default().with_idle(Duration::from_secs(60));
    let client = support::client(&server.url(), limits);
    let mut stream = client
        .get("/events")
        .send_json_stream::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap()["n"], 1);
    assert_eq!(server.closed_connections(), 0);
    drop(stream);
    assert!(
        server.wait_for_closed(1, Duration::from_secs(10)).await,
        "the server still sees the connection open"
    );
    // The client itself is still usable (the closed connection is not reused).
    drop(client);
}

/// A protocol whose last event is a named event carrying a value (like `message_stop`).
#[derive(Default)]
struct UntilStop {
    seen: usize,
}

impl lmstudio_transport::EventDecoder for UntilStop {
    type Item = String;

    fn decode(
        &mut self,
        event: lmstudio_transport::sse::SseEventRef<'_>,
    ) -> Result<lmstudio_transport::Step<String>, lmstudio_transport::DecodeError> {
        use lmstudio_transport::Step;
        self.seen += 1;
        Ok(match event.event {
            Some("ping") => Step::Skip,
            Some("stop") => Step::Last(event.data.to_owned()),
            _ => Step::Item(event.data.to_owned()),
        })
    }
}

#[tokio::test]
async fn the_protocol_decides_which_event_ends_the_stream() {
    let body = b"event: delta\ndata: a\n\nevent: ping\ndata: \n\nevent: delta\ndata: b\n\nevent: stop\ndata: end\n\nevent: delta\ndata: after\n\n";
    let server = sse_server(body.to_vec(), 5).await;
    let stream = chat_post(&server)
        .send_event_stream(UntilStop::default())
        .await
        .unwrap();
    let items: Vec<_> = stream.map(Result::unwrap).collect().await;
    assert_eq!(items, vec!["a", "b", "end"], "nothing after the last event");

    // Without its end event, the same protocol reports the stream as cut short.
    let server = sse_server(b"event: delta\ndata: a\n\n".to_vec(), 5).await;
    let mut stream = chat_post(&server)
        .send_event_stream(UntilStop::default())
        .await
        .unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap(), "a");
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(matches!(err, Error::StreamEndedEarly { .. }), "{err:?}");
    assert_eq!(stream.decoder().seen, 1);
    assert!(stream.next().await.is_none());
}

// Streams that go wrong in ways the cases above do not inject: an event built from many
// lines, an error status labelled as an event stream (fault catalogue, docs/faults.md).

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
