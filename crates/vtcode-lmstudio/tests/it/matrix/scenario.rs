//! One emulator scenario: an emulator in a given profile, the config that points at it, the
//! fake `lms` wired to it, and clients with fast polling and a recording progress reporter.

use crate::support::StartFresh;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lmstudio_testkit::{CatalogModel, Emulator, EmulatorBuilder, Profile};
use vtcode_config::{PreloadMode, VTCodeConfig};
use vtcode_lmstudio::{LMStudioClient, ProgressEvent, ProgressReporter};

use tokio::sync::Notify;

/// The model most checks make ready: the default, small enough to download in milliseconds.
pub(super) const MODEL: &str = "openai/gpt-oss-20b";
/// The embedding model every LM Studio install ships.
pub(super) const EMBED_MODEL: &str = "text-embedding-nomic-embed-text-v1.5";

/// The default model, not downloaded, 400 MB.
pub(super) fn small_default_model() -> CatalogModel {
    CatalogModel::gpt_oss_20b().size_bytes(400_000_000)
}

/// An emulator plus what talks to it.
pub(super) struct Scenario {
    pub(super) emulator: Emulator,
    pub(super) config: VTCodeConfig,
    pub(super) events: Arc<Mutex<Vec<ProgressEvent>>>,
    /// Notified on every `WaitingForLoad` event.
    waiting: Arc<Notify>,
    _lms_dir: Option<tempfile::TempDir>,
}

impl Scenario {
    /// Starts `builder` in `profile` with `jit`, and a config (preload = wait) for it. The 0.3
    /// profile gets the fake `lms`; 0.4 gets none, so any `lms` use there would fail loudly.
    pub(super) async fn start(
        profile: Profile,
        jit: bool,
        builder: EmulatorBuilder,
    ) -> Result<Self, String> {
        let emulator = builder
            .profile(profile)
            .jit(jit)
            .start_fresh()
            .await
            .map_err(|e| format!("emulator did not start: {e}"))?;
        crate::support::fresh(&emulator.url());
        let mut config = VTCodeConfig::default()
            .with_base_url(emulator.url())
            .with_preload(PreloadMode::Wait);
        config.lmstudio.connect_timeout_ms = 2_000;
        config.lmstudio.request_timeout_ms = 20_000;
        config.lmstudio.load_timeout_ms = 20_000;
        // Never read a token from this machine's environment.
        config.lmstudio.api_token_env = "VTCODE_LMSTUDIO_MATRIX_NO_TOKEN".to_owned();
        let lms_dir = match profile {
            Profile::V0_3 => {
                let binary = crate::support::fake_lms_binary();
                let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
                let path: PathBuf =
                    lmstudio_testkit::write_lms_wrapper(dir.path(), &binary, &emulator.url())
                        .map_err(|e| format!("could not write the fake lms: {e}"))?;
                config = config.with_lms_path(path);
                Some(dir)
            }
            Profile::V0_4 => {
                config = config.with_lms_path("/nonexistent/matrix/lms");
                None
            }
        };
        Ok(Self {
            emulator,
            config,
            events: Arc::new(Mutex::new(Vec::new())),
            waiting: Arc::new(Notify::new()),
            _lms_dir: lms_dir,
        })
    }

    /// The default model downloaded and loaded: the warm machine.
    pub(super) async fn warm(profile: Profile, jit: bool) -> Result<Self, String> {
        let model = small_default_model().downloaded(true).loaded(true);
        Self::start(profile, jit, Emulator::builder().models([model])).await
    }

    /// A fresh client with fast polling that records progress events.
    pub(super) fn client(&self) -> Result<LMStudioClient, String> {
        let events = self.events.clone();
        let waiting = self.waiting.clone();
        let reporter = move |event: &ProgressEvent| {
            events.lock().unwrap().push(event.clone());
            if matches!(event, ProgressEvent::WaitingForLoad { .. }) {
                waiting.notify_one();
            }
        };
        let reporter: Arc<dyn ProgressReporter> = Arc::new(reporter);
        LMStudioClient::builder(&self.config)
            .reporter(reporter)
            .poll_interval(Duration::from_millis(20))
            .index_wait(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("client: {e}"))
    }

    /// The progress events recorded so far.
    pub(super) fn events(&self) -> Vec<ProgressEvent> {
        self.events.lock().unwrap().clone()
    }

    /// Resolves at the next (or a pending) `WaitingForLoad` event of this scenario's clients.
    pub(super) fn waiting_for_load(&self) -> impl std::future::Future<Output = ()> + 'static {
        let waiting = self.waiting.clone();
        async move { waiting.notified().await }
    }
}
