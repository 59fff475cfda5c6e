//! Helpers shared by the integration tests: test data, clients with short limits.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use lmstudio_transport::{Client, Endpoint, Limits};

/// Every SSE capture in `tests/data`.
pub(crate) const SSE_FIXTURES: &[&str] = &[
    "lmstudio_sse_chat_basic.sse",
    "lmstudio_sse_usage_chunk.sse",
    "lmstudio_native_chat_events.sse",
    "llama_server_chat_stream.sse",
    "llama_server_chat_stream_usage.sse",
    "llama_server_completions_stream.sse",
    "llama_server_router_stream.sse",
    "xllamacpp_chat_stream.sse",
    "xllamacpp_chat_stream_usage.sse",
    "llama_cpp_python_chat_stream.sse",
];

/// The bytes of `tests/data/<name>`.
pub(crate) fn data(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Limits short enough for fault tests (200 ms), with small size limits.
pub(crate) fn short_limits() -> Limits {
    let short = Duration::from_millis(200);
    Limits::default()
        .with_connect(Duration::from_secs(5))
        .with_response_headers(short)
        .with_idle(short)
        .with_deadline(short)
        .with_max_body_bytes(64 * 1024)
        .with_max_sse_event_bytes(16 * 1024)
}

/// A client for `url` with the given limits and no token.
pub(crate) fn client(url: &str, limits: Limits) -> Client {
    let endpoint = Endpoint::parse(url).expect("valid endpoint");
    Client::builder(endpoint)
        .limits(limits)
        .build()
        .expect("client")
}

/// A client for `url` with default limits and an optional token.
pub(crate) fn client_with_token(url: &str, token: Option<&str>) -> Client {
    let endpoint = Endpoint::parse(url).expect("valid endpoint");
    Client::builder(endpoint)
        .bearer_token(token.map(str::to_owned))
        .build()
        .expect("client")
}

/// The head of a chunked `text/event-stream` answer, for raw fault servers.
pub(crate) const SSE_HEAD: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

/// One HTTP chunk holding `data`.
pub(crate) fn sse_chunk(data: &str) -> String {
    format!("{:x}\r\n{data}\r\n", data.len())
}

/// A listener whose accept queue is full (Linux then drops SYNs to it), so a connect to it
/// hangs: a deterministic connect timeout without any network. Keep all three alive.
#[cfg(target_os = "linux")]
pub(crate) async fn hanging_listener() -> (
    tokio::net::TcpListener,
    std::net::SocketAddr,
    Vec<tokio::net::TcpStream>,
) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    // Fill the accept queue (never accepted) until a connect stops completing.
    let mut fillers = Vec::new();
    for _ in 0..16 {
        match tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(stream)) => fillers.push(stream),
            _ => break,
        }
    }
    (listener, addr, fillers)
}
