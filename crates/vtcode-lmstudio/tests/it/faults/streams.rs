//! Streams that go wrong through the facade (fault catalogue, docs/faults.md): an error
//! inside a 200 stream, a stream without `[DONE]`, a body aborted mid-stream, a stream request
//! refused with 400.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::StartFresh;
use std::io::ErrorKind;

use futures_util::StreamExt;
use vtcode_lmstudio::LmStudioError;
use vtcode_lmstudio::http::StatusCode;

use super::{
    chat, chat_request, emulator_client, emulator_config, loaded, plain_client, short_config,
};
use crate::support::{self};

#[tokio::test]
async fn an_error_inside_a_200_stream_is_a_server_error() {
    let emulator = loaded()
        .inject_stream_error_after(2)
        .start_fresh()
        .await
        .unwrap();
    let client = emulator_client(&emulator_config(&emulator));
    let err = client
        .chat_stream(chat("hello there"))
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap_err();
    match &err {
        LmStudioError::Server {
            status, message, ..
        } => {
            assert_eq!(*status, 200);
            assert!(message.starts_with("The model has crashed"), "{message}");
        }
        other => panic!("expected Server, got {other:?}"),
    }
    assert_eq!(std::io::Error::from(err).kind(), ErrorKind::Other);
}

#[tokio::test]
async fn a_stream_dropped_without_done_is_unexpected_eof() {
    let emulator = loaded().drop_stream_after(2).start_fresh().await.unwrap();
    let client = emulator_client(&emulator_config(&emulator));
    let mut stream = client.chat_stream(chat("hello there")).await.unwrap();
    let mut chunks = 0;
    let err = loop {
        match stream.next().await.expect("an error before the end") {
            Ok(_) => chunks += 1,
            Err(err) => break err,
        }
    };
    assert_eq!(chunks, 2);
    assert!(
        matches!(err, LmStudioError::StreamEndedEarly { .. }),
        "{err:?}"
    );
    assert_eq!(std::io::Error::from(err).kind(), ErrorKind::UnexpectedEof);
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn a_stream_aborted_mid_body_is_a_transport_error() {
    let emulator = loaded().abort_stream_after(1).start_fresh().await.unwrap();
    let client = emulator_client(&emulator_config(&emulator));
    let err = client
        .chat_stream(chat("hello there"))
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap_err();
    assert!(matches!(err, LmStudioError::Transport { .. }), "{err:?}");
    assert_eq!(std::io::Error::from(err).kind(), ErrorKind::Other);
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
    let err = plain_client(&short_config(&server.url()))
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
