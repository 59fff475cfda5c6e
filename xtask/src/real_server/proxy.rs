//! A recording TCP proxy on 127.0.0.1 in front of the real server, so a check can prove what
//! the client sent (e.g. that `ensure_oss_ready` never asked for a download or a load).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// Forwards every connection to the upstream port and records the bytes clients sent.
#[derive(Debug)]
pub(crate) struct RecordingProxy {
    port: u16,
    sent: Arc<Mutex<Vec<u8>>>,
    task: JoinHandle<()>,
}

impl RecordingProxy {
    /// Listens on a free loopback port and forwards to `127.0.0.1:upstream`.
    pub(crate) async fn start(upstream: u16) -> Result<Self, String> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| format!("proxy: cannot bind 127.0.0.1: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("proxy: no local address: {e}"))?
            .port();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let record = sent.clone();
        let task = tokio::spawn(async move {
            // Dropped (and so aborted) with the accept loop.
            let mut connections = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                connections.spawn(forward(client, upstream, record.clone()));
            }
        });
        Ok(Self { port, sent, task })
    }

    /// `http://127.0.0.1:<proxy port>`.
    pub(crate) fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The HTTP request lines clients sent so far, e.g. `GET /v1/models`.
    pub(crate) fn requests(&self) -> Vec<String> {
        let sent = crate::lock(&self.sent).clone();
        String::from_utf8_lossy(&sent)
            .split("\r\n")
            .filter_map(request_line)
            .collect()
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `METHOD /path` from a line like `GET /v1/models HTTP/1.1` (a body glued in front of the
/// next request line is skipped over).
fn request_line(line: &str) -> Option<String> {
    let line = line
        .strip_suffix(" HTTP/1.1")
        .or(line.strip_suffix(" HTTP/1.0"))?;
    const METHODS: [&str; 7] = [
        "GET ", "POST ", "PUT ", "DELETE ", "PATCH ", "HEAD ", "OPTIONS ",
    ];
    METHODS
        .iter()
        .filter_map(|m| line.rfind(m).map(|at| &line[at..]))
        .min_by_key(|s| s.len())
        .map(str::to_owned)
}

/// Copies both ways until either side closes, recording client bytes.
async fn forward(client: TcpStream, upstream: u16, record: Arc<Mutex<Vec<u8>>>) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upload = async {
        let mut buf = vec![0_u8; 16 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            crate::lock(&record).extend_from_slice(&buf[..n]);
            if server_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = server_write.shutdown().await;
    };
    let download = async {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    };
    tokio::join!(upload, download);
}

#[cfg(test)]
mod tests {
    use super::request_line;

    #[test]
    fn request_lines_are_recognised() {
        assert_eq!(
            request_line("GET /v1/models HTTP/1.1").as_deref(),
            Some("GET /v1/models")
        );
        assert_eq!(
            request_line("{\"a\":1}POST /x HTTP/1.1").as_deref(),
            Some("POST /x")
        );
        assert_eq!(request_line("host: 127.0.0.1"), None);
    }
}
