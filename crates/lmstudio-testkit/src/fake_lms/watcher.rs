//! [`ServerStartWatcher`]: the test process's side of the fake's `lms server start`. It
//! watches a directory for the fake's start requests and answers each one in the test
//! process: an emulator on the requested port, a listener that never answers, or nothing.
//! Everything it starts lives in this process and stops when it is dropped, so a failed test
//! leaves no server (and no process) behind.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

use super::start::{REQUEST_PREFIX, REQUEST_SUFFIX};
use crate::emulator::{Emulator, EmulatorBuilder};

/// How often the directory is looked at.
const POLL: Duration = Duration::from_millis(10);
/// Largest request file read.
const MAX_REQUEST: u64 = 4096;

/// One `lms server start` the fake was asked to run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StartRequest {
    /// `--port` (the fake's wrapper port when none was given).
    pub port: u16,
    /// `--bind`, when given.
    pub bind: Option<String>,
    /// Whether `--cors` was given.
    pub cors: bool,
}

/// What the watcher does about a [`StartRequest`].
#[derive(Debug)]
#[non_exhaustive]
pub enum StartAnswer {
    /// Start this emulator on the requested port (the builder's own port is replaced).
    Emulator(Box<EmulatorBuilder>),
    /// Bind the port and never answer: connections are accepted by the kernel and then hang,
    /// as a server that starts but never comes up.
    Silent,
    /// Start nothing (the fake's check then fails, as when LM Studio cannot start).
    Nothing,
}

impl StartAnswer {
    /// [`StartAnswer::Emulator`] for `builder`.
    pub fn emulator(builder: EmulatorBuilder) -> Self {
        Self::Emulator(Box::new(builder))
    }
}

#[derive(Default)]
struct Started {
    requests: Vec<StartRequest>,
    emulators: Vec<Arc<Emulator>>,
    silent: Vec<TcpListener>,
    errors: Vec<String>,
}

/// Answers the start requests that fakes configured with
/// [`FakeLmsOptions::server_start_via`](super::FakeLmsOptions::server_start_via)`(dir)` write
/// into `dir`. Dropping it stops the watching thread and every server it started.
///
/// ```no_run
/// use lmstudio_testkit::fake_lms::{ServerStartWatcher, StartAnswer};
/// use lmstudio_testkit::Emulator;
///
/// let dir = std::env::temp_dir().join("starts");
/// std::fs::create_dir_all(&dir)?;
/// let watcher = ServerStartWatcher::watch(&dir, |_request| {
///     StartAnswer::emulator(Emulator::builder())
/// });
/// // ... a fake `lms server start --port N` now brings an emulator up on N ...
/// assert!(watcher.requests().len() <= 1);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct ServerStartWatcher {
    dir: PathBuf,
    stop: Arc<AtomicBool>,
    started: Arc<Mutex<Started>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ServerStartWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerStartWatcher")
            .field("dir", &self.dir)
            .field("requests", &lock(&self.started).requests)
            .finish_non_exhaustive()
    }
}

fn lock(started: &Mutex<Started>) -> MutexGuard<'_, Started> {
    started
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ServerStartWatcher {
    /// Watches `dir` (which must exist) and answers each request with `answer`.
    pub fn watch(
        dir: &Path,
        answer: impl FnMut(&StartRequest) -> StartAnswer + Send + 'static,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let started = Arc::new(Mutex::new(Started::default()));
        let thread = {
            let (dir, stop, started) = (dir.to_owned(), stop.clone(), started.clone());
            std::thread::Builder::new()
                .name("fake-lms-starts".to_owned())
                .spawn(move || run(&dir, &stop, &started, answer))
                .ok()
        };
        if thread.is_none() {
            lock(&started)
                .errors
                .push("could not spawn the watching thread".to_owned());
        }
        Self {
            dir: dir.to_owned(),
            stop,
            started,
            thread,
        }
    }

    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<StartRequest> {
        lock(&self.started).requests.clone()
    }

    /// The emulators started so far, in order.
    pub fn emulators(&self) -> Vec<Arc<Emulator>> {
        lock(&self.started).emulators.clone()
    }

    /// Problems met (an unreadable request, a port that could not be bound).
    pub fn errors(&self) -> Vec<String> {
        lock(&self.started).errors.clone()
    }
}

impl Drop for ServerStartWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let mut started = lock(&self.started);
        started.emulators.clear();
        started.silent.clear();
    }
}

fn run(
    dir: &Path,
    stop: &AtomicBool,
    started: &Mutex<Started>,
    mut answer: impl FnMut(&StartRequest) -> StartAnswer,
) {
    while !stop.load(Ordering::SeqCst) {
        for path in pending(dir) {
            let request = read_request(&path);
            let _ = std::fs::remove_file(&path);
            match request {
                Ok(request) => serve(started, &request, answer(&request)),
                Err(message) => lock(started).errors.push(message),
            }
        }
        std::thread::sleep(POLL);
    }
}

/// The request files in `dir`, oldest name first.
fn pending(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(REQUEST_PREFIX) && n.ends_with(REQUEST_SUFFIX))
        })
        .collect();
    paths.sort();
    paths
}

fn read_request(path: &Path) -> Result<StartRequest, String> {
    let bad = |why: String| format!("{}: {why}", path.display());
    let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
    if !meta.is_file() || meta.len() > MAX_REQUEST {
        return Err(bad("not a small regular file".to_owned()));
    }
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let port = value
        .get("port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or_else(|| bad(format!("no usable port in {text}")))?;
    Ok(StartRequest {
        port,
        bind: value.get("bind").and_then(Value::as_str).map(str::to_owned),
        cors: value.get("cors").and_then(Value::as_bool).unwrap_or(false),
    })
}

fn serve(started: &Mutex<Started>, request: &StartRequest, answer: StartAnswer) {
    let mut state = lock(started);
    state.requests.push(request.clone());
    match answer {
        StartAnswer::Emulator(builder) => match builder.port(request.port).start_threaded() {
            Ok(emulator) => state.emulators.push(Arc::new(emulator)),
            Err(e) => state.errors.push(format!(
                "port {}: the emulator did not start: {e}",
                request.port
            )),
        },
        StartAnswer::Silent => match TcpListener::bind(("127.0.0.1", request.port)) {
            Ok(listener) => state.silent.push(listener),
            Err(e) => state
                .errors
                .push(format!("port {}: could not bind: {e}", request.port)),
        },
        StartAnswer::Nothing => {}
    }
}
