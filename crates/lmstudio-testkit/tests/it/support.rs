//! Test helpers: a raw HTTP/1.1 client over tokio's TcpStream, SSE parsing, JSON key-set
//! comparison against fixtures, and fixture loading.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A full response as read off the wire.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
    /// Number of chunks in a chunked body (0 when not chunked).
    pub(crate) chunks: usize,
    /// Whether a chunked body ended with its terminating zero-size chunk.
    pub(crate) terminated: bool,
}

impl Response {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// SSE events as (event name, data), in order.
    pub(crate) fn sse_events(&self) -> Vec<(Option<String>, String)> {
        let mut events = Vec::new();
        for block in self.body.split("\n\n") {
            let mut name = None;
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(rest) = line.strip_prefix("event: ") {
                    name = Some(rest.to_owned());
                } else if let Some(rest) = line.strip_prefix("data: ") {
                    data.push(rest);
                }
            }
            if !data.is_empty() {
                events.push((name, data.join("\n")));
            }
        }
        events
    }

    /// The `data:` payloads of an SSE body.
    pub(crate) fn sse_data(&self) -> Vec<String> {
        self.sse_events().into_iter().map(|(_, d)| d).collect()
    }

    /// The JSON `data:` payloads (everything but `[DONE]`).
    pub(crate) fn sse_json(&self) -> Vec<Value> {
        self.sse_data()
            .iter()
            .filter(|d| d.as_str() != "[DONE]")
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    }
}

/// Sends one request with `Connection: close` and reads the response to EOF (30 s bound).
pub(crate) async fn request(
    base: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Response {
    let authority = base.trim_start_matches("http://").trim_end_matches('/');
    let fut = async {
        let mut stream = TcpStream::connect(authority).await.unwrap();
        let mut head =
            format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let body = body.unwrap_or("");
        if method != "GET" || !body.is_empty() {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(body.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        // An aborted stream may end with a reset: keep what arrived.
        let _ = stream.read_to_end(&mut raw).await;
        parse(&raw)
    };
    tokio::time::timeout(Duration::from_secs(30), fut)
        .await
        .expect("request timed out")
}

pub(crate) async fn get(base: &str, path: &str) -> Response {
    request(base, "GET", path, None, &[]).await
}

pub(crate) async fn get_with_token(base: &str, path: &str, token: &str) -> Response {
    let value = format!("Bearer {token}");
    request(base, "GET", path, None, &[("Authorization", &value)]).await
}

pub(crate) async fn post(base: &str, path: &str, body: &Value) -> Response {
    request(base, "POST", path, Some(&body.to_string()), &[]).await
}

pub(crate) async fn post_raw(base: &str, path: &str, body: &str) -> Response {
    request(base, "POST", path, Some(body), &[]).await
}

fn parse(raw: &[u8]) -> Response {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let payload = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let (body, chunks, terminated) = if chunked {
        dechunk(payload)
    } else {
        (payload.to_vec(), 0, true)
    };
    Response {
        status,
        headers,
        body: String::from_utf8(body).unwrap(),
        chunks,
        terminated,
    }
}

fn dechunk(mut data: &[u8]) -> (Vec<u8>, usize, bool) {
    let mut out = Vec::new();
    let mut chunks = 0;
    loop {
        let Some(end) = data.windows(2).position(|w| w == b"\r\n") else {
            return (out, chunks, false);
        };
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..end]).unwrap().trim(), 16).unwrap();
        data = &data[end + 2..];
        if size == 0 {
            return (out, chunks, true);
        }
        if data.len() < size {
            out.extend_from_slice(data);
            return (out, chunks, false);
        }
        out.extend_from_slice(&data[..size]);
        chunks += 1;
        data = data.get(size + 2..).unwrap_or_default();
    }
}

/// A fixture from `tests/data/`.
pub(crate) fn fixture(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub(crate) fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

/// The `data:` JSON payloads of an SSE fixture.
pub(crate) fn fixture_sse(name: &str) -> Vec<Value> {
    fixture(name)
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

pub(crate) fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Every field name of `expected` (recursively) is present in `actual`; with `exact`, no
/// other names either. Arrays: each expected element is compared with the actual element of
/// the same `type` (or the first one).
pub(crate) fn check_fields(expected: &Value, actual: &Value, exact: bool, path: &str) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e {
                let sub = format!("{path}.{key}");
                let other = a
                    .get(key)
                    .unwrap_or_else(|| panic!("missing field {sub} in {actual}"));
                check_fields(value, other, exact, &sub);
            }
            if exact {
                let extra: Vec<&String> = a.keys().filter(|k| !e.contains_key(*k)).collect();
                assert!(
                    extra.is_empty(),
                    "unexpected fields {extra:?} at {path} in {actual}"
                );
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            for item in e {
                let kind = item.get("type");
                let peer = a
                    .iter()
                    .find(|x| kind.is_some() && x.get("type") == kind)
                    .or_else(|| a.first())
                    .unwrap_or_else(|| panic!("{path} is empty but the fixture has elements"));
                check_fields(item, peer, exact, &format!("{path}[]"));
            }
        }
        (Value::Object(_), other) => panic!("{path} should be an object, got {other}"),
        (Value::Array(_), other) => panic!("{path} should be an array, got {other}"),
        _ => {}
    }
}
