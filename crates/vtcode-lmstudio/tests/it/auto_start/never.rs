//! When nothing is started: `auto_start` off (and then no `lms` call lacks `--port`, which
//! would make `lms` start LM Studio itself), a remote server, a URL with a path prefix, a
//! server that answers with an error or never answers (only a refused connection starts one).

use lmstudio_testkit::{
    CatalogModel, Emulator, FakeLmsOptions, Profile, StartAnswer, recorded_calls,
};
use vtcode_lmstudio::LMStudioClient;

use super::{Down, MODEL, free_port};
use crate::support::{Recorder, StartFresh, client_for, config_for, fake_lms, fresh};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_auto_start_off_nothing_starts_and_every_lms_call_passes_the_port() {
    // LM Studio 0.3: downloads, loads, TTLs and unloads all go through `lms`.
    let emulator = Emulator::builder()
        .profile(Profile::V0_3)
        .model(
            CatalogModel::gpt_oss_20b()
                .downloaded(false)
                .size_bytes(40_000_000),
        )
        .start_fresh()
        .await
        .unwrap();
    let port = emulator.port();
    let url = emulator.url();
    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("calls.jsonl");
    let lms = fake_lms(
        dir.path(),
        &url,
        &FakeLmsOptions::new()
            .record_args_to(&calls)
            .server_start_via(dir.path()),
    );
    let watcher = lmstudio_testkit::ServerStartWatcher::watch(dir.path(), |_| {
        StartAnswer::emulator(Emulator::builder())
    });
    let mut config = config_for(&url);
    config.lmstudio.lms_path = Some(lms);
    assert!(!config.lmstudio.auto_start, "off by default");
    let recorder = Recorder::default();
    let client = client_for(&config, &recorder);
    client.ensure_ready(MODEL).await.unwrap();
    client.status().await.unwrap();
    client.unload(MODEL).await.unwrap();
    client.fetch_models().await.unwrap();

    // The server goes away: every path that may call `lms` is tried again.
    drop(emulator);
    assert!(
        client
            .ensure_ready(MODEL)
            .await
            .unwrap_err()
            .is_not_responding()
    );
    assert!(client.status().await.unwrap_err().is_not_responding());
    assert!(client.fetch_models().await.is_err());
    assert!(client.load_model(MODEL).await.is_err());
    assert!(client.download_model(MODEL).await.is_err());
    assert!(vtcode_lmstudio::ensure_oss_ready(&config).await.is_err());
    assert!(LMStudioClient::try_from_provider(&config).await.is_err());

    let calls = recorded_calls(&calls).unwrap();
    let commands: Vec<&str> = calls.iter().map(|c| c[0].as_str()).collect();
    for wanted in ["get", "load", "ps", "unload"] {
        assert!(commands.contains(&wanted), "no `lms {wanted}`: {calls:?}");
    }
    let port = port.to_string();
    for call in &calls {
        assert!(
            call.windows(2).any(|w| w[0] == "--port" && w[1] == port),
            "an lms call without --port {port}: {call:?}"
        );
        assert_ne!(call[0], "server", "{call:?}");
    }
    assert!(watcher.requests().is_empty());
    vtcode_lmstudio::forget_server(&url);
}

#[tokio::test]
async fn a_remote_server_or_a_proxy_path_is_never_started() {
    for url in [
        // TEST-NET-1: nothing answers (a connect timeout or "unreachable", never local).
        format!("http://192.0.2.1:{}", free_port()),
        // Loopback but with a path prefix: a proxy in front of LM Studio, not LM Studio.
        format!("http://127.0.0.1:{}/lmstudio", free_port()),
    ] {
        let down = Down::with_emulator();
        fresh(&url);
        let mut config = down.config();
        config.lmstudio.base_url = Some(url.clone());
        config.lmstudio.connect_timeout_ms = 300;
        let err = down
            .client(&config, &Recorder::default())
            .ensure_ready(MODEL)
            .await
            .unwrap_err();
        assert!(err.is_not_responding(), "{url}: {err:?}");
        assert!(err.server_start_error().is_none(), "{url}: {err:?}");
        assert!(down.calls().is_empty(), "{url}: {:?}", down.calls());
        assert!(down.watcher.requests().is_empty(), "{url}");
    }
}

#[tokio::test]
async fn an_http_error_or_a_silent_server_is_not_a_refusal_and_starts_nothing() {
    // A server that answers every request with HTTP 500.
    let mut broken = crate::support::server().await;
    broken
        .mock("GET", mockito::Matcher::Any)
        .with_status(500)
        .with_body(r#"{"error":"internal"}"#)
        .create_async()
        .await;
    // A port that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    fresh(&silent_url);
    for url in [broken.url(), silent_url] {
        let down = Down::with_emulator();
        let mut config = down.config();
        config.lmstudio.base_url = Some(url.clone());
        config.lmstudio.response_headers_timeout_ms = 300;
        config.lmstudio.request_timeout_ms = 500;
        let result = down
            .client(&config, &Recorder::default())
            .ensure_ready(MODEL)
            .await;
        if let Err(err) = &result {
            assert!(err.server_start_error().is_none(), "{url}: {err:?}");
        }
        assert!(down.starts().is_empty(), "{url}: {:?}", down.calls());
        assert!(down.watcher.requests().is_empty(), "{url}");
    }
}

#[tokio::test]
async fn with_auto_start_off_a_refused_local_server_is_just_not_responding() {
    let down = Down::with_emulator();
    let config = down.config().with_auto_start(false);
    let err = down
        .client(&config, &Recorder::default())
        .ensure_ready(MODEL)
        .await
        .unwrap_err();
    assert!(err.is_not_responding());
    assert!(err.server_start_error().is_none());
    let err = LMStudioClient::try_from_provider(&config)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(down.calls().is_empty(), "{:?}", down.calls());
    assert!(down.watcher.requests().is_empty());
}
