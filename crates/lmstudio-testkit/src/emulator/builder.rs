//! The emulator's builder and the scenario switches it takes (profile, JIT, auth, faults).

use std::collections::HashSet;
use std::time::Duration;

use super::Emulator;
use super::catalog::CatalogModel;
use super::state::State;

/// Which LM Studio release family the emulator behaves like.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Profile {
    /// LM Studio 0.3.x: `/v1/*` and `/api/v0/*` only; `/api/v1/*` answers HTTP 200 with the
    /// string error `Unexpected endpoint or method. (GET /api/v1/models)`; no auth.
    V0_3,
    /// LM Studio 0.4.x: adds `/api/v1/models`, load, unload, download + status, the native
    /// `/api/v1/chat` (streamed with named events), and API tokens.
    #[default]
    V0_4,
}

/// Where chat answers put their reasoning text, if anywhere.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReasoningField {
    /// No reasoning text.
    #[default]
    None,
    /// `message.reasoning` / `delta.reasoning` (gpt-oss, LM Studio 0.3.23+).
    Reasoning,
    /// `message.reasoning_content` / `delta.reasoning_content` (other thinking models).
    ReasoningContent,
}

/// A fault injected into streamed answers (`stream: true`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamFault {
    /// After this many `data:` chunks, send `data: {"error":{...}}` and end the body without
    /// `data: [DONE]` (`/api/v1/chat`: an `error` event, then `chat.end`).
    ErrorAfter(usize),
    /// After this many `data:` chunks, end the body cleanly but without `data: [DONE]`
    /// (`/api/v1/chat`: without `chat.end`).
    DropAfter(usize),
    /// After this many `data:` chunks, abort the connection mid-body (the chunked encoding is
    /// never terminated).
    AbortAfter(usize),
    /// After this many `data:` chunks, send the bare error JSON LM Studio has sent inside a
    /// Responses stream, `data: {"code":500,"message":"The model produced output that does not
    /// match the expected peg-native format","type":"server_error"}` (no `error` key, no
    /// event name), and end the body.
    BareErrorAfter(usize),
}

/// Default download speed: 10 GB/s, so the default 12 GB model downloads in about 1.2 s.
pub const DEFAULT_DOWNLOAD_SPEED: u64 = 10_000_000_000;

/// Builds and starts an [`Emulator`]. Get one from [`Emulator::builder`].
///
/// Defaults: [`Profile::V0_4`], JIT on, no auth token, the catalog
/// [`CatalogModel::gpt_oss_20b`] (not downloaded) + [`CatalogModel::nomic_embed`] (downloaded),
/// downloads at [`DEFAULT_DOWNLOAD_SPEED`], loads without delay, no reasoning field, 2 ms
/// between stream chunks, no faults. Calling [`EmulatorBuilder::model`] replaces the default
/// catalog with the models given.
#[derive(Clone, Debug)]
pub struct EmulatorBuilder {
    pub(crate) profile: Profile,
    pub(crate) jit: bool,
    pub(crate) auth_token: Option<String>,
    pub(crate) models: Option<Vec<CatalogModel>>,
    pub(crate) download_speed: u64,
    pub(crate) failing_downloads: HashSet<String>,
    pub(crate) load_delay: Duration,
    pub(crate) reasoning: ReasoningField,
    pub(crate) chunk_delay: Duration,
    pub(crate) stream_fault: Option<StreamFault>,
    pub(crate) default_context_length: u32,
    pub(crate) index_delay: Duration,
    pub(crate) record_requests: bool,
    pub(crate) port: u16,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            profile: Profile::V0_4,
            jit: true,
            auth_token: None,
            models: None,
            download_speed: DEFAULT_DOWNLOAD_SPEED,
            failing_downloads: HashSet::new(),
            load_delay: Duration::ZERO,
            reasoning: ReasoningField::None,
            chunk_delay: Duration::from_millis(2),
            stream_fault: None,
            default_context_length: 4096,
            index_delay: Duration::ZERO,
            record_requests: true,
            port: 0,
        }
    }
}

impl EmulatorBuilder {
    /// Which LM Studio release family to behave like.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// Just-in-time loading: on, `/v1/models` lists every downloaded model and inference loads
    /// the requested model; off, it lists loaded instances only and inference needs a load.
    pub fn jit(mut self, jit: bool) -> Self {
        self.jit = jit;
        self
    }

    /// Require `Authorization: Bearer <token>` on every route but `/lmstudio-greeting`
    /// ([`Profile::V0_4`] only: 0.3.x accepts any request).
    pub fn auth_token(mut self, token: Option<String>) -> Self {
        self.auth_token = token;
        self
    }

    /// Adds a model to the catalog (the first call replaces the default catalog).
    pub fn model(mut self, model: CatalogModel) -> Self {
        self.models.get_or_insert_with(Vec::new).push(model);
        self
    }

    /// Adds several models to the catalog (replacing the default catalog).
    pub fn models(mut self, models: impl IntoIterator<Item = CatalogModel>) -> Self {
        self.models.get_or_insert_with(Vec::new).extend(models);
        self
    }

    /// Download speed in bytes per second (0 = a download that never progresses).
    pub fn download_speed(mut self, bytes_per_sec: u64) -> Self {
        self.download_speed = bytes_per_sec;
        self
    }

    /// Downloads of this model key fail halfway (status `failed`; `lms get` exits 1).
    pub fn fail_download(mut self, key: impl Into<String>) -> Self {
        self.failing_downloads.insert(key.into());
        self
    }

    /// How long a load takes (`/api/v1/models/load`, `lms load`, a JIT load).
    pub fn load_delay(mut self, delay: Duration) -> Self {
        self.load_delay = delay;
        self
    }

    /// Where chat answers carry reasoning text.
    pub fn reasoning(mut self, field: ReasoningField) -> Self {
        self.reasoning = field;
        self
    }

    /// Pause between streamed chunks (default 2 ms), so each chunk is its own frame.
    pub fn stream_chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay = delay;
        self
    }

    /// Streamed answers send an error chunk after `n` chunks, then end without `[DONE]`.
    pub fn inject_stream_error_after(mut self, n: usize) -> Self {
        self.stream_fault = Some(StreamFault::ErrorAfter(n));
        self
    }

    /// Streamed answers send LM Studio's bare 500-shaped error JSON after `n` chunks (see
    /// [`StreamFault::BareErrorAfter`]), then end.
    pub fn inject_bare_stream_error_after(mut self, n: usize) -> Self {
        self.stream_fault = Some(StreamFault::BareErrorAfter(n));
        self
    }

    /// Streamed answers end cleanly after `n` chunks, without `[DONE]`.
    pub fn drop_stream_after(mut self, n: usize) -> Self {
        self.stream_fault = Some(StreamFault::DropAfter(n));
        self
    }

    /// Streamed answers abort the connection after `n` chunks (truncated chunked body).
    pub fn abort_stream_after(mut self, n: usize) -> Self {
        self.stream_fault = Some(StreamFault::AbortAfter(n));
        self
    }

    /// The context length of instances loaded without one (default 4096, capped by the
    /// model's maximum).
    pub fn default_context_length(mut self, tokens: u32) -> Self {
        self.default_context_length = tokens;
        self
    }

    /// How long after a download completes the model appears in the listings and can be
    /// loaded (default: at once). LM Studio's index lags behind downloads, so clients should
    /// poll the model list after a download; this makes that lag observable.
    pub fn index_delay(mut self, delay: Duration) -> Self {
        self.index_delay = delay;
        self
    }

    /// Whether to keep the request log (default on). Benchmarks sending many requests can
    /// turn it off to keep memory flat; [`Emulator::requests`] then stays empty.
    pub fn record_requests(mut self, record: bool) -> Self {
        self.record_requests = record;
        self
    }

    /// The port to bind on 127.0.0.1 (default 0: any free port). A fixed port such as 1234
    /// lets a manual run stand in for LM Studio; tests should keep the default.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Binds `127.0.0.1:0` and serves on the current tokio runtime until the [`Emulator`] is
    /// dropped. In a `#[tokio::test]` that also runs blocking code (a child process waited
    /// on synchronously), use `flavor = "multi_thread"` or [`EmulatorBuilder::start_threaded`].
    ///
    /// # Errors
    /// When the socket cannot be bound.
    pub async fn start(self) -> std::io::Result<Emulator> {
        let (state, port) = self.into_state();
        Emulator::serve(state, port).await
    }

    /// Like [`EmulatorBuilder::start`], but serves from a dedicated thread with its own
    /// runtime, so it works from synchronous code (benchmarks, blocking tests) and never
    /// competes with the caller's runtime.
    ///
    /// # Errors
    /// When the runtime or the socket cannot be created.
    pub fn start_threaded(self) -> std::io::Result<Emulator> {
        let (state, port) = self.into_state();
        Emulator::serve_threaded(state, port)
    }

    #[cfg(test)]
    pub(crate) fn into_state_for_tests(self) -> State {
        self.into_state().0
    }

    fn into_state(self) -> (State, u16) {
        let models = self
            .models
            .clone()
            .unwrap_or_else(|| vec![CatalogModel::gpt_oss_20b(), CatalogModel::nomic_embed()]);
        let port = self.port;
        (State::new(self, models), port)
    }
}
