//! One engine per server in a process: separately built clients (and seed calls) share
//! downloads, loads, detection and progress; the engine lingers, then lets go; a server that
//! went away is detected afresh; Tokio runtimes come and go.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;
use crate::support::StartFresh;

use std::sync::Arc;
use std::time::Duration;

use lmstudio_testkit::{CatalogModel, Emulator, Profile};
use support::Recorder;
use vtcode_config::{PreloadMode, VTCodeConfig};
use vtcode_lmstudio::proto::openai::{ChatCompletionRequest, ChatMessage};
use vtcode_lmstudio::{
    LMStudioClient, LMStudioClientBuilder, NativeApi, NoProgress, ProgressEvent, ServerKind,
    ensure_oss_ready,
};

const MODEL: &str = "openai/gpt-oss-20b";

fn config_for(emulator: &Emulator, preload: PreloadMode) -> VTCodeConfig {
    let mut config = VTCodeConfig::default()
        .with_base_url(emulator.url())
        .with_preload(preload)
        .with_lms_path("/nonexistent/lms-for-tests");
    config.lmstudio.api_token_env = "VTCODE_LMSTUDIO_TESTS_NO_TOKEN".to_owned();
    config
}

/// A client built from scratch: nothing shared with other clients but the engine.
fn separate_client(config: &VTCodeConfig, recorder: &Recorder) -> LMStudioClient {
    separate_builder(config, recorder).build().unwrap()
}

fn separate_builder(config: &VTCodeConfig, recorder: &Recorder) -> LMStudioClientBuilder {
    LMStudioClient::builder(config)
        .reporter(Arc::new(recorder.clone()))
        .poll_interval(Duration::from_millis(10))
}

fn downloads(emulator: &Emulator) -> usize {
    emulator.request_count("POST", "/api/v1/models/download")
}

fn loads(emulator: &Emulator) -> usize {
    emulator.request_count("POST", "/api/v1/models/load")
}

async fn small_model_server() -> Emulator {
    Emulator::builder()
        .model(CatalogModel::gpt_oss_20b().size_bytes(20_000_000))
        .load_delay(Duration::from_millis(30))
        .start_fresh()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_separately_built_clients_make_one_download_and_one_load() {
    let emulator = small_model_server().await;
    let config = config_for(&emulator, PreloadMode::Wait);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let client = separate_client(&config, &Recorder::default());
            tokio::spawn(async move { client.ensure_ready(MODEL).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(downloads(&emulator), 1);
    assert_eq!(emulator.download_job_count(), 1);
    assert_eq!(loads(&emulator), 1);
    assert_eq!(emulator.loaded_instances(MODEL), vec![MODEL.to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_concurrent_seed_calls_make_one_download_and_one_load() {
    let emulator = small_model_server().await;
    let config = config_for(&emulator, PreloadMode::Background);
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let config = config.clone();
            tokio::spawn(async move { ensure_oss_ready(&config).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    // Every call has returned and marked its background preload; a chat waits for them all.
    let client = separate_client(&config, &Recorder::default());
    client
        .chat(ChatCompletionRequest::new(
            MODEL,
            vec![ChatMessage::user("hi")],
        ))
        .await
        .unwrap();
    assert_eq!(downloads(&emulator), 1);
    assert_eq!(loads(&emulator), 1);
    assert_eq!(emulator.loaded_instances(MODEL), vec![MODEL.to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_of_two_servers_make_one_download_each() {
    let first = small_model_server().await;
    let second = small_model_server().await;
    let mut tasks = Vec::new();
    for emulator in [&first, &second] {
        let config = config_for(emulator, PreloadMode::Wait);
        for _ in 0..4 {
            let client = separate_client(&config, &Recorder::default());
            tasks.push(tokio::spawn(
                async move { client.ensure_ready(MODEL).await },
            ));
        }
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    for emulator in [&first, &second] {
        assert_eq!(downloads(emulator), 1);
        assert_eq!(loads(emulator), 1);
    }
}

/// A server whose download takes a while: 40 MB at 20 MB/s.
async fn slow_download_server() -> Emulator {
    Emulator::builder()
        .model(CatalogModel::gpt_oss_20b().size_bytes(40_000_000))
        .download_speed(20_000_000)
        .start_fresh()
        .await
        .unwrap()
}

async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    for _ in 0..1_000 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_joins_a_download_gets_its_progress_from_a_snapshot_on() {
    let emulator = slow_download_server().await;
    let config = config_for(&emulator, PreloadMode::Off);
    let leader_events = Recorder::default();
    let leader = separate_client(&config, &leader_events);
    let leading = tokio::spawn(async move { leader.download(MODEL, &NoProgress).await });
    until("the download has started", || {
        emulator.download_job_count() == 1
    })
    .await;
    let joiner_events = Recorder::default();
    let joiner = separate_client(&config, &joiner_events);
    let outcome = tokio::time::timeout(
        Duration::from_secs(60),
        joiner.download(MODEL, &joiner_events),
    )
    .await
    .expect("the joined download finishes")
    .unwrap();
    assert!(matches!(
        outcome,
        vtcode_lmstudio::DownloadOutcome::Downloaded { .. }
    ));
    leading.await.unwrap().unwrap();
    let events = joiner_events.events();
    assert!(
        matches!(events.first(), Some(ProgressEvent::DownloadStarted { .. })),
        "a joiner first learns what is running: {events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ProgressEvent::DownloadProgress { .. })),
        "{events:?}"
    );
    assert!(
        matches!(
            events.last(),
            Some(ProgressEvent::DownloadFinished {
                already_present: false,
                ..
            })
        ),
        "{events:?}"
    );
    assert_eq!(downloads(&emulator), 1);
    assert!(
        leader_events.events().is_empty(),
        "the leader's call was given NoProgress: its client's reporter gets nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_leader_leaves_the_download_running_for_another_client() {
    let emulator = slow_download_server().await;
    let config = config_for(&emulator, PreloadMode::Off);
    let leader = separate_client(&config, &Recorder::default());
    let leading = tokio::spawn(async move { leader.download(MODEL, &NoProgress).await });
    until("the download has started", || {
        emulator.download_job_count() == 1
    })
    .await;
    let joiner_events = Recorder::default();
    let joiner = separate_client(&config, &joiner_events);
    let joining = {
        let events = joiner_events.clone();
        tokio::spawn(async move { joiner.download(MODEL, &events).await })
    };
    until("the joiner has the snapshot", || {
        !joiner_events.events().is_empty()
    })
    .await;
    leading.abort();
    let outcome = tokio::time::timeout(Duration::from_secs(60), joining)
        .await
        .expect("the hand-over finishes")
        .unwrap()
        .unwrap();
    assert!(
        matches!(outcome, vtcode_lmstudio::DownloadOutcome::Downloaded { .. }),
        "{outcome:?}"
    );
    assert!(emulator.is_downloaded(MODEL));
    // The download went on in its own task: it was never started a second time.
    assert_eq!(downloads(&emulator), 1);
    assert_eq!(emulator.download_job_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_nobody_waits_for_any_more_stops_polling() {
    let emulator = slow_download_server().await;
    let config = config_for(&emulator, PreloadMode::Off);
    let client = separate_client(&config, &Recorder::default());
    let leading = {
        let client = client.clone();
        tokio::spawn(async move { client.download(MODEL, &NoProgress).await })
    };
    until("the download has started", || {
        emulator.download_job_count() == 1
    })
    .await;
    leading.abort();
    // Its task is aborted with its last caller: the status polls stop.
    let path = "/api/v1/models/download/status/";
    let polls = || {
        emulator
            .requests()
            .iter()
            .filter(|r| r.path.starts_with(path))
            .count()
    };
    let mut last = polls();
    let mut unchanged = 0;
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = polls();
        unchanged = if now == last { unchanged + 1 } else { 0 };
        last = now;
        if unchanged >= 10 {
            break;
        }
    }
    assert!(
        unchanged >= 10,
        "the status is still polled after every caller left"
    );
    // A new call starts afresh (a new flight), and finishes.
    let outcome =
        tokio::time::timeout(Duration::from_secs(60), client.download(MODEL, &NoProgress))
            .await
            .expect("finishes")
            .unwrap();
    assert!(matches!(
        outcome,
        vtcode_lmstudio::DownloadOutcome::Downloaded { .. }
            | vtcode_lmstudio::DownloadOutcome::AlreadyPresent { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_waits_for_the_background_preload_it_would_race() {
    // JIT off: a chat that reached the server before the load finished would fail with
    // "No models loaded". The emulator holds the load until the chat says it is waiting, so
    // the preload is in progress by construction, not because a delay outlasted the chat.
    let emulator = Emulator::builder()
        .jit(false)
        .model(CatalogModel::gpt_oss_20b().downloaded(true))
        .start_fresh()
        .await
        .unwrap();
    emulator.hold_loads();
    let config = config_for(&emulator, PreloadMode::Background);
    let events = Recorder::default();
    let client = separate_client(&config, &events);
    let report = client.ensure_ready(MODEL).await.unwrap();
    assert_eq!(report.load, vtcode_lmstudio::LoadStep::Background);
    let mut chat = tokio::spawn({
        let client = client.clone();
        async move {
            client
                .chat(ChatCompletionRequest::new(
                    MODEL,
                    vec![ChatMessage::user("hi")],
                ))
                .await
        }
    });
    tokio::select! {
        () = events.until(|e| matches!(e, ProgressEvent::WaitingForLoad { model } if model == MODEL)) => {}
        finished = &mut chat => panic!("the chat did not wait for the preload: {finished:?}"),
    }
    emulator.release_loads();
    let answer = chat.await.unwrap().unwrap();
    assert!(!answer.choices.is_empty());
    assert_eq!(loads(&emulator), 1);
    assert_eq!(emulator.loaded_instances(MODEL), vec![MODEL.to_owned()]);
}

fn probes(emulator: &Emulator) -> usize {
    emulator.request_count("GET", "/api/v1/models")
}

#[tokio::test]
async fn the_engine_outlives_its_last_client_for_the_linger_time_then_probes_again() {
    // On 0.3 the first listing probes /api/v1/models (missing) before /api/v0/models; a
    // client that finds the engine warm goes straight to /api/v0/models.
    let emulator = Emulator::builder()
        .profile(Profile::V0_3)
        .start_fresh()
        .await
        .unwrap();
    let config = config_for(&emulator, PreloadMode::Off);
    // The linger is the last client's: an hour first (so the next client surely finds the
    // engine), then zero (so it has surely run out), and no test depends on a sleep.
    let client = |config: &VTCodeConfig, linger: Duration| {
        separate_builder(config, &Recorder::default())
            .catalog_ttl(Duration::ZERO)
            .engine_linger(linger)
            .build()
            .unwrap()
    };
    client(&config, Duration::from_secs(3600))
        .models()
        .await
        .unwrap();
    assert_eq!(probes(&emulator), 1);
    // The first client is gone; the next one finds the engine warm.
    client(&config, Duration::ZERO).models().await.unwrap();
    assert_eq!(probes(&emulator), 1, "no new probe within the linger time");
    assert_eq!(emulator.request_count("GET", "/api/v0/models"), 2);
    // That client lingered for zero time: the next one starts afresh.
    let fresh = client(&config, Duration::ZERO);
    fresh.models().await.unwrap();
    assert_eq!(
        probes(&emulator),
        2,
        "after the linger time the server is probed again"
    );
    assert_eq!(
        fresh.server_info().await.unwrap().kind,
        ServerKind::LmStudio(NativeApi::V0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_replaced_on_the_same_port_is_detected_again() {
    let old = Emulator::builder()
        .profile(Profile::V0_3)
        .start_threaded_fresh()
        .unwrap();
    let port = old.port();
    let config = config_for(&old, PreloadMode::Off);
    let client = separate_builder(&config, &Recorder::default())
        .catalog_ttl(Duration::ZERO)
        .build()
        .unwrap();
    assert_eq!(
        client.server_info().await.unwrap().kind,
        ServerKind::LmStudio(NativeApi::V0)
    );
    drop(old);
    // The emulator's thread stops asynchronously (its listener first, its connections a
    // moment later): wait until the client's own calls stop being answered.
    let mut err = None;
    for _ in 0..1_000 {
        match client.models().await {
            Err(e) => {
                err = Some(e);
                break;
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
    let err = err.expect("the old server stopped answering");
    assert!(err.is_not_responding(), "{err}");
    assert!(
        client.detected_server().is_none(),
        "a refused connection forgets the detection"
    );
    let new = Emulator::builder()
        .profile(Profile::V0_4)
        .port(port)
        .start_threaded_fresh()
        .unwrap();
    assert_eq!(
        client.server_info().await.unwrap().kind,
        ServerKind::LmStudio(NativeApi::V1)
    );
    drop(new);
}

#[test]
fn seed_calls_from_runtimes_that_come_and_go_share_the_engine_without_hanging() {
    let emulator = Emulator::builder()
        .model(CatalogModel::gpt_oss_20b().downloaded(true))
        .start_threaded_fresh()
        .unwrap();
    let config = config_for(&emulator, PreloadMode::Wait);
    // Each runtime opens connections into the shared pool, then shuts down; the next one
    // must not be handed a connection whose runtime is gone.
    for round in 0..4 {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(20), ensure_oss_ready(&config))
                .await
                .unwrap_or_else(|_| panic!("round {round} hung"))
                .unwrap();
        });
    }
    // Two runtimes alive at once, on two threads.
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let config = config.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    for _ in 0..5 {
                        tokio::time::timeout(Duration::from_secs(20), ensure_oss_ready(&config))
                            .await
                            .expect("no hang")
                            .unwrap();
                    }
                });
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(loads(&emulator), 1);
    assert_eq!(downloads(&emulator), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_of_a_flow_goes_to_the_reporter_it_was_given() {
    let emulator = small_model_server().await;
    let config = config_for(&emulator, PreloadMode::Background);
    let client_events = Recorder::default();
    let client = separate_client(&config, &client_events);
    let flow_events = Recorder::default();
    client
        .ensure_ready_with(
            MODEL,
            PreloadMode::Background,
            Arc::new(flow_events.clone()),
        )
        .await
        .unwrap();
    // The chat waits for the background preload, so its events are in by then.
    client
        .chat(ChatCompletionRequest::new(
            MODEL,
            vec![ChatMessage::user("hi")],
        ))
        .await
        .unwrap();
    let events = flow_events.events();
    for wanted in [
        "DownloadStarted",
        "DownloadFinished",
        "LoadStarted",
        "LoadFinished",
    ] {
        assert!(
            events.iter().any(|e| format!("{e:?}").starts_with(wanted)),
            "{wanted} missing from {events:?}"
        );
    }
    assert!(
        client_events
            .events()
            .iter()
            .all(|e| matches!(e, ProgressEvent::WaitingForLoad { .. })),
        "only the chat's own wait goes to the client's reporter: {:?}",
        client_events.events()
    );
}

#[tokio::test]
async fn forget_server_and_private_engines_share_nothing() {
    let emulator = Emulator::builder()
        .profile(Profile::V0_3)
        .start_fresh()
        .await
        .unwrap();
    let config = config_for(&emulator, PreloadMode::Off);
    let probes = || emulator.request_count("GET", "/api/v1/models");
    let keeper = separate_builder(&config, &Recorder::default())
        .catalog_ttl(Duration::ZERO)
        .build()
        .unwrap();
    keeper.models().await.unwrap();
    assert_eq!(probes(), 1);
    // A private engine detects on its own, while the shared one is still held.
    let private = separate_builder(&config, &Recorder::default())
        .private_engine()
        .build()
        .unwrap();
    private.models().await.unwrap();
    assert_eq!(probes(), 2);
    // After forget_server, a new client gets a new engine; the keeper keeps its own.
    assert_eq!(vtcode_lmstudio::forget_server(&emulator.url()), 1);
    let after = separate_client(&config, &Recorder::default());
    after.models().await.unwrap();
    assert_eq!(probes(), 3);
    keeper.models().await.unwrap();
    assert_eq!(probes(), 3, "the keeper's engine still knows the server");
    assert_eq!(vtcode_lmstudio::forget_server("not a url"), 0);
}
