//! A raw TCP server that misbehaves on purpose, for transport fault tests.
//!
//! [`FaultServer`] listens on `127.0.0.1` (a free port) and answers every connection with
//! one [`Fault`]: no answer, headers then silence, a reset mid-body, garbage, an endless body,
//! and so on: the things a well-behaved mock server cannot do. It knows HTTP/1.1 only as far
//! as reading a request head and a `Content-Length` body; it has no server logic. It counts
//! accepted connections, requests read and connections finished, never panics, and stops
//! (closing every connection) when dropped.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use lmstudio_testkit::fault::{Fault, FaultServer};
//!
//! let server = FaultServer::start(Fault::NeverRespond).await?;
//! let url = format!("{}/v1/models", server.url());
//! // ... call `url` with a short response-headers limit and expect a timeout ...
//! # let _ = url;
//! # Ok(())
//! # }
//! ```

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// Longest request head accepted (the connection is dropped beyond it).
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Longest request body accepted (the connection is dropped beyond it).
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Size of each chunk of the endless bodies.
const ENDLESS_CHUNK: usize = 16 * 1024;

/// How the server answers each connection.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Reads the request and never answers (the connection stays open until the client
    /// leaves).
    NeverRespond,
    /// Sends `200` headers for a chunked `text/event-stream` body, then nothing.
    HeadersThenStall,
    /// Sends headers declaring a 1000-byte body, a few bytes of it, then resets the
    /// connection (TCP RST).
    ResetMidBody,
    /// Answers with bytes that are not HTTP, then closes.
    Garbage,
    /// Sends a chunked `application/json` body that never ends.
    EndlessBody,
    /// Sends a chunked `text/event-stream` body whose first line (`data: aaaa…`) never ends.
    EndlessSseLine,
    /// Waits this long after each request, then answers `200` with the JSON body `{}`.
    SlowHeaders(Duration),
    /// Reads the request and closes the connection without answering.
    CloseAfterRequest,
    /// Reads the request, writes these bytes verbatim, then closes.
    Raw(Vec<u8>),
    /// Reads the request, writes these bytes verbatim, then stays silent (connection open).
    RawThenStall(Vec<u8>),
    /// Keep-alive: answers the first `responses` requests of each connection with
    /// `response` (a complete HTTP response, written verbatim), then reads the next request
    /// and closes the connection without answering: what a stale pooled connection does.
    KeepAliveThenClose {
        /// The complete response written for each answered request.
        response: Vec<u8>,
        /// How many requests each connection answers before it closes.
        responses: usize,
    },
}

/// A running fault server. Dropping it stops the server and closes its connections.
#[derive(Debug)]
pub struct FaultServer {
    addr: SocketAddr,
    stats: Arc<Stats>,
    task: JoinHandle<()>,
}

#[derive(Debug, Default)]
struct Stats {
    accepted: AtomicUsize,
    requests: AtomicUsize,
    closed: AtomicUsize,
}

impl FaultServer {
    /// Binds `127.0.0.1:0` and starts answering every connection with `fault`.
    pub async fn start(fault: Fault) -> io::Result<FaultServer> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(Stats::default());
        let task = tokio::spawn(accept_loop(listener, Arc::new(fault), stats.clone()));
        Ok(FaultServer { addr, stats, task })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server root, e.g. `http://127.0.0.1:40123` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections accepted so far.
    pub fn accepted_connections(&self) -> usize {
        self.stats.accepted.load(Ordering::SeqCst)
    }

    /// Complete requests (head and body) read so far, over all connections.
    pub fn requests(&self) -> usize {
        self.stats.requests.load(Ordering::SeqCst)
    }

    /// Connections finished so far: closed by the server, or found closed or reset by the
    /// client.
    pub fn closed_connections(&self) -> usize {
        self.stats.closed.load(Ordering::SeqCst)
    }

    /// Waits (polling, at most `limit`) until at least `count` connections have finished.
    /// Returns whether they did.
    pub async fn wait_for_closed(&self, count: usize, limit: Duration) -> bool {
        let poll = async {
            while self.closed_connections() < count {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(limit, poll).await.is_ok()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        // Aborting the accept task drops its JoinSet, which aborts every connection task.
        self.task.abort();
    }
}

/// A complete HTTP/1.1 response with a `Content-Length` body, for [`Fault::Raw`] and
/// [`Fault::KeepAliveThenClose`].
pub fn http_response(status: u16, content_type: &str, body: &[u8]) -> Vec<u8> {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Status");
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

async fn accept_loop(listener: TcpListener, fault: Arc<Fault>, stats: Arc<Stats>) {
    let mut connections = JoinSet::new();
    loop {
        let accepted = listener.accept().await;
        while connections.try_join_next().is_some() {}
        match accepted {
            Ok((stream, _)) => {
                stats.accepted.fetch_add(1, Ordering::SeqCst);
                let conn = Conn {
                    stream,
                    buf: Vec::new(),
                    stats: stats.clone(),
                };
                connections.spawn(serve(conn, fault.clone()));
            }
            // Out of descriptors or similar: back off instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

async fn serve(mut conn: Conn, fault: Arc<Fault>) {
    // Every error just ends the connection.
    let _ = conn.run(&fault).await;
    conn.stats.closed.fetch_add(1, Ordering::SeqCst);
}

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    stats: Arc<Stats>,
}

impl Conn {
    async fn run(&mut self, fault: &Fault) -> io::Result<()> {
        match fault {
            Fault::NeverRespond => {
                if self.read_request().await? {
                    self.stall().await;
                }
            }
            Fault::HeadersThenStall => {
                if self.read_request().await? {
                    self.write(SSE_HEAD).await?;
                    self.stall().await;
                }
            }
            Fault::ResetMidBody => {
                if self.read_request().await? {
                    let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                                 Content-Length: 1000\r\n\r\n{\"partial\":";
                    self.write(head).await?;
                    // Let the client read the headers before the reset arrives.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    self.stream.set_zero_linger()?;
                    // Dropping the stream now sends RST instead of FIN.
                }
            }
            Fault::Garbage => {
                if self.read_request().await? {
                    self.write(b"\x00\x01\x02 this is not HTTP at all \xff\xfe\r\n\r\n")
                        .await?;
                    self.stream.shutdown().await?;
                }
            }
            Fault::EndlessBody => {
                if self.read_request().await? {
                    let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                                 Transfer-Encoding: chunked\r\n\r\n";
                    self.write(head).await?;
                    self.endless_chunks(b"[", b'0').await?;
                }
            }
            Fault::EndlessSseLine => {
                if self.read_request().await? {
                    self.write(SSE_HEAD).await?;
                    self.endless_chunks(b"data: ", b'a').await?;
                }
            }
            Fault::SlowHeaders(delay) => {
                while self.read_request().await? {
                    tokio::time::sleep(*delay).await;
                    self.write(&http_response(200, "application/json", b"{}"))
                        .await?;
                }
            }
            Fault::CloseAfterRequest => {
                self.read_request().await?;
            }
            Fault::Raw(bytes) => {
                if self.read_request().await? {
                    self.write(bytes).await?;
                    self.stream.shutdown().await?;
                }
            }
            Fault::RawThenStall(bytes) => {
                if self.read_request().await? {
                    self.write(bytes).await?;
                    self.stall().await;
                }
            }
            Fault::KeepAliveThenClose {
                response,
                responses,
            } => {
                for _ in 0..*responses {
                    if !self.read_request().await? {
                        return Ok(());
                    }
                    self.write(response).await?;
                }
                self.read_request().await?;
            }
        }
        Ok(())
    }

    /// Reads one request: the head, then a `Content-Length` body. `Ok(false)` when the client
    /// closed the connection before a complete request.
    async fn read_request(&mut self) -> io::Result<bool> {
        loop {
            if let Some(head_end) = find(&self.buf, b"\r\n\r\n") {
                let body_len = content_length(&self.buf[..head_end]).ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length")
                })?;
                if body_len > MAX_BODY_BYTES {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"));
                }
                let total = head_end + 4 + body_len;
                while self.buf.len() < total {
                    if !self.fill().await? {
                        return Ok(false);
                    }
                }
                self.buf.drain(..total);
                self.stats.requests.fetch_add(1, Ordering::SeqCst);
                return Ok(true);
            }
            if self.buf.len() > MAX_HEAD_BYTES {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "head too large"));
            }
            if !self.fill().await? {
                return Ok(false);
            }
        }
    }

    /// Reads more bytes into the buffer; `Ok(false)` at end of stream.
    async fn fill(&mut self) -> io::Result<bool> {
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }

    /// Stays silent, discarding input, until the client closes or resets the connection.
    async fn stall(&mut self) {
        let mut sink = [0u8; 4096];
        while let Ok(n) = self.stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    }

    /// Writes one chunk holding `first`, then chunks of `fill` bytes until the client leaves.
    async fn endless_chunks(&mut self, first: &[u8], fill: u8) -> io::Result<()> {
        let mut opening = format!("{:x}\r\n", first.len()).into_bytes();
        opening.extend_from_slice(first);
        opening.extend_from_slice(b"\r\n");
        self.write(&opening).await?;
        let mut chunk = format!("{ENDLESS_CHUNK:x}\r\n").into_bytes();
        chunk.resize(chunk.len() + ENDLESS_CHUNK, fill);
        chunk.extend_from_slice(b"\r\n");
        loop {
            self.stream.write_all(&chunk).await?;
        }
    }
}

const SSE_HEAD: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The request's `Content-Length` (0 when absent); `None` when it is not a number.
fn content_length(head: &[u8]) -> Option<usize> {
    let head = String::from_utf8_lossy(head);
    for line in head.split("\r\n").skip(1) {
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            return value.trim().parse().ok();
        }
    }
    Some(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_content_length() {
        assert_eq!(content_length(b"GET / HTTP/1.1\r\nHost: x"), Some(0));
        assert_eq!(
            content_length(b"POST / HTTP/1.1\r\ncontent-length: 12\r\nHost: x"),
            Some(12)
        );
        assert_eq!(
            content_length(b"POST / HTTP/1.1\r\nContent-Length: x"),
            None
        );
    }

    #[test]
    fn builds_responses() {
        let r = http_response(404, "text/plain", b"nope");
        assert_eq!(
            r,
            b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nnope"
        );
    }

    #[tokio::test]
    async fn counts_and_closes() {
        let server = FaultServer::start(Fault::CloseAfterRequest)
            .await
            .expect("start");
        let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await;
        assert!(rest.is_empty());
        assert!(server.wait_for_closed(1, Duration::from_secs(5)).await);
        assert_eq!(server.accepted_connections(), 1);
        assert_eq!(server.requests(), 1);
    }
}
