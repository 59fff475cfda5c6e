//! Memory and LM Link through the facade, with the testkit's fake `lms`: `resources()` (the
//! hardware survey plus what is loaded), the memory estimate before a load (a warning and a
//! progress event when the model will not fit, nothing when it fits, never a failure), and
//! the LM Link device and idle TTL of instances in `status()`, `ModelInfo` and the report.

use crate::support::{self, Recorder, StartFresh, builder_for, config_for, fake_lms};

use std::path::Path;
use std::time::Duration;

use lmstudio_testkit::fake_lms::{FakeEstimate, FakeSurvey, Grouping};
use lmstudio_testkit::{CatalogModel, Emulator, FakeLmsOptions, Profile};
use vtcode_config::{PreloadMode, VTCodeConfig};
use vtcode_lmstudio::{LMStudioClient, LoadMethod, LoadStep, ProgressEvent, ReadinessReport};

const MODEL: &str = "openai/gpt-oss-20b";
const GIB: u64 = 1 << 30;
const TEN_MINUTES: Duration = Duration::from_secs(600);

/// A 0.4 emulator with MODEL downloaded (loaded when `loaded`).
async fn emulator(loaded: bool) -> Emulator {
    Emulator::builder()
        .profile(Profile::V0_4)
        .model(
            CatalogModel::gpt_oss_20b()
                .downloaded(true)
                .loaded(loaded)
                .size_bytes(12 * GIB),
        )
        .start_fresh()
        .await
        .unwrap()
}

/// A config for `url` whose `lms` is the fake wired to `emulator`, recording its arguments in
/// `dir/args.txt`.
fn config_with_lms(
    dir: &Path,
    url: &str,
    emulator: &Emulator,
    options: FakeLmsOptions,
) -> VTCodeConfig {
    let options = options.record_args_to(dir.join("args.txt"));
    let mut config = config_for(url);
    config.lmstudio.lms_path = Some(fake_lms(dir, &emulator.url(), &options));
    config
}

fn client(config: &VTCodeConfig, recorder: &Recorder) -> LMStudioClient {
    builder_for(config, recorder).build().unwrap()
}

/// The `lms` command lines the fake recorded, joined by spaces, each without the `--port N`
/// every one of them must end with (checked here: these are all client commands).
fn recorded(dir: &Path) -> Vec<String> {
    lmstudio_testkit::recorded_calls(&dir.join("args.txt"))
        .unwrap()
        .into_iter()
        .map(|mut call| {
            let n = call.len();
            assert!(
                n >= 2 && call[n - 2] == "--port" && call[n - 1].parse::<u16>().is_ok(),
                "a call without --port: {call:?}"
            );
            call.truncate(n - 2);
            call.join(" ")
        })
        .collect()
}

fn estimates(recorder: &Recorder) -> Vec<vtcode_lmstudio::LoadEstimate> {
    recorder
        .events()
        .into_iter()
        .filter_map(|e| match e {
            ProgressEvent::MemoryEstimate { model, estimate } => {
                assert_eq!(model, MODEL);
                Some(estimate)
            }
            _ => None,
        })
        .collect()
}

fn memory_warnings(report: &ReadinessReport) -> Vec<&String> {
    report
        .warnings
        .iter()
        .filter(|w| w.contains("may not fit in memory"))
        .collect()
}

// resources()

#[tokio::test]
async fn resources_report_the_survey_and_the_loaded_instances_with_device_and_ttl() {
    let emulator = emulator(true).await;
    let dir = tempfile::tempdir().unwrap();
    let options = FakeLmsOptions::new()
        .survey(FakeSurvey::Cuda)
        .ps_field("deviceIdentifier", "mac-studio")
        .ps_field("ttlMs", 600_000);
    let config = config_with_lms(dir.path(), &emulator.url(), &emulator, options);
    let resources = client(&config, &Recorder::default())
        .resources()
        .await
        .unwrap();
    assert!(resources.notes.is_empty(), "{:?}", resources.notes);
    let engine = resources.primary_engine().unwrap();
    assert_eq!(engine.engine.as_deref(), Some("llama.cpp"));
    assert!(engine.is_compatible());
    assert_eq!(engine.gpus.len(), 1);
    assert_eq!(
        engine.gpus[0].name.as_deref(),
        Some("NVIDIA GeForce RTX 4090")
    );
    assert_eq!(engine.gpus[0].memory_bytes, Some(24 * GIB));
    assert_eq!(engine.gpu_memory_bytes(), Some(24 * GIB));
    assert_eq!(engine.ram_bytes, Some(64 * GIB));
    assert_eq!(engine.vram_bytes, Some(24 * GIB));
    assert_eq!(resources.loaded.len(), 1);
    let instance = &resources.loaded[0];
    assert_eq!(instance.instance_id, MODEL);
    assert_eq!(instance.size_bytes, Some(12 * GIB));
    assert!(instance.context_length.is_some());
    assert_eq!(instance.device.as_deref(), Some("mac-studio"));
    assert_eq!(instance.ttl, Some(TEN_MINUTES));
    assert_eq!(resources.loaded_size_bytes(), 12 * GIB);
    let calls = recorded(dir.path());
    assert!(
        calls.contains(&"runtime survey --json".to_owned()),
        "{calls:?}"
    );
}

#[tokio::test]
async fn an_integrated_gpu_shows_its_total_memory() {
    let emulator = emulator(false).await;
    let dir = tempfile::tempdir().unwrap();
    let options = FakeLmsOptions::new().survey(FakeSurvey::AppleSilicon);
    let config = config_with_lms(dir.path(), &emulator.url(), &emulator, options);
    let resources = client(&config, &Recorder::default())
        .resources()
        .await
        .unwrap();
    assert_eq!(resources.engines.len(), 2);
    let engine = resources.primary_engine().unwrap();
    assert_eq!(engine.name.as_deref(), Some("Metal llama.cpp"));
    assert_eq!(engine.gpus[0].dedicated_memory_bytes, Some(0));
    assert_eq!(engine.gpus[0].memory_bytes, Some(48 * GIB));
    assert!(resources.loaded.is_empty());
}

#[tokio::test]
async fn a_hostile_survey_gives_unknowns_not_an_error() {
    let emulator = emulator(false).await;
    let dir = tempfile::tempdir().unwrap();
    let options = FakeLmsOptions::new().survey(FakeSurvey::Hostile);
    let config = config_with_lms(dir.path(), &emulator.url(), &emulator, options);
    let resources = client(&config, &Recorder::default())
        .resources()
        .await
        .unwrap();
    let engine = resources.primary_engine().unwrap();
    let memory: Vec<Option<u64>> = engine.gpus.iter().map(|g| g.memory_bytes).collect();
    assert_eq!(memory, [None, Some(24 * GIB), Some(24 * GIB)]);
    assert_eq!(engine.ram_bytes, Some(u64::MAX));
    assert_eq!((engine.vram_bytes, engine.total_memory_bytes), (None, None));
    assert_eq!(engine.gpu_memory_bytes(), Some(48 * GIB));
}

#[tokio::test]
async fn a_broken_or_empty_survey_is_a_note_and_the_rest_is_still_there() {
    for (survey, wanted) in [
        (
            FakeSurvey::Malformed,
            "the hardware survey failed: JSON parse error",
        ),
        (FakeSurvey::NoEngines, "lists no runtime engine"),
    ] {
        let emulator = emulator(true).await;
        let dir = tempfile::tempdir().unwrap();
        let options = FakeLmsOptions::new().survey(survey);
        let config = config_with_lms(dir.path(), &emulator.url(), &emulator, options);
        let resources = client(&config, &Recorder::default())
            .resources()
            .await
            .unwrap();
        assert!(resources.engines.is_empty(), "{survey:?}");
        assert!(
            resources.notes.iter().any(|n| n.contains(wanted)),
            "{survey:?}: {:?}",
            resources.notes
        );
        assert_eq!(resources.loaded.len(), 1, "{survey:?}");
    }
}

#[tokio::test]
async fn without_lms_resources_say_what_is_missing() {
    let emulator = emulator(true).await;
    let config = config_for(&emulator.url()); // lms_path points nowhere
    let resources = client(&config, &Recorder::default())
        .resources()
        .await
        .unwrap();
    assert!(resources.engines.is_empty());
    assert_eq!(resources.loaded.len(), 1);
    assert_eq!(resources.loaded[0].ttl, None);
    assert!(
        resources
            .notes
            .iter()
            .any(|n| n.starts_with("no hardware survey: ") && n.contains("lms not found at")),
        "{:?}",
        resources.notes
    );
    assert!(
        resources
            .notes
            .iter()
            .any(|n| n.contains("TTLs and LM Link devices")),
        "{:?}",
        resources.notes
    );
    assert!(resources.limits().contains("no live memory usage"));
}

#[tokio::test]
async fn resources_of_an_unreachable_server_is_not_responding() {
    let url = format!("http://127.0.0.1:{}", lmstudio_testkit::closed_port());
    support::fresh(&url);
    let err = client(&config_for(&url), &Recorder::default())
        .resources()
        .await
        .unwrap_err();
    assert!(err.is_not_responding(), "{err:?}");
}

// The estimate before a load

#[tokio::test]
async fn a_model_that_will_not_fit_is_a_warning_and_an_event_and_still_loads() {
    let emulator = emulator(false).await;
    let dir = tempfile::tempdir().unwrap();
    let options = FakeLmsOptions::new().estimate(
        FakeEstimate::will_fail()
            .coloured()
            .low_confidence()
            .grouping(Grouping::NarrowNoBreakSpace)
            .memory(30 * GIB, 31 * GIB),
    );
    let mut config = config_with_lms(dir.path(), &emulator.url(), &emulator, options);
    config.lmstudio.context_length = Some(32_768);
    let recorder = Recorder::default();
    let report = client(&config, &recorder)
        .ensure_ready(MODEL)
        .await
        .unwrap();

    let warnings = memory_warnings(&report);
    assert_eq!(warnings.len(), 1, "{:?}", report.warnings);
    assert!(
        warnings[0].contains("30.00 GiB of GPU memory and 31.00 GiB in all"),
        "{}",
        warnings[0]
    );
    assert!(warnings[0].contains("(low confidence)"), "{}", warnings[0]);
    let estimate = report.memory_estimate.as_ref().unwrap();
    assert!(estimate.will_fail());
    assert_eq!(estimate.context_length, Some(32_768));
    assert_eq!(estimate.gpu_memory_bytes, 30 * GIB);
    assert_eq!(estimates(&recorder), std::slice::from_ref(estimate));
    // The estimate comes before the load, and never stops it.
    let events = recorder.events();
    let at = |wanted: fn(&ProgressEvent) -> bool| events.iter().position(wanted).unwrap();
    assert!(
        at(|e| matches!(e, ProgressEvent::MemoryEstimate { .. }))
            < at(|e| matches!(e, ProgressEvent::LoadStarted { .. })),
        "{events:?}"
    );
    assert!(
        matches!(report.load, LoadStep::Loaded { .. }),
        "{:?}",
        report.load
    );
    assert_eq!(emulator.loaded_instances(MODEL).len(), 1);
    assert!(
        recorded(dir.path()).contains(&format!("load {MODEL} --yes --estimate-only -c 32768")),
        "{:?}",
        recorded(dir.path())
    );
}

#[tokio::test]
async fn a_model_that_fits_gives_the_estimate_and_no_warning() {
    let emulator = emulator(false).await;
    let dir = tempfile::tempdir().unwrap();
    let options = FakeLmsOptions::new().estimate(FakeEstimate::fits().coloured());
    let config = config_with_lms(dir.path(), &emulator.url(), &emulator, options);
    let recorder = Recorder::default();
    let report = client(&config, &recorder)
        .ensure_ready(MODEL)
        .await
        .unwrap();
    assert!(memory_warnings(&report).is_empty(), "{:?}", report.warnings);
    let estimate = report.memory_estimate.as_ref().unwrap();
    assert!(!estimate.will_fail());
    assert!(estimate.total_memory_bytes > 12 * GIB, "{estimate:?}");
    assert_eq!(estimates(&recorder).len(), 1);
    assert!(matches!(report.load, LoadStep::Loaded { .. }));
}

#[tokio::test]
async fn a_background_preload_estimates_in_its_task_and_reports_the_event() {
    let emulator = emulator(false).await;
    let dir = tempfile::tempdir().unwrap();
    let options = FakeLmsOptions::new().estimate(FakeEstimate::will_fail());
    let mut config = config_with_lms(dir.path(), &emulator.url(), &emulator, options);
    config.lmstudio.preload = PreloadMode::Background;
    let recorder = Recorder::default();
    let report = client(&config, &recorder)
        .ensure_ready(MODEL)
        .await
        .unwrap();
    assert_eq!(report.load, LoadStep::Background);
    // The report is returned before the background task estimates: it cannot carry it.
    assert_eq!(report.memory_estimate, None);
    assert!(memory_warnings(&report).is_empty(), "{:?}", report.warnings);
    recorder
        .until(|e| matches!(e, ProgressEvent::LoadFinished { .. }))
        .await;
    let events = recorder.events();
    let at = |wanted: fn(&ProgressEvent) -> bool| events.iter().position(wanted).unwrap();
    assert!(
        at(|e| matches!(e, ProgressEvent::MemoryEstimate { .. }))
            < at(|e| matches!(e, ProgressEvent::LoadStarted { .. })),
        "{events:?}"
    );
    assert!(estimates(&recorder)[0].will_fail());
}

/// Polls the fake's record until a `load --estimate-only` call is in it (bounded).
async fn estimate_calls_once_started(dir: &Path) -> usize {
    for _ in 0..3000 {
        let count = estimate_calls(dir);
        if count > 0 {
            return count;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no estimate was started: {:?}", recorded(dir));
}

fn estimate_calls(dir: &Path) -> usize {
    recorded(dir)
        .iter()
        .filter(|c| c.starts_with("load") && c.contains("--estimate-only"))
        .count()
}

#[tokio::test]
async fn a_background_preload_returns_at_once_even_when_the_estimate_hangs() {
    let emulator = emulator(false).await;
    let dir = tempfile::tempdir().unwrap();
    // `lms load` (only the estimate here: 0.4 without a TTL loads over REST) never finishes,
    // and the info limit is far away.
    let options = FakeLmsOptions::new().only_for("load").hang();
    let mut config = config_with_lms(dir.path(), &emulator.url(), &emulator, options);
    config.lmstudio.preload = PreloadMode::Background;
    let recorder = Recorder::default();
    let client = builder_for(&config, &recorder)
        .lms_info_timeout(Duration::from_secs(3600))
        .build()
        .unwrap();
    // Generous: a hang becomes a failure, not a stuck test.
    let report = tokio::time::timeout(Duration::from_secs(60), client.ensure_ready(MODEL))
        .await
        .expect("ensure_ready waited for the estimate")
        .unwrap();
    assert_eq!(report.load, LoadStep::Background);
    assert_eq!(report.memory_estimate, None);
    // The background task runs the estimate, which is still held: nothing is loaded yet.
    assert_eq!(estimate_calls_once_started(dir.path()).await, 1);
    assert!(emulator.loaded_instances(MODEL).is_empty());
    assert!(estimates(&recorder).is_empty());

    // A second call while that load is pending does not estimate again: its own background
    // load goes ahead and loads the model.
    let again = tokio::time::timeout(Duration::from_secs(60), client.ensure_ready(MODEL))
        .await
        .expect("the second ensure_ready waited")
        .unwrap();
    assert_eq!(again.load, LoadStep::Background);
    recorder
        .until(|e| matches!(e, ProgressEvent::LoadFinished { .. }))
        .await;
    assert_eq!(emulator.loaded_instances(MODEL).len(), 1);
    assert_eq!(estimate_calls(dir.path()), 1, "{:?}", recorded(dir.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_concurrent_readiness_checks_run_one_estimate() {
    let emulator = emulator(false).await;
    let dir = tempfile::tempdir().unwrap();
    // The estimate hangs until the info limit (5 s by default): every caller arrives while it
    // runs.
    let options = FakeLmsOptions::new().only_for("load").hang();
    let config = config_with_lms(dir.path(), &emulator.url(), &emulator, options);
    assert_eq!(config.lmstudio.preload, PreloadMode::Wait);
    let config = std::sync::Arc::new(config);
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let config = config.clone();
            tokio::spawn(
                async move { vtcode_lmstudio::ensure_oss_ready_with_report(&config).await },
            )
        })
        .collect();
    for call in calls {
        let report = call.await.unwrap().unwrap();
        assert!(matches!(
            report.load,
            LoadStep::Loaded { .. } | LoadStep::AlreadyLoaded { .. }
        ));
    }
    assert_eq!(estimate_calls(dir.path()), 1, "{:?}", recorded(dir.path()));
    assert_eq!(emulator.loaded_instances(MODEL).len(), 1);
    vtcode_lmstudio::forget_server(&emulator.url());
}

#[tokio::test]
async fn a_malformed_or_failing_estimate_never_fails_readiness() {
    for options in [
        FakeLmsOptions::new().estimate(FakeEstimate::malformed()),
        FakeLmsOptions::new()
            .only_for("load")
            .stderr_line("Error: LM Studio lost the model")
            .exit_with(1),
    ] {
        let emulator = emulator(false).await;
        let dir = tempfile::tempdir().unwrap();
        let config = config_with_lms(dir.path(), &emulator.url(), &emulator, options.clone());
        let recorder = Recorder::default();
        let report = client(&config, &recorder)
            .ensure_ready(MODEL)
            .await
            .unwrap();
        assert_eq!(report.memory_estimate, None, "{options:?}");
        assert!(memory_warnings(&report).is_empty(), "{:?}", report.warnings);
        assert!(estimates(&recorder).is_empty());
        // 0.4 loads over REST: the model is loaded all the same.
        assert!(
            matches!(
                report.load,
                LoadStep::Loaded {
                    method: LoadMethod::Rest,
                    ..
                }
            ),
            "{:?}",
            report.load
        );
    }
}

#[tokio::test]
async fn a_hanging_estimate_is_stopped_at_the_info_limit() {
    let emulator = emulator(false).await;
    let dir = tempfile::tempdir().unwrap();
    // Only `lms load` hangs, and on 0.4 the load itself goes over REST.
    let options = FakeLmsOptions::new().only_for("load").hang();
    let config = config_with_lms(dir.path(), &emulator.url(), &emulator, options);
    let recorder = Recorder::default();
    let client = builder_for(&config, &recorder)
        .lms_info_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    // Generous, and only there to turn a missing limit (a hang) into a failure.
    let report = tokio::time::timeout(Duration::from_secs(60), client.ensure_ready(MODEL))
        .await
        .expect("the estimate was not stopped at the info limit")
        .unwrap();
    assert_eq!(report.memory_estimate, None);
    assert!(
        matches!(report.load, LoadStep::Loaded { .. }),
        "{:?}",
        report.load
    );
}

#[tokio::test]
async fn no_estimate_for_a_loaded_model_or_a_zero_limit() {
    let emulator_loaded = emulator(true).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_lms(
        dir.path(),
        &emulator_loaded.url(),
        &emulator_loaded,
        FakeLmsOptions::new().estimate(FakeEstimate::will_fail()),
    );
    let report = client(&config, &Recorder::default())
        .ensure_ready(MODEL)
        .await
        .unwrap();
    assert!(matches!(report.load, LoadStep::AlreadyLoaded { .. }));
    assert_eq!(report.memory_estimate, None);
    assert!(
        !recorded(dir.path()).iter().any(|c| c.starts_with("load")),
        "{:?}",
        recorded(dir.path())
    );

    let emulator_unloaded = emulator(false).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_lms(
        dir.path(),
        &emulator_unloaded.url(),
        &emulator_unloaded,
        FakeLmsOptions::new().estimate(FakeEstimate::will_fail()),
    );
    let report = builder_for(&config, &Recorder::default())
        .lms_info_timeout(Duration::ZERO)
        .build()
        .unwrap()
        .ensure_ready(MODEL)
        .await
        .unwrap();
    assert_eq!(report.memory_estimate, None);
    assert!(memory_warnings(&report).is_empty());
    assert!(
        recorded(dir.path()).is_empty(),
        "{:?}",
        recorded(dir.path())
    );
}

#[tokio::test]
async fn estimate_load_is_also_a_call_of_its_own() {
    let emulator = emulator(false).await;
    let dir = tempfile::tempdir().unwrap();
    let options = FakeLmsOptions::new().estimate(FakeEstimate::will_fail().memory(GIB, 2 * GIB));
    let config = config_with_lms(dir.path(), &emulator.url(), &emulator, options);
    let client = client(&config, &Recorder::default());
    let estimate = client.estimate_load(MODEL).await.unwrap();
    assert!(estimate.will_fail());
    assert_eq!(estimate.total_memory_bytes, 2 * GIB);
    assert!(
        emulator.loaded_instances(MODEL).is_empty(),
        "an estimate loads nothing"
    );
    let err = client.estimate_load("no/such-model").await.unwrap_err();
    assert!(err.to_string().contains("No model found"), "{err}");
}

// LM Link devices and TTLs

#[tokio::test]
async fn status_and_the_report_show_the_device_and_ttl_from_lms_ps() {
    let emulator = emulator(false).await;
    let dir = tempfile::tempdir().unwrap();
    let options = FakeLmsOptions::new()
        .ps_field("deviceIdentifier", "mac-studio")
        .ps_field("ttlMs", 600_000);
    let config = config_with_lms(dir.path(), &emulator.url(), &emulator, options);
    let client = client(&config, &Recorder::default());
    let report = client.ensure_ready(MODEL).await.unwrap();
    let instance = report.instance.as_ref().unwrap();
    assert_eq!(instance.instance_id, MODEL);
    assert_eq!(instance.device.as_deref(), Some("mac-studio"));
    assert_eq!(instance.ttl, Some(TEN_MINUTES));
    assert_eq!(instance.size_bytes, Some(12 * GIB));

    let status = client.status().await.unwrap();
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].device.as_deref(), Some("mac-studio"));
    assert_eq!(status[0].ttl, Some(TEN_MINUTES));
}

/// A server without `/api/v0` or `/api/v1` (older LM Studio): the model list comes from
/// `lms ls` and `lms ps`, so `ModelInfo` has the device and TTL itself.
#[tokio::test]
async fn model_info_from_an_lms_listing_carries_device_and_ttl() {
    let emulator = emulator(true).await;
    let mut server = support::server().await;
    for path in ["/api/v1/models", "/api/v0/models"] {
        server
            .mock("GET", path)
            .with_body(support::unexpected_endpoint("GET", path))
            .create_async()
            .await;
    }
    server
        .mock("GET", "/lmstudio-greeting")
        .with_body(r#"{"lmstudio":true}"#)
        .create_async()
        .await;
    // `lms` talks to the port of the URL in use (it is given `--port`): what the fake's `ls`
    // and `ps` read there is the emulator's.
    let emulator_client = vtcode_lmstudio::transport::Client::builder(
        vtcode_lmstudio::transport::Endpoint::parse(&emulator.url()).unwrap(),
    )
    .build()
    .unwrap();
    for path in ["/__testkit/lms/ls", "/__testkit/lms/ps"] {
        let rows: serde_json::Value = emulator_client.get_json(path).await.unwrap();
        server
            .mock("GET", path)
            .with_body(rows.to_string())
            .create_async()
            .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let options = FakeLmsOptions::new()
        .ps_field("deviceIdentifier", "mac-studio")
        .ps_field("ttlMs", 600_000);
    let config = config_with_lms(dir.path(), &server.url(), &emulator, options);
    let client = client(&config, &Recorder::default());
    let info = client.model_info(MODEL).await.unwrap().unwrap();
    assert_eq!(info.device, None, "the model itself is on this machine");
    let instance = &info.loaded_instances[0];
    assert_eq!(instance.device.as_deref(), Some("mac-studio"));
    assert_eq!(instance.ttl, Some(TEN_MINUTES));
    let report = client.ensure_ready(MODEL).await.unwrap();
    assert!(matches!(report.load, LoadStep::AlreadyLoaded { .. }));
    let instance = report.instance.as_ref().unwrap();
    assert_eq!(instance.device.as_deref(), Some("mac-studio"));
    assert_eq!(instance.ttl, Some(TEN_MINUTES));
}

#[tokio::test]
async fn on_0_4_a_ttl_is_set_with_lms_load_never_over_rest() {
    let emulator = emulator(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = config_with_lms(
        dir.path(),
        &emulator.url(),
        &emulator,
        FakeLmsOptions::new(),
    );
    config.lmstudio.ttl_seconds = Some(600);
    let report = client(&config, &Recorder::default())
        .ensure_ready(MODEL)
        .await
        .unwrap();
    assert!(
        matches!(
            report.load,
            LoadStep::Loaded {
                method: LoadMethod::LmsCli,
                ..
            }
        ),
        "{:?}",
        report.load
    );
    assert_eq!(emulator.request_count("POST", "/api/v1/models/load"), 0);
    let calls = recorded(dir.path());
    assert!(
        calls.contains(&format!("load {MODEL} --yes --ttl 600")),
        "{calls:?}"
    );
    assert_eq!(report.instance.as_ref().unwrap().ttl, Some(TEN_MINUTES));
    assert!(
        !report.warnings.iter().any(|w| w.contains("TTL")),
        "{:?}",
        report.warnings
    );
}

#[tokio::test]
async fn on_0_4_without_lms_a_ttl_is_not_sent_and_the_report_says_so() {
    let emulator = emulator(false).await;
    let mut config = config_for(&emulator.url()); // no lms
    config.lmstudio.ttl_seconds = Some(600);
    let report = client(&config, &Recorder::default())
        .ensure_ready(MODEL)
        .await
        .unwrap();
    assert!(
        matches!(
            report.load,
            LoadStep::Loaded {
                method: LoadMethod::Rest,
                ..
            }
        ),
        "{:?}",
        report.load
    );
    let load = emulator
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == "/api/v1/models/load")
        .unwrap();
    let body = load.json().unwrap();
    assert!(
        body.get("ttl").is_none() && body.get("ttl_seconds").is_none(),
        "{body}"
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("without the idle TTL of 600 s")),
        "{:?}",
        report.warnings
    );
}

#[tokio::test]
async fn on_0_4_a_failing_lms_load_falls_back_to_rest_without_the_ttl() {
    let emulator = emulator(false).await;
    let dir = tempfile::tempdir().unwrap();
    // Every `lms load` fails (the estimate too, which is only a note).
    let options = FakeLmsOptions::new()
        .only_for("load")
        .stderr_line("Error: LM Studio could not talk to its model loader")
        .exit_with(1);
    let mut config = config_with_lms(dir.path(), &emulator.url(), &emulator, options);
    config.lmstudio.ttl_seconds = Some(600);
    let report = client(&config, &Recorder::default())
        .ensure_ready(MODEL)
        .await
        .unwrap();
    assert!(
        matches!(
            report.load,
            LoadStep::Loaded {
                method: LoadMethod::Rest,
                ..
            }
        ),
        "{:?}",
        report.load
    );
    assert!(
        recorded(dir.path()).contains(&format!("load {MODEL} --yes --ttl 600")),
        "{:?}",
        recorded(dir.path())
    );
    assert_eq!(emulator.request_count("POST", "/api/v1/models/load"), 1);
    assert_eq!(emulator.loaded_instances(MODEL).len(), 1);
    let ttl: Vec<&String> = report
        .warnings
        .iter()
        .filter(|w| w.contains("without the idle TTL of 600 s"))
        .collect();
    assert_eq!(ttl.len(), 1, "{:?}", report.warnings);
    assert!(!ttl[0].contains("  "), "a run of spaces: {:?}", ttl[0]);
}

#[tokio::test]
async fn on_0_4_a_timed_out_lms_load_is_a_timeout_not_a_second_load() {
    let emulator = emulator(false).await;
    let dir = tempfile::tempdir().unwrap();
    let options = FakeLmsOptions::new().only_for("load").hang();
    let mut config = config_with_lms(dir.path(), &emulator.url(), &emulator, options);
    config.lmstudio.ttl_seconds = Some(600);
    config.lmstudio.load_timeout_ms = 500;
    let err = builder_for(&config, &Recorder::default())
        .lms_info_timeout(Duration::ZERO)
        .build()
        .unwrap()
        .ensure_ready(MODEL)
        .await
        .unwrap_err();
    // LM Studio may still be loading what `lms` asked for: a REST load now could make a
    // second instance.
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(emulator.request_count("POST", "/api/v1/models/load"), 0);
}

#[tokio::test]
async fn the_ttl_warning_has_no_runs_of_spaces() {
    let emulator = emulator(false).await;
    let mut config = config_for(&emulator.url()); // no lms
    config.lmstudio.ttl_seconds = Some(600);
    let report = client(&config, &Recorder::default())
        .ensure_ready(MODEL)
        .await
        .unwrap();
    assert!(!report.warnings.is_empty());
    for warning in &report.warnings {
        assert!(!warning.contains("  "), "a run of spaces: {warning:?}");
    }
}

#[tokio::test]
async fn lms_for_a_server_on_another_machine_is_given_its_host() {
    // TEST-NET-1: nothing answers there; only the command line matters.
    let url = "http://192.0.2.1:41343";
    support::fresh(url);
    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("args.txt");
    let lms = fake_lms(
        dir.path(),
        url,
        &FakeLmsOptions::new().record_args_to(&calls),
    );
    let mut config = config_for(url);
    config.lmstudio.lms_path = Some(lms);
    let client = client(&config, &Recorder::default());
    // The fake, like `lms`, finds nothing at 192.0.2.1:41343 and exits 1.
    assert!(client.estimate_load(MODEL).await.is_err());
    let calls = lmstudio_testkit::recorded_calls(&calls).unwrap();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(
        calls[0].ends_with(&[
            "--host".to_owned(),
            "192.0.2.1".to_owned(),
            "--port".to_owned(),
            "41343".to_owned()
        ]),
        "{calls:?}"
    );
}
