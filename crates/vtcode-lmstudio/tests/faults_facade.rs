//! Fault catalogue (docs/faults.md): broken servers seen through the facade: the
//! `io::ErrorKind` and the typed [`LmStudioError`] a caller of the seed API gets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use futures_util::StreamExt;
use std::io::ErrorKind;
use std::time::Duration;
use vtcode_lmstudio::http::StatusCode;

use lmstudio_testkit::fault::{Fault, FaultServer, http_response};
use support::{config_for, typed};
use vtcode_config::VTCodeConfig;
use vtcode_lmstudio::proto::openai::{ChatCompletionRequest, ChatMessage};
use vtcode_lmstudio::{LMStudioClient, LmStudioError, NOT_RESPONDING_MESSAGE};

/// A config for `url` with 200 ms time limits and a 64 KiB body limit.
fn short_config(url: &str) -> VTCodeConfig {
    let mut config = config_for(url);
    config.lmstudio.api_token_env = "VTCODE_LMSTUDIO_FAULT_TESTS_NO_TOKEN".to_owned();
    config.lmstudio.response_headers_timeout_ms = 200;
    config.lmstudio.idle_timeout_ms = 200;
    config.lmstudio.request_timeout_ms = 5_000;
    config.lmstudio.max_body_bytes = 64 * 1024;
    config
}

fn client(config: &VTCodeConfig) -> LMStudioClient {
    LMStudioClient::new(config).unwrap()
}

/// The error `fetch_models()` gives against a fault server playing `fault` (short limits).
async fn models_error(fault: Fault) -> (FaultServer, std::io::Error) {
    let server = FaultServer::start(fault).await.unwrap();
    let err = client(&short_config(&server.url()))
        .fetch_models()
        .await
        .unwrap_err();
    (server, err)
}

fn chat_request() -> ChatCompletionRequest {
    ChatCompletionRequest::new("openai/gpt-oss-20b", vec![ChatMessage::user("hi")])
}

/// Linux drops SYNs to a listener whose accept queue is full, so a connect to it hangs.
///
/// On a loaded machine the kernel occasionally lets one more handshake complete; the test then
/// sees the connection in the listener's queue, knows its precondition did not hold, and tries
/// again on a fresh listener (a hang that was not set up proves nothing either way).
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_connect_that_hangs_is_timed_out_and_not_responding() {
    for _attempt in 0..5 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(1).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut fillers = Vec::new();
        for _ in 0..16 {
            let connect = tokio::net::TcpStream::connect(addr);
            match tokio::time::timeout(Duration::from_millis(300), connect).await {
                Ok(Ok(stream)) => fillers.push(stream),
                _ => break,
            }
        }
        let mut config = short_config(&format!("http://{addr}"));
        // Below the 200 ms response-headers limit, which also runs while connecting: with equal
        // limits either timer could fire first.
        config.lmstudio.connect_timeout_ms = 100;
        let outcome = LMStudioClient::try_from_provider(&config).await;
        // Every connection that completed a handshake is waiting in the accept queue.
        let mut queued = 0;
        while let Ok(Ok(_)) =
            tokio::time::timeout(Duration::from_millis(50), listener.accept()).await
        {
            queued += 1;
        }
        if queued > fillers.len() {
            continue; // the client's connect was let through: not a hang, set it up again
        }
        let err = outcome.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert_eq!(err.to_string(), NOT_RESPONDING_MESSAGE);
        assert!(
            matches!(
                typed(&err),
                LmStudioError::NotResponding {
                    timed_out: true,
                    ..
                }
            ),
            "{err:?}"
        );
        return;
    }
    panic!("the accept queue never stayed full: no hanging connect could be set up");
}

#[tokio::test]
async fn headers_never_sent_are_timed_out_naming_the_request_and_the_limit() {
    let server = FaultServer::start(Fault::NeverRespond).await.unwrap();
    let config = short_config(&server.url());
    // The seed rule: a model list that cannot be read is only a warning for the constructor.
    LMStudioClient::try_from_provider(&config).await.unwrap();
    let err = client(&config).fetch_models().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(
        err.to_string(),
        format!("GET {}/api/v1/models timed out after 200 ms", server.url())
    );
    assert!(!typed(&err).is_not_responding());
}

#[tokio::test]
async fn an_endless_body_is_invalid_data_too_large() {
    let (_server, err) = models_error(Fault::EndlessBody).await;
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(
        matches!(typed(&err), LmStudioError::TooLarge { limit: 65536, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("65536-byte limit"), "{err}");
}

#[tokio::test]
async fn a_reset_mid_body_is_a_transport_error_not_not_responding() {
    let (_server, err) = models_error(Fault::ResetMidBody).await;
    assert_eq!(err.kind(), ErrorKind::Other);
    assert!(
        matches!(typed(&err), LmStudioError::Transport { .. }),
        "{err:?}"
    );
    assert!(!typed(&err).is_not_responding());
}

#[tokio::test]
async fn bytes_that_are_not_http_are_a_transport_error() {
    let (_server, err) = models_error(Fault::Garbage).await;
    assert_eq!(err.kind(), ErrorKind::Other);
    assert!(
        matches!(typed(&err), LmStudioError::Transport { .. }),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("transport error talking to "));
}

#[tokio::test]
async fn an_html_page_on_every_route_is_invalid_data() {
    let page = b"<html><head><title>Captive portal</title></head><body>Sign in</body></html>";
    let server = FaultServer::start(Fault::Raw(http_response(200, "text/html", page)))
        .await
        .unwrap();
    let err = client(&short_config(&server.url()))
        .fetch_models()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    let text = err.to_string();
    assert!(text.starts_with("JSON parse error: "), "{text}");
    assert!(text.contains("<title>Captive portal</title>"), "{text}");
}

#[tokio::test]
async fn a_chat_stream_that_stalls_mid_answer_is_timed_out() {
    let event = r#"data: {"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}

"#;
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{event}\r\n",
        event.len()
    );
    let server = FaultServer::start(Fault::RawThenStall(head.into_bytes()))
        .await
        .unwrap();
    let client = client(&short_config(&server.url()));
    let mut stream = client.chat_stream(chat_request()).await.unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.choices[0].delta.text().as_deref(), Some("Hel"));
    let err = stream.next().await.expect("an error").unwrap_err();
    match &err {
        LmStudioError::Timeout {
            operation, limit, ..
        } => {
            assert!(
                operation.starts_with("waiting for more data from "),
                "{operation}"
            );
            assert_eq!(*limit, Duration::from_millis(200));
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert_eq!(std::io::Error::from(err).kind(), ErrorKind::TimedOut);
    assert_eq!(stream.summary().content, "Hel");
}

#[tokio::test]
async fn a_stream_request_refused_with_400_keeps_the_servers_message() {
    let mut server = support::server().await;
    server
        .mock("POST", "/v1/chat/completions")
        .with_status(400)
        .with_header("content-type", "application/json")
        .with_body(r#"{"error":"'messages' field is required"}"#)
        .create_async()
        .await;
    let err = client(&short_config(&server.url()))
        .chat_stream(chat_request())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, LmStudioError::Server { status: StatusCode::BAD_REQUEST, message, .. } if message == "'messages' field is required"),
        "{err:?}"
    );
    let err = std::io::Error::from(err);
    assert_eq!(err.kind(), ErrorKind::Other);
    assert!(err.to_string().contains("HTTP 400"), "{err}");
}
