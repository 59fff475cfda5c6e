//! `[lmstudio] auto_start` end to end: a local server that refuses connections is started
//! with `lms server start --port <port>` (the testkit's fake `lms`, whose `server start` brings
//! an emulator up in this process through a `ServerStartWatcher`), once however many callers
//! ask, with the bind address and CORS LM Studio recorded; and never otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod failures;
mod never;

use std::path::PathBuf;
use std::sync::Arc;

use lmstudio_testkit::{
    CatalogModel, Emulator, FakeLmsOptions, ServerStartWatcher, StartAnswer, StartRequest,
    recorded_calls,
};
use vtcode_config::VTCodeConfig;
use vtcode_lmstudio::{DownloadStep, LMStudioClient, LoadStep, ProgressEvent, ServerStartStep};

use crate::support::{Recorder, builder_for, config_for, fake_lms, fresh};

pub(crate) const MODEL: &str = "openai/gpt-oss-20b";

/// A port nothing listens on, which no other test's server can take meanwhile.
pub(crate) fn free_port() -> u16 {
    lmstudio_testkit::closed_port()
}

/// A local LM Studio that is not running: a free port, a fake `lms` recording its calls whose
/// `server start` asks `watcher` (which answers with `answer`), and an LM Studio home.
pub(crate) struct Down {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) port: u16,
    pub(crate) url: String,
    pub(crate) lms: PathBuf,
    pub(crate) watcher: ServerStartWatcher,
}

impl Down {
    pub(crate) fn new(
        answer: impl FnMut(&StartRequest) -> StartAnswer + Send + 'static,
        options: FakeLmsOptions,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        fresh(&url);
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        let options = options
            .record_args_to(dir.path().join("calls.jsonl"))
            .server_start_via(dir.path());
        let lms = fake_lms(dir.path(), &url, &options);
        let watcher = ServerStartWatcher::watch(dir.path(), answer);
        Self {
            dir,
            port,
            url,
            lms,
            watcher,
        }
    }

    /// Down, and `server start` brings up an emulator with the model downloaded.
    pub(crate) fn with_emulator() -> Self {
        Self::new(
            |_| {
                StartAnswer::emulator(
                    Emulator::builder().model(CatalogModel::gpt_oss_20b().downloaded(true)),
                )
            },
            FakeLmsOptions::new(),
        )
    }

    /// The LM Studio home handed to the client (for its server record).
    pub(crate) fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Writes LM Studio's record of its server into the home.
    pub(crate) fn record(&self, contents: &[u8]) {
        let internal = self.home().join(".internal");
        std::fs::create_dir_all(&internal).unwrap();
        std::fs::write(internal.join("http-server-config.json"), contents).unwrap();
    }

    /// A config for this server with `auto_start` on and this `lms`.
    pub(crate) fn config(&self) -> VTCodeConfig {
        let mut config = config_for(&self.url).with_auto_start(true);
        config.lmstudio.lms_path = Some(self.lms.clone());
        config
    }

    /// A client for `config` reading the server record from this home.
    pub(crate) fn client(&self, config: &VTCodeConfig, recorder: &Recorder) -> LMStudioClient {
        builder_for(config, recorder)
            .lmstudio_home(self.home())
            .build()
            .unwrap()
    }

    /// Every `lms` call so far.
    pub(crate) fn calls(&self) -> Vec<Vec<String>> {
        recorded_calls(&self.dir.path().join("calls.jsonl")).unwrap()
    }

    /// The `lms server start` calls so far.
    pub(crate) fn starts(&self) -> Vec<Vec<String>> {
        self.calls()
            .into_iter()
            .filter(|call| call.starts_with(&["server".to_owned(), "start".to_owned()]))
            .collect()
    }

    /// `server start --port <port>` followed by `extra`.
    pub(crate) fn start_call(&self, extra: &[&str]) -> Vec<String> {
        let mut call = vec![
            "server".to_owned(),
            "start".to_owned(),
            "--port".to_owned(),
            self.port.to_string(),
        ];
        call.extend(extra.iter().map(|a| (*a).to_owned()));
        call
    }
}

/// The message chain of an error, outermost first.
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut messages = Vec::new();
    let mut next = Some(err);
    while let Some(err) = next {
        messages.push(err.to_string());
        next = err.source();
    }
    messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_server_that_is_down_is_started_then_the_model_is_made_ready() {
    let down = Down::with_emulator();
    let recorder = Recorder::default();
    let client = down.client(&down.config(), &recorder);
    let report = client.ensure_ready(MODEL).await.unwrap();

    let step: ServerStartStep = report.server_start.expect("the report says it started");
    assert_eq!(step.port, down.port);
    eprintln!("auto-start against the emulator took {:?}", step.elapsed);
    assert!(report.timings.server_start.is_some());
    assert_eq!(report.download, DownloadStep::AlreadyPresent);
    assert!(matches!(report.load, LoadStep::Loaded { .. }), "{report:?}");
    assert_eq!(down.starts(), [down.start_call(&[])]);
    assert_eq!(down.watcher.requests().len(), 1);
    let emulator = &down.watcher.emulators()[0];
    assert_eq!(emulator.loaded_instances(MODEL).len(), 1);

    // The events say so, in order: starting, started, then the load.
    let events = recorder.events();
    let at = |wanted: &dyn Fn(&ProgressEvent) -> bool| events.iter().position(wanted);
    let starting =
        at(&|e| matches!(e, ProgressEvent::StartingServer { port } if *port == down.port));
    let started = at(
        &|e| matches!(e, ProgressEvent::ServerStarted { port, elapsed } if *port == down.port && *elapsed == step.elapsed),
    );
    let load = at(&|e| matches!(e, ProgressEvent::LoadStarted { .. }));
    assert!(
        starting < started && started < load && starting.is_some(),
        "{events:?}"
    );

    // Running now: a second readiness check starts nothing.
    let again = client.ensure_ready(MODEL).await.unwrap();
    assert_eq!(again.server_start, None);
    assert_eq!(down.starts().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_concurrent_ensure_oss_ready_calls_start_it_once() {
    let down = Down::with_emulator();
    let mut config = down.config();
    config.lmstudio.preload = vtcode_config::PreloadMode::Off;
    let config = Arc::new(config);
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let config = config.clone();
            tokio::spawn(
                async move { vtcode_lmstudio::ensure_oss_ready_with_report(&config).await },
            )
        })
        .collect();
    let mut started = 0;
    for call in calls {
        let report = call.await.unwrap().unwrap();
        started += usize::from(report.server_start.is_some());
    }
    assert_eq!(down.starts().len(), 1, "{:?}", down.calls());
    assert_eq!(down.watcher.requests().len(), 1);
    assert!(started >= 1, "no report says the server was started");
    vtcode_lmstudio::forget_server(&down.url);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_from_provider_starts_it_too() {
    let down = Down::with_emulator();
    // Started through the config alone (the server record is read from this user's home).
    let client = LMStudioClient::try_from_provider(&down.config())
        .await
        .unwrap();
    assert_eq!(down.starts().len(), 1);
    let models = client.fetch_models().await.unwrap();
    assert!(models.contains(&MODEL.to_owned()), "{models:?}");
    vtcode_lmstudio::forget_server(&down.url);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_and_cors_recorded_by_lm_studio_are_passed_on_and_nothing_else() {
    let cases: [(&[u8], &[&str]); 7] = [
        (
            br#"{"port":1,"networkInterface":"0.0.0.0","cors":true}"#,
            &["--bind", "0.0.0.0", "--cors"],
        ),
        (
            br#"{"port":41343,"networkInterface":"127.0.0.1","cors":false}"#,
            &["--bind", "127.0.0.1"],
        ),
        (br#"{"port":1234,"cors":true}"#, &["--cors"]),
        // Hostile or broken records: nothing of them reaches the command line.
        (
            br#"{"port":1,"networkInterface":"0.0.0.0 --cors","cors":"yes"}"#,
            &[],
        ),
        (br#"{"port":1,"networkInterface":"--evil"}"#, &[]),
        (
            br#"{"port":0,"networkInterface":"0.0.0.0","cors":true}"#,
            &[],
        ),
        (b"\xff\xfe{ not json", &[]),
    ];
    for (record, extra) in cases {
        let down = Down::with_emulator();
        down.record(record);
        let client = down.client(&down.config(), &Recorder::default());
        client.ensure_ready(MODEL).await.unwrap();
        assert_eq!(
            down.starts(),
            [down.start_call(extra)],
            "{}",
            String::from_utf8_lossy(record)
        );
        let request = &down.watcher.requests()[0];
        assert_eq!(request.cors, extra.contains(&"--cors"));
    }
    // No record at all: only the port.
    let down = Down::with_emulator();
    let client = down.client(&down.config(), &Recorder::default());
    client.ensure_ready(MODEL).await.unwrap();
    assert_eq!(down.starts(), [down.start_call(&[])]);
    let request = &down.watcher.requests()[0];
    assert_eq!((request.bind.as_deref(), request.cors), (None, false));
}

#[tokio::test]
async fn a_huge_or_fifo_record_is_not_read() {
    let down = Down::with_emulator();
    let mut big = br#"{"port":1,"networkInterface":"0.0.0.0","cors":true,"pad":""#.to_vec();
    big.extend(std::iter::repeat_n(b'x', 100 * 1024));
    big.extend(br#""}"#);
    down.record(&big);
    let client = down.client(&down.config(), &Recorder::default());
    client.ensure_ready(MODEL).await.unwrap();
    assert_eq!(down.starts(), [down.start_call(&[])]);
    #[cfg(unix)]
    {
        let down = Down::with_emulator();
        let internal = down.home().join(".internal");
        std::fs::create_dir_all(&internal).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(internal.join("http-server-config.json"))
            .status()
            .unwrap();
        assert!(made.success());
        let client = down.client(&down.config(), &Recorder::default());
        client.ensure_ready(MODEL).await.unwrap();
        assert_eq!(down.starts(), [down.start_call(&[])]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_given_to_the_builder_gives_both_the_url_and_the_start_settings() {
    // No URL configured: the record in the builder's LM Studio home names the port, and the
    // same record gives the start its bind address and CORS.
    let down = Down::with_emulator();
    down.record(
        format!(
            r#"{{"port":{},"networkInterface":"0.0.0.0","cors":true}}"#,
            down.port
        )
        .as_bytes(),
    );
    let mut config = down.config();
    config.lmstudio.base_url = None;
    let client = down.client(&config, &Recorder::default());
    assert_eq!(client.base_url(), down.url);
    assert!(
        matches!(client.url_source(), vtcode_lmstudio::UrlSource::LmStudioServerConfig { path }
            if path.starts_with(down.home())),
        "{:?}",
        client.url_source()
    );
    let report = client.ensure_ready(MODEL).await.unwrap();
    assert!(report.server_start.is_some());
    assert_eq!(
        down.starts(),
        [down.start_call(&["--bind", "0.0.0.0", "--cors"])]
    );

    // A configured URL still wins over the record.
    let mut config = down.config();
    config.lmstudio.base_url = Some("http://127.0.0.1:9".to_owned());
    let client = down.client(&config, &Recorder::default());
    assert_eq!(client.base_url(), "http://127.0.0.1:9");
    assert_eq!(client.url_source(), &vtcode_lmstudio::UrlSource::Configured);
}
