//! Time limits through the facade (fault catalogue, docs/faults.md): a connect that hangs,
//! headers never sent, a stream that stalls, a download slower than its limit, a load that
//! hangs. Each names the operation and the limit; none is "not responding" unless the
//! server never answered the connect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::StartFresh;
use std::io::ErrorKind;
use std::time::Duration;

use futures_util::StreamExt;
use lmstudio_testkit::fault::{Fault, FaultServer};
use lmstudio_testkit::{CatalogModel, Emulator};
use vtcode_lmstudio::{LMStudioClient, LmStudioError, NOT_RESPONDING_MESSAGE};

use super::{MODEL, chat_request, emulator_client, emulator_config, plain_client, short_config};
use crate::support::typed;

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
    let err = plain_client(&config).fetch_models().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(
        err.to_string(),
        format!("GET {}/api/v1/models timed out after 200 ms", server.url())
    );
    assert!(!typed(&err).is_not_responding());
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
    let client = plain_client(&short_config(&server.url()));
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
async fn a_download_slower_than_its_limit_is_timed_out() {
    let emulator = Emulator::builder()
        .model(CatalogModel::gpt_oss_20b().size_bytes(1_000_000_000))
        .download_speed(1_000)
        .start_fresh()
        .await
        .unwrap();
    let mut config = emulator_config(&emulator);
    config.lmstudio.download_timeout_ms = Some(300);
    let err = emulator_client(&config)
        .download_model(MODEL)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(
        err.to_string(),
        format!("downloading {MODEL} timed out after 300 ms")
    );
}

#[tokio::test]
async fn a_load_that_hangs_is_timed_out_naming_the_request() {
    let emulator = Emulator::builder()
        .model(CatalogModel::gpt_oss_20b().downloaded(true))
        .load_delay(Duration::from_secs(60))
        .start_fresh()
        .await
        .unwrap();
    let mut config = emulator_config(&emulator);
    config.lmstudio.load_timeout_ms = 300;
    let err = emulator_client(&config)
        .load_model(MODEL)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(
        err.to_string(),
        format!(
            "POST {}/api/v1/models/load timed out after 300 ms",
            emulator.url()
        )
    );
}
