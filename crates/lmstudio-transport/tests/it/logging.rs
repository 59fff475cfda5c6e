//! Logging: one debug span per request, and never a token or a body, at any level.
//!
//! Alone in its own test binary: `tracing` caches per-callsite interest globally, so a scoped
//! subscriber can miss events that other tests running in parallel threads hit first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use lmstudio_transport::{Client, Endpoint, Limits};
use mockito::Server;

const TOKEN: &str = "sk-lm-SECRETSECRET:TOKENTOKEN";

/// Collects everything a `tracing` subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_at_every_level_never_contain_the_token_or_bodies() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut server = Server::new_async().await;
    server
        .mock("POST", "/v1/chat/completions")
        .with_status(401)
        .with_body(r#"{"error":"BODYMARKER rejected"}"#)
        .create_async()
        .await;
    let endpoint = Endpoint::parse(&server.url()).unwrap();
    let client = Client::builder(endpoint)
        .bearer_token(Some(TOKEN.to_owned()))
        .limits(Limits::default())
        .build()
        .unwrap();
    let _ = client
        .post_json::<_, serde_json::Value>(
            "/v1/chat/completions",
            &serde_json::json!({"messages": "REQUESTMARKER"}),
        )
        .await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("http_request"), "no request span in: {logs}");
    assert!(logs.contains("/v1/chat/completions"), "{logs}");
    assert!(logs.contains("status=401"), "{logs}");
    assert!(!logs.contains("SECRET"), "token leaked: {logs}");
    assert!(
        !logs.contains("REQUESTMARKER"),
        "request body logged: {logs}"
    );
}
