//! An in-process HTTP/1.1 server that behaves like LM Studio's local server.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use lmstudio_testkit::{CatalogModel, Emulator, Profile};
//! let emulator = Emulator::builder()
//!     .profile(Profile::V0_4)
//!     .jit(false)
//!     .model(CatalogModel::llm("openai/gpt-oss-20b").size_bytes(1_000_000).downloaded(true))
//!     .start()
//!     .await?;
//! println!("LM Studio emulator at {}", emulator.url());
//! assert_eq!(emulator.request_count("GET", "/v1/models"), 0);
//! # Ok(()) }
//! ```
//!
//! What it serves (see the crate's tests for the exact bodies):
//! - always: `GET /lmstudio-greeting`, `GET /v1/models`, `POST /v1/chat/completions`,
//!   `/v1/completions`, `/v1/embeddings`, `/v1/responses`, and `GET /api/v0/models`;
//! - [`Profile::V0_4`] only: `GET /api/v1/models`, `POST /api/v1/models/load`, `/unload`,
//!   `/download`, `GET /api/v1/models/download/status/{job_id}`, `POST /api/v1/chat`
//!   (whole, or streamed as named events), `POST /v1/messages` (Anthropic's Messages API,
//!   whole or streamed; no `/v1/messages/count_tokens`), and bearer-token auth (`x-api-key`
//!   too on `/v1/messages`);
//! - anything else: HTTP 200 with `{"error":"Unexpected endpoint or method. (GET /x)"}`;
//! - `/__testkit/...`: a private admin API the `fake-lms` binary uses (no auth, any profile).

mod admin;
mod builder;
mod catalog;
mod chat;
mod clock;
mod generate;
mod inference;
mod manage_routes;
mod messages;
mod model_json;
mod models_routes;
mod native_chat;
mod reply;
mod resolve;
mod responses;
mod router;
mod sse;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::{AbortHandle, JoinSet};

pub use builder::{DEFAULT_DOWNLOAD_SPEED, EmulatorBuilder, Profile, ReasoningField, StreamFault};
pub use catalog::{CatalogModel, ModelKind};
pub use state::RecordedRequest;

use state::{LoadSpec, State};

/// The state shared by the server tasks and the [`Emulator`] handle.
pub(crate) type Shared = Arc<Mutex<State>>;

/// Locks the state, recovering from a poisoned lock (a panicking test must not cascade).
/// What a load waits for before it takes effect: the [`Emulator::hold_loads`] gate, then
/// the load delay.
pub(crate) async fn load_pause(shared: &Shared, delay: Duration) {
    let mut gate = {
        let mut state = lock(shared);
        state.held_loads += 1;
        state.loads_held.subscribe()
    };
    // The sender lives in the state, which every request holds: it cannot be dropped here.
    let _ = gate.wait_for(|held| !*held).await;
    lock(shared).held_loads -= 1;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}

pub(crate) fn lock(shared: &Mutex<State>) -> MutexGuard<'_, State> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running LM Studio emulator. Dropping it stops the server and aborts its connections.
pub struct Emulator {
    addr: SocketAddr,
    shared: Shared,
    accept: AbortHandle,
    _stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .field("profile", &lock(&self.shared).profile)
            .finish_non_exhaustive()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl Emulator {
    /// A builder with the defaults described on [`EmulatorBuilder`].
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    async fn serve(state: State, port: u16) -> std::io::Result<Self> {
        let (addr, shared, accept) = bind(state, port).await?;
        Ok(Self {
            addr,
            shared,
            accept,
            _stop: None,
        })
    }

    fn serve_threaded(state: State, port: u16) -> std::io::Result<Self> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("lmstudio-emulator".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(err) => {
                        let _ = ready_tx.send(Err(err));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let bound = bind(state, port).await;
                    let ok = bound.is_ok();
                    let _ = ready_tx.send(bound);
                    if ok {
                        let _ = stop_rx.await;
                    }
                });
            })?;
        let (addr, shared, accept) = ready_rx
            .recv_timeout(Duration::from_secs(30))
            .map_err(|_| std::io::Error::other("the emulator thread did not start"))??;
        Ok(Self {
            addr,
            shared,
            accept,
            _stop: Some(stop_tx),
        })
    }

    /// The server root, `http://127.0.0.1:PORT` (no trailing slash, no `/v1`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address (`127.0.0.1:PORT`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The profile this emulator runs.
    pub fn profile(&self) -> Profile {
        lock(&self.shared).profile
    }

    /// Every request received so far, in arrival order (admin `/__testkit` calls included).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared).requests.clone()
    }

    /// How many requests had this method and exact path (query excluded).
    pub fn request_count(&self, method: &str, path: &str) -> usize {
        lock(&self.shared)
            .requests
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path == path)
            .count()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.shared).requests.clear();
    }

    /// Whether the model (key or variant) is downloaded now (downloads in flight are counted
    /// once their time has come).
    pub fn is_downloaded(&self, key: &str) -> bool {
        let mut state = lock(&self.shared);
        state.refresh(Instant::now());
        state
            .find_entry(key)
            .is_some_and(|index| state.entries[index].downloaded)
    }

    /// The instance ids loaded for this model (`key`, `key:2`, ...).
    pub fn loaded_instances(&self, key: &str) -> Vec<String> {
        let mut state = lock(&self.shared);
        state.refresh(Instant::now());
        state.find_entry(key).map_or_else(Vec::new, |index| {
            state.entries[index]
                .instances
                .iter()
                .map(|instance| instance.id.clone())
                .collect()
        })
    }

    /// Every loaded instance id, all models.
    pub fn all_loaded_instances(&self) -> Vec<String> {
        let mut state = lock(&self.shared);
        state.refresh(Instant::now());
        state
            .all_instances()
            .into_iter()
            .map(|(e, i)| state.entries[e].instances[i].id.clone())
            .collect()
    }

    /// How many download jobs were started (REST or `lms get`).
    pub fn download_job_count(&self) -> usize {
        lock(&self.shared).jobs.len()
    }

    /// Whether JIT loading is on.
    pub fn jit(&self) -> bool {
        lock(&self.shared).jit
    }

    /// Turns JIT loading on or off.
    pub fn set_jit(&self, on: bool) {
        lock(&self.shared).jit = on;
    }

    /// Marks a catalog model downloaded or not (not downloaded also unloads it). Returns false
    /// when the catalog has no such model.
    pub fn set_downloaded(&self, key: &str, downloaded: bool) -> bool {
        let mut state = lock(&self.shared);
        let Some(index) = state.find_entry(key) else {
            return false;
        };
        let entry = &mut state.entries[index];
        entry.downloaded = downloaded;
        if !downloaded {
            entry.instances.clear();
        }
        true
    }

    /// Adds a model to the catalog (replacing one with the same key).
    pub fn add_model(&self, model: CatalogModel) {
        lock(&self.shared).add_model(model);
    }

    /// Loads an instance at once (no delay), as test setup. Returns its id, or the error
    /// message when the model is unknown or not downloaded.
    pub fn load_instance(&self, key: &str) -> Result<String, String> {
        lock(&self.shared).create_instance(key, &LoadSpec::default())
    }

    /// Unloads one instance; returns whether it was loaded.
    pub fn unload_instance(&self, id: &str) -> bool {
        lock(&self.shared).remove_instance(id)
    }

    /// Unloads every instance.
    pub fn unload_all(&self) {
        for entry in &mut lock(&self.shared).entries {
            entry.instances.clear();
        }
    }

    /// Requires (or, with `None`, stops requiring) a bearer token ([`Profile::V0_4`] only).
    pub fn set_auth_token(&self, token: Option<String>) {
        lock(&self.shared).auth_token = token;
    }

    /// Changes the speed of downloads started from now on.
    pub fn set_download_speed(&self, bytes_per_sec: u64) {
        lock(&self.shared).download_speed = bytes_per_sec;
    }

    /// Makes downloads of a model started from now on fail halfway, or succeed again.
    pub fn set_fail_download(&self, key: &str, fail: bool) {
        let mut state = lock(&self.shared);
        if fail {
            state.failing_downloads.insert(key.to_owned());
        } else {
            state.failing_downloads.remove(key);
        }
    }

    /// Changes how long loads take.
    pub fn set_load_delay(&self, delay: Duration) {
        lock(&self.shared).load_delay = delay;
    }

    /// Holds every load (`POST /api/v1/models/load`, `lms load`, JIT loads) at its start
    /// until [`release_loads`](Self::release_loads): a load stays in progress for as long as
    /// the test wants, so what happens meanwhile is decided by the test, not by a delay.
    pub fn hold_loads(&self) {
        lock(&self.shared).loads_held.send_replace(true);
    }

    /// Lets held loads (and later ones) go on; each then takes its load delay.
    pub fn release_loads(&self) {
        lock(&self.shared).loads_held.send_replace(false);
    }

    /// How many loads wait at the [`hold_loads`](Self::hold_loads) gate right now.
    pub fn held_loads(&self) -> usize {
        lock(&self.shared).held_loads
    }

    /// Changes where chat answers carry reasoning text.
    pub fn set_reasoning(&self, field: ReasoningField) {
        lock(&self.shared).reasoning = field;
    }

    /// Sets or clears the fault injected into streams started from now on.
    pub fn set_stream_fault(&self, fault: Option<StreamFault>) {
        lock(&self.shared).stream_fault = fault;
    }
}

type Bound = (SocketAddr, Shared, AbortHandle);

async fn bind(state: State, port: u16) -> std::io::Result<Bound> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Mutex::new(state));
    let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
    Ok((addr, shared, task.abort_handle()))
}

/// Accepts connections until aborted; dropping the `JoinSet` aborts every connection task.
async fn accept_loop(listener: TcpListener, shared: Shared) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = Arc::clone(&shared);
                    connections.spawn(async move {
                        let service = service_fn(move |request| {
                            router::handle(Arc::clone(&shared), request)
                        });
                        let _ = http1::Builder::new()
                            .timer(TokioTimer::new())
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                // Out of descriptors or similar: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}
