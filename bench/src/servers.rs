//! Minimal loopback HTTP/1.1 servers for the benchmarks, each on its own thread and runtime
//! so they never compete with the client being measured for the same scheduler.
//!
//! - [`RawServer::json`]: keep-alive, answers every request with one small JSON body;
//! - [`RawServer::sse`]: answers every request with a chunked `text/event-stream` body of a
//!   given size, generated on the fly from a repeated block (the server holds no more than
//!   the block in memory).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The small JSON body of the GET benchmarks.
pub(crate) const SMALL_JSON: &[u8] = br#"{"lmstudio":true}"#;
/// Longest request head + body the servers read.
const MAX_REQUEST: usize = 1024 * 1024;

/// What a server answers.
#[derive(Clone)]
enum Answer {
    /// A complete response, written verbatim after each request (keep-alive).
    Fixed(Arc<Vec<u8>>),
    /// A chunked event stream: `block` repeated until `total` bytes, then `tail`.
    Stream {
        block: Arc<Vec<u8>>,
        total: usize,
        tail: Arc<Vec<u8>>,
    },
}

/// A server on `127.0.0.1` that stops when dropped.
pub(crate) struct RawServer {
    addr: SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl RawServer {
    /// Keep-alive server answering every request with `200` and [`SMALL_JSON`].
    pub(crate) fn json() -> io::Result<Self> {
        let mut response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            SMALL_JSON.len()
        )
        .into_bytes();
        response.extend_from_slice(SMALL_JSON);
        Self::start(Answer::Fixed(Arc::new(response)))
    }

    /// Server streaming `block` (whole SSE events) until at least `total` bytes, then `tail`
    /// (the last events and `data: [DONE]`), with chunked transfer encoding.
    pub(crate) fn sse(block: Vec<u8>, total: usize, tail: Vec<u8>) -> io::Result<Self> {
        Self::start(Answer::Stream {
            block: Arc::new(block),
            total,
            tail: Arc::new(tail),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound port.
    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }

    fn start(answer: Answer) -> io::Result<Self> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("bench-server".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match TcpListener::bind(("127.0.0.1", 0)).await {
                        Ok(listener) => listener,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(listener.local_addr());
                    tokio::select! {
                        _ = accept_loop(listener, answer) => {}
                        _ = stop_rx => {}
                    }
                });
            })?;
        let addr = ready_rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| io::Error::other("the benchmark server did not start"))??;
        Ok(Self {
            addr,
            _stop: stop_tx,
        })
    }
}

async fn accept_loop(listener: TcpListener, answer: Answer) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream, answer.clone()));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

async fn serve(mut stream: TcpStream, answer: Answer) {
    let mut buf = Vec::with_capacity(4096);
    while let Ok(true) = read_request(&mut stream, &mut buf).await {
        let written = match &answer {
            Answer::Fixed(bytes) => stream.write_all(bytes).await,
            Answer::Stream { block, total, tail } => {
                write_stream(&mut stream, block, *total, tail).await
            }
        };
        if written.is_err() {
            return;
        }
    }
}

async fn write_stream(
    stream: &mut TcpStream,
    block: &[u8],
    total: usize,
    tail: &[u8],
) -> io::Result<()> {
    stream
        .write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
              cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n",
        )
        .await?;
    let framed = chunk_frame(block);
    let mut sent = 0;
    while sent < total && !block.is_empty() {
        stream.write_all(&framed).await?;
        sent += block.len();
    }
    stream.write_all(&chunk_frame(tail)).await?;
    stream.write_all(b"0\r\n\r\n").await?;
    stream.flush().await
}

/// One chunk of a chunked body: `<hex len>\r\n<bytes>\r\n`.
fn chunk_frame(bytes: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", bytes.len()).into_bytes();
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
    out
}

/// Reads one request (head + `Content-Length` body) and removes it from `buf`. `Ok(false)` at
/// a clean end of connection.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<bool> {
    loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let need = end + 4 + content_length(&buf[..end]);
            if need > MAX_REQUEST {
                return Err(io::Error::other("request too large"));
            }
            while buf.len() < need {
                if read_more(stream, buf).await? == 0 {
                    return Ok(false);
                }
            }
            buf.drain(..need);
            return Ok(true);
        }
        if buf.len() > MAX_REQUEST || read_more(stream, buf).await? == 0 {
            return Ok(false);
        }
    }
}

/// Reads into the spare capacity of `buf` (no zeroing, no copy: the server's own cost per
/// request stays small beside the clients being measured).
async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    buf.reserve(8192);
    stream.read_buf(buf).await
}

/// The first index of `needle` in `hay`.
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The `Content-Length` of a head (0 when absent or invalid).
pub(crate) fn content_length(head: &[u8]) -> usize {
    head.split(|b| *b == b'\n')
        .filter_map(|line| {
            let line = std::str::from_utf8(line).ok()?.trim();
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())
                .flatten()
        })
        .next()
        .unwrap_or(0)
}

/// A port on 127.0.0.1 nothing listens on (bound, then released).
pub(crate) fn free_port() -> io::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_give_their_content_length() {
        assert_eq!(
            content_length(b"POST / HTTP/1.1\r\nContent-Length: 12\r\n"),
            12
        );
        assert_eq!(content_length(b"GET / HTTP/1.1\r\nHost: x\r\n"), 0);
        assert_eq!(
            content_length(b"GET / HTTP/1.1\r\ncontent-length: nope\r\n"),
            0
        );
    }

    #[test]
    fn chunk_frames_carry_the_hex_length() {
        assert_eq!(
            chunk_frame(b"0123456789abcdef!"),
            b"11\r\n0123456789abcdef!\r\n"
        );
    }

    #[tokio::test]
    async fn the_json_server_keeps_the_connection_alive() {
        let server = RawServer::json().unwrap();
        let mut stream = TcpStream::connect(("127.0.0.1", server.port()))
            .await
            .unwrap();
        for _ in 0..3 {
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .unwrap();
            let mut buf = Vec::new();
            while find(&buf, SMALL_JSON).is_none() {
                assert!(read_more(&mut stream, &mut buf).await.unwrap() > 0);
            }
        }
    }
}
