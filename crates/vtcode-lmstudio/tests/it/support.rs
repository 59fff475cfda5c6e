//! Shared helpers for the facade's integration tests: configs, JSON bodies, a recording reporter.

#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use vtcode_config::{PreloadMode, VTCodeConfig};
use vtcode_lmstudio::{LMStudioClient, LMStudioClientBuilder, ProgressEvent, ProgressReporter};

/// A mock server of this test's own. Not from mockito's pool: pooled servers are handed to
/// the next test on the same port, and clients of one server in a process share an engine
/// (detected kind, cached model list), so a pooled server would show one test another's
/// cached state.
pub async fn server() -> mockito::Server {
    let server = mockito::Server::new_with_opts_async(mockito::ServerOpts::default()).await;
    fresh(&server.url());
    server
}

/// Forgets any engine an earlier test left for `url`: the OS hands ports out again, and a
/// lingering engine would show this test another server's detection and model list.
pub fn fresh(url: &str) {
    vtcode_lmstudio::forget_server(url);
}

/// A config pointing at `url`, with short limits so failures end quickly.
pub fn config_for(url: &str) -> VTCodeConfig {
    let mut config = VTCodeConfig::default();
    config.lmstudio.base_url = Some(url.to_owned());
    config.lmstudio.connect_timeout_ms = 2_000;
    config.lmstudio.request_timeout_ms = 10_000;
    config.lmstudio.load_timeout_ms = 10_000;
    config.lmstudio.preload = PreloadMode::Wait;
    // Never pick up a real `lms` from this machine by accident.
    config.lmstudio.lms_path = Some("/nonexistent/lms-for-tests".into());
    config
}

/// A client for `url` with fast polling and a recording reporter.
pub fn client_for(config: &VTCodeConfig, recorder: &Recorder) -> LMStudioClient {
    builder_for(config, recorder).build().expect("valid config")
}

/// The builder behind [`client_for`], for tests that change one more setting. Its engine is
/// private: a server of another test that had the same port (the OS hands ports out again)
/// can leave a lingering engine with its cached model list behind.
pub fn builder_for(config: &VTCodeConfig, recorder: &Recorder) -> LMStudioClientBuilder {
    LMStudioClient::builder(config)
        .private_engine()
        .reporter(Arc::new(recorder.clone()))
        .poll_interval(Duration::from_millis(5))
        .index_wait(Duration::from_secs(5))
}

/// Collects every progress event.
#[derive(Clone, Default)]
pub struct Recorder {
    events: Arc<Mutex<Vec<ProgressEvent>>>,
    reported: Arc<tokio::sync::Notify>,
}

impl Recorder {
    pub fn events(&self) -> Vec<ProgressEvent> {
        self.events.lock().expect("lock").clone()
    }

    /// Resolves once an event matching `wanted` has been reported (now or later): tests
    /// synchronise on what the client says it is doing, never on a sleep.
    pub async fn until(&self, wanted: impl Fn(&ProgressEvent) -> bool) {
        loop {
            let reported = self.reported.notified();
            tokio::pin!(reported);
            reported.as_mut().enable();
            if self.events().iter().any(&wanted) {
                return;
            }
            reported.await;
        }
    }
}

impl ProgressReporter for Recorder {
    fn report(&self, event: &ProgressEvent) {
        self.events.lock().expect("lock").push(event.clone());
        self.reported.notify_waiters();
    }
}

/// One `/api/v1/models` entry.
pub fn v1_model(key: &str, loaded_instances: &[&str]) -> serde_json::Value {
    let instances: Vec<serde_json::Value> = loaded_instances
        .iter()
        .map(|id| serde_json::json!({"id": id, "config": {"context_length": 4096}}))
        .collect();
    serde_json::json!({
        "type": "llm",
        "publisher": key.split('/').next().unwrap_or(key),
        "key": key,
        "display_name": key,
        "architecture": "gpt-oss",
        "quantization": {"name": "MXFP4", "bits_per_weight": 4},
        "size_bytes": 12_109_566_560u64,
        "params_string": "20B",
        "loaded_instances": instances,
        "max_context_length": 131072,
        "format": "gguf",
        "capabilities": {"vision": false, "trained_for_tool_use": true}
    })
}

/// A whole `/api/v1/models` body.
pub fn v1_models_body(models: &[serde_json::Value]) -> String {
    serde_json::json!({ "models": models }).to_string()
}

/// One `/api/v0/models` entry.
pub fn v0_model(id: &str, loaded: bool) -> serde_json::Value {
    let mut model = serde_json::json!({
        "id": id,
        "object": "model",
        "type": "llm",
        "publisher": "openai",
        "arch": "gpt-oss",
        "compatibility_type": "gguf",
        "quantization": "MXFP4",
        "state": if loaded { "loaded" } else { "not-loaded" },
        "max_context_length": 131072
    });
    if loaded {
        model["loaded_context_length"] = serde_json::json!(4096);
    }
    model
}

/// A whole `/api/v0/models` body.
pub fn v0_models_body(models: &[serde_json::Value]) -> String {
    serde_json::json!({ "object": "list", "data": models }).to_string()
}

/// LM Studio's answer to a route it does not have.
pub fn unexpected_endpoint(method: &str, path: &str) -> String {
    serde_json::json!({ "error": format!("Unexpected endpoint or method. ({method} {path})") })
        .to_string()
}

/// The typed error inside an `io::Error` from the seed API.
pub fn typed(err: &std::io::Error) -> &vtcode_lmstudio::LmStudioError {
    err.get_ref()
        .and_then(|e| e.downcast_ref::<vtcode_lmstudio::LmStudioError>())
        .expect("the io::Error carries an LmStudioError")
}

/// The error `download_model(model)` gives with `config` (the progress is recorded and dropped).
pub async fn download_error(config: &VTCodeConfig, model: &str) -> std::io::Error {
    client_for(config, &Recorder::default())
        .download_model(model)
        .await
        .expect_err("the download should fail")
}

/// Asserts that `err` is a failed download (`ErrorKind::Other`, `DownloadFailed`) whose
/// message contains every one of `needles`.
pub fn assert_download_failed(err: &std::io::Error, needles: &[&str]) {
    assert_eq!(err.kind(), std::io::ErrorKind::Other, "{err:?}");
    assert!(
        matches!(
            typed(err),
            vtcode_lmstudio::LmStudioError::DownloadFailed { .. }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    for needle in needles {
        assert!(text.contains(needle), "{text:?} lacks {needle:?}");
    }
}

/// The testkit's `fake-lms` binary. `cargo test --workspace` builds it (the testkit's own
/// tests need it); `cargo xtask integration` and `cargo xtask faults` build it first; alone,
/// run `cargo build -p lmstudio-testkit --bin fake-lms`.
pub fn fake_lms_binary() -> std::path::PathBuf {
    lmstudio_testkit::find_fake_lms_binary().expect(
        "the fake lms is not built: run `cargo build -p lmstudio-testkit --bin fake-lms` \
         (cargo test --workspace builds it)",
    )
}

/// Writes an `lms` into `dir` that runs the fake `lms` against `server_url` with `options`.
pub fn fake_lms(
    dir: &std::path::Path,
    server_url: &str,
    options: &lmstudio_testkit::FakeLmsOptions,
) -> std::path::PathBuf {
    lmstudio_testkit::write_lms_wrapper_with(dir, &fake_lms_binary(), server_url, options)
        .expect("writing the fake lms")
}

/// Starting an emulator for a test: the same as `start()` / `start_threaded()`, then
/// [`fresh`] for its URL.
pub trait StartFresh {
    /// `EmulatorBuilder::start`, then [`fresh`].
    fn start_fresh(
        self,
    ) -> impl std::future::Future<Output = std::io::Result<lmstudio_testkit::Emulator>>;
    /// `EmulatorBuilder::start_threaded`, then [`fresh`].
    fn start_threaded_fresh(self) -> std::io::Result<lmstudio_testkit::Emulator>;
}

impl StartFresh for lmstudio_testkit::EmulatorBuilder {
    async fn start_fresh(self) -> std::io::Result<lmstudio_testkit::Emulator> {
        let emulator = self.start().await?;
        fresh(&emulator.url());
        Ok(emulator)
    }

    fn start_threaded_fresh(self) -> std::io::Result<lmstudio_testkit::Emulator> {
        let emulator = self.start_threaded()?;
        fresh(&emulator.url());
        Ok(emulator)
    }
}

/// An emulator (started fresh) whose `openai/gpt-oss-20b` is already downloaded and loaded.
pub async fn loaded_emulator(
    builder: lmstudio_testkit::EmulatorBuilder,
) -> lmstudio_testkit::Emulator {
    builder
        .model(lmstudio_testkit::CatalogModel::gpt_oss_20b().loaded(true))
        .start_fresh()
        .await
        .unwrap()
}

/// A client of `emulator` with the default settings (`LMStudioClient::new`).
pub fn emulator_client(emulator: &lmstudio_testkit::Emulator) -> LMStudioClient {
    LMStudioClient::new(&config_for(&emulator.url())).unwrap()
}
