//! Starting and stopping the llama.cpp server (the project's launcher in the venv): a free
//! loopback port (a taken one is refused), a bounded readiness wait on `/health`, and a guard
//! that always stops the process by PID and reaps it — on success, failure, or interruption.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use lmstudio_transport::{Client, Endpoint, Limits};

use super::setup::{Paths, tail};

/// The model id the server reports on `/v1/models`.
pub(crate) const ALIAS: &str = "gemma-3-270m";
/// Concurrent request slots.
pub(crate) const SLOTS: u32 = 2;
/// CPU threads for generation and prompt processing.
pub(crate) const THREADS: u32 = 2;
/// Total context, split over the slots.
const CONTEXT: u32 = 4096;
/// The variable that carries the API key to the launcher (never its command line).
const KEY_ENV: &str = "XTASK_REAL_SERVER_API_KEY";

const READY_LIMIT: Duration = Duration::from_secs(90);
const STOP_LIMIT: Duration = Duration::from_secs(10);

/// A running server; dropping it stops and reaps the process.
#[derive(Debug)]
pub(crate) struct RunningServer {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    label: &'static str,
    pid: u32,
    port: u16,
    log: PathBuf,
    /// From spawning the launcher to the first `200 {"status":"ok"}` on `/health`.
    pub(crate) ready_after: Duration,
}

impl RunningServer {
    /// Starts the launcher on `127.0.0.1:port` (a free port when `None`; a requested port
    /// that is taken is refused) and waits until `/health` says ok.
    pub(crate) async fn start(
        paths: &Paths,
        label: &'static str,
        port: Option<u16>,
        api_key: Option<&str>,
    ) -> Result<Self, String> {
        let port = pick_port(port)?;
        let log = paths.log(&format!("server-{label}.log"));
        let log_file =
            File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let log_err = log_file
            .try_clone()
            .map_err(|e| format!("cannot share {}: {e}", log.display()))?;
        let mut command = Command::new(&paths.python);
        command
            .arg(&paths.launcher)
            .arg("--model")
            .arg(&paths.model)
            .args(["--port", &port.to_string(), "--alias", ALIAS])
            .args([
                "--parallel",
                &SLOTS.to_string(),
                "--threads",
                &THREADS.to_string(),
            ])
            .args(["--ctx", &CONTEXT.to_string(), "--watch-stdin"])
            .env_remove(KEY_ENV)
            .stdin(Stdio::piped())
            .stdout(log_file)
            .stderr(log_err);
        if let Some(key) = api_key {
            command.args(["--api-key-env", KEY_ENV]).env(KEY_ENV, key);
        }
        let started = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", paths.launcher.display()))?;
        let mut server = Self {
            stdin: child.stdin.take(),
            pid: child.id(),
            child: Some(child),
            label,
            port,
            log,
            ready_after: Duration::ZERO,
        };
        println!(
            "real-server: started the {label} server (pid {}) on 127.0.0.1:{port}; log {}",
            server.pid,
            server.log.display()
        );
        server.wait_ready().await?;
        server.ready_after = started.elapsed();
        println!(
            "real-server: {label} server ready after {:.2} s",
            server.ready_after.as_secs_f64()
        );
        Ok(server)
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Polls `/health` until it answers 200 (503 while the model loads), the launcher exits,
    /// or the limit passes.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let endpoint = Endpoint::parse(&self.base_url())
            .map_err(|e| format!("bad server address {}: {e}", self.base_url()))?;
        let limits = Limits::default()
            .with_connect(Duration::from_secs(1))
            .with_response_headers(Duration::from_secs(2))
            .with_idle(Duration::from_secs(2))
            .with_deadline(Duration::from_secs(3));
        let probe = Client::builder(endpoint)
            .limits(limits)
            .build()
            .map_err(|e| format!("cannot build the health probe: {e}"))?;
        let deadline = Instant::now() + READY_LIMIT;
        loop {
            if let Some(status) = self.exited()? {
                return Err(self.failure(&format!("the launcher exited ({})", describe(status))));
            }
            let last = match probe.get("/health").send_raw().await {
                Ok(response) if response.status == 200 => return Ok(()),
                Ok(response) => format!(
                    "HTTP {}: {}",
                    response.status,
                    String::from_utf8_lossy(&response.body).trim()
                ),
                Err(err) => err.to_string(),
            };
            if Instant::now() >= deadline {
                return Err(self.failure(&format!(
                    "not ready within {READY_LIMIT:?} (last /health: {last})"
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The exit status, if the process has exited.
    fn exited(&mut self) -> Result<Option<ExitStatus>, String> {
        match self.child.as_mut() {
            Some(child) => child
                .try_wait()
                .map_err(|e| format!("cannot check the server process: {e}")),
            None => Ok(None),
        }
    }

    /// An error message with the last lines of the server log.
    fn failure(&self, what: &str) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        format!(
            "the {} server on 127.0.0.1:{} failed to start: {what}\nlast lines of {}:\n{}",
            self.label,
            self.port,
            self.log.display(),
            tail(&log, 12)
        )
    }

    /// Stops the server: closes its stdin (the launcher's graceful stop), waits up to 10 s,
    /// then kills it; always reaps it. Returns how it ended.
    pub(crate) async fn stop(mut self) -> Result<String, String> {
        self.stdin = None;
        let deadline = Instant::now() + STOP_LIMIT;
        loop {
            if let Some(status) = self.exited()? {
                self.child = None;
                println!(
                    "real-server: {} server (pid {}) stopped: {}",
                    self.label,
                    self.pid,
                    describe(status)
                );
                return Ok(describe(status));
            }
            if Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let status = self.kill_and_reap()?;
        Err(format!(
            "the {} server (pid {}) ignored the stop request for {STOP_LIMIT:?} and was killed ({})",
            self.label, self.pid, status
        ))
    }

    /// SIGKILL and wait: the process is gone when this returns.
    fn kill_and_reap(&mut self) -> Result<String, String> {
        let Some(mut child) = self.child.take() else {
            return Ok("already reaped".to_owned());
        };
        // An error here means it already exited; wait() still reaps it.
        let _ = child.kill();
        child
            .wait()
            .map(describe)
            .map_err(|e| format!("cannot reap server pid {}: {e}", self.pid))
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if self.child.is_none() {
            return;
        }
        // Graceful first (EOF on stdin), briefly; then SIGKILL. Either way, reaped here.
        self.stdin = None;
        for _ in 0..40 {
            if matches!(self.exited(), Ok(Some(_)) | Err(_)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        match self.kill_and_reap() {
            Ok(status) => eprintln!(
                "real-server: cleanup: {} server (pid {}) stopped ({status})",
                self.label, self.pid
            ),
            Err(err) => eprintln!("real-server: cleanup: {err}"),
        }
    }
}

/// A port on 127.0.0.1 that nothing listens on: the requested one (refused if taken), else
/// one the OS picks.
pub(crate) fn pick_port(requested: Option<u16>) -> Result<u16, String> {
    let Some(port) = requested else {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| format!("cannot find a free port on 127.0.0.1: {e}"))?;
        return listener
            .local_addr()
            .map(|a| a.port())
            .map_err(|e| format!("cannot read the free port: {e}"));
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let answers = TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok();
    if answers || TcpListener::bind(addr).is_err() {
        return Err(format!(
            "127.0.0.1:{port} is already in use: refusing to start the real server there (whatever \
             listens would answer the readiness probe). Stop it, or omit --port to use a free port"
        ));
    }
    Ok(port)
}

/// "exit code 0", "signal 9 (SIGKILL)", ...
fn describe(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                2 => " (SIGINT)",
                4 => " (SIGILL: the CPU lacks an instruction the wheel needs)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV)",
                15 => " (SIGTERM)",
                _ => "",
            };
            return format!("signal {signal}{name}");
        }
    }
    match status.code() {
        Some(2) => "exit code 2 (bad launcher arguments)".to_owned(),
        Some(3) => "exit code 3 (the port was taken)".to_owned(),
        Some(4) => "exit code 4 (xllamacpp failed to start)".to_owned(),
        Some(code) => format!("exit code {code}"),
        None => status.to_string(),
    }
}
