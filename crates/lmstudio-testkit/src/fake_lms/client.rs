//! A minimal blocking HTTP/1.1 client over `std::net::TcpStream` (`Connection: close`, the
//! response read to EOF, bounded in size and time). Enough to talk to the emulator.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use serde_json::Value;

/// Largest response the fake `lms` reads.
const MAX_RESPONSE: u64 = 16 * 1024 * 1024;
/// Connect timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the emulator listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Server {
    pub(crate) host: String,
    pub(crate) port: u16,
}

/// A response: status and body text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: String,
}

impl Reply {
    /// The body as JSON (`Value::Null` when it is not JSON).
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The server's error message when the body is `{"error": ...}` or the status is not 2xx.
    pub(crate) fn error_message(&self) -> Option<String> {
        let json = self.json();
        match json.get("error") {
            Some(Value::String(text)) => Some(text.clone()),
            Some(other) if !other.is_null() => Some(
                other
                    .get("message")
                    .and_then(Value::as_str)
                    .map_or_else(|| other.to_string(), str::to_owned),
            ),
            _ if !(200..300).contains(&self.status) => {
                Some(format!("the server answered HTTP {}", self.status))
            }
            _ => None,
        }
    }
}

impl Server {
    /// Parses `http://host:port[/...]` (or `host:port`); the port defaults to 1234.
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        let rest = url.trim();
        let rest = rest.strip_prefix("http://").unwrap_or(rest);
        if rest.starts_with("https://") {
            return Err(format!("unsupported server URL {url:?} (https)"));
        }
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.is_empty() {
            return Err(format!("invalid server URL {url:?}"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse::<u16>()
                    .map_err(|_| format!("invalid port in server URL {url:?}"))?,
            ),
            None => (authority, 1234),
        };
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }

    /// Whether LM Studio answers `GET /lmstudio-greeting` with `{"lmstudio":true}` within
    /// `timeout` (what `lms` checks before it talks to a server, with 500 ms).
    pub(crate) fn greets(&self, timeout: Duration) -> bool {
        self.get("/lmstudio-greeting", timeout)
            .is_ok_and(|reply| reply.json().get("lmstudio") == Some(&Value::Bool(true)))
    }

    /// `GET path`.
    pub(crate) fn get(&self, path: &str, timeout: Duration) -> Result<Reply, String> {
        self.request("GET", path, None, timeout)
    }

    /// `POST path` with a JSON body.
    pub(crate) fn post(
        &self,
        path: &str,
        body: &Value,
        timeout: Duration,
    ) -> Result<Reply, String> {
        self.request("POST", path, Some(body.to_string()), timeout)
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
        timeout: Duration,
    ) -> Result<Reply, String> {
        let unreachable = |e: std::io::Error| {
            format!(
                "Failed to connect to the LM Studio server at {}:{}: {e}",
                self.host, self.port
            )
        };
        let addr = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(unreachable)?
            .next()
            .ok_or_else(|| format!("cannot resolve {}", self.host))?;
        let mut stream =
            TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT.min(timeout)).map_err(unreachable)?;
        stream
            .set_read_timeout(Some(timeout))
            .map_err(unreachable)?;
        stream
            .set_write_timeout(Some(timeout))
            .map_err(unreachable)?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}:{}\r\nConnection: close\r\nUser-Agent: fake-lms\r\nAccept: application/json\r\n",
            self.host, self.port
        );
        let body = body.unwrap_or_default();
        if method == "POST" {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        let io = |e: std::io::Error| format!("request to {path} failed: {e}");
        stream.write_all(head.as_bytes()).map_err(io)?;
        stream.write_all(body.as_bytes()).map_err(io)?;
        stream.flush().map_err(io)?;
        let mut raw = Vec::new();
        stream
            .take(MAX_RESPONSE)
            .read_to_end(&mut raw)
            .map_err(io)?;
        parse_response(&raw).ok_or_else(|| format!("malformed HTTP response from {path}"))
    }
}

/// Parses a full HTTP/1.1 response (Content-Length, chunked, or read-to-EOF body).
pub(crate) fn parse_response(raw: &[u8]) -> Option<Reply> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut payload = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let mut chunked = false;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked") {
            chunked = true;
        } else if name.eq_ignore_ascii_case("content-length") {
            let length: usize = value.parse().ok()?;
            payload = &payload[..length.min(payload.len())];
        }
    }
    let body = if chunked {
        decode_chunked(payload)?
    } else {
        payload.to_vec()
    };
    Some(Reply {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn decode_chunked(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size_text = size_text.split(';').next()?.trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_into_host_and_port() {
        let server = Server::parse("http://127.0.0.1:4321/v1/").unwrap();
        assert_eq!(
            server,
            Server {
                host: "127.0.0.1".into(),
                port: 4321
            }
        );
        assert_eq!(Server::parse("localhost").unwrap().port, 1234);
        assert!(Server::parse("http://h:notaport").is_err());
        assert!(Server::parse("https://h:1").is_err());
    }

    #[test]
    fn responses_parse_with_length_and_chunked_bodies() {
        let raw = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}extra";
        assert_eq!(parse_response(raw).unwrap().body, "{}");
        let raw = b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let reply = parse_response(raw).unwrap();
        assert_eq!((reply.status, reply.body.as_str()), (404, "abcde"));
        assert!(parse_response(b"garbage").is_none());
    }

    #[test]
    fn error_messages_come_from_either_error_form() {
        let text = Reply {
            status: 200,
            body: r#"{"error":"boom"}"#.into(),
        };
        assert_eq!(text.error_message().unwrap(), "boom");
        let object = Reply {
            status: 404,
            body: r#"{"error":{"message":"gone"}}"#.into(),
        };
        assert_eq!(object.error_message().unwrap(), "gone");
        let fine = Reply {
            status: 200,
            body: "[]".into(),
        };
        assert!(fine.error_message().is_none());
    }
}
