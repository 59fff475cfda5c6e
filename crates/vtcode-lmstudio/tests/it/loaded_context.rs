//! The context a model really loaded with, read back after every load: the requested and the
//! actual context in the outcome and the report, and a warning when LM Studio gave another one.

use crate::support::StartFresh;
use std::time::Duration;

use lmstudio_testkit::{CatalogModel, Emulator, Profile};
use vtcode_config::{PreloadMode, VTCodeConfig};
use vtcode_lmstudio::{LMStudioClient, LoadOutcome, LoadStep, LoadedContext, NoProgress};

const MODEL: &str = "openai/gpt-oss-20b";

async fn server(profile: Profile) -> Emulator {
    Emulator::builder()
        .profile(profile)
        .model(
            CatalogModel::gpt_oss_20b()
                .downloaded(true)
                .max_context_length(4096),
        )
        .start_fresh()
        .await
        .unwrap()
}

fn client(emulator: &Emulator, context_length: Option<u32>) -> LMStudioClient {
    client_with_lms(
        emulator,
        context_length,
        "/nonexistent/lms-for-tests".into(),
    )
}

fn client_with_lms(
    emulator: &Emulator,
    context_length: Option<u32>,
    lms: std::path::PathBuf,
) -> LMStudioClient {
    let mut config = VTCodeConfig::default()
        .with_base_url(emulator.url())
        .with_preload(PreloadMode::Wait)
        .with_lms_path(lms);
    config.lmstudio.api_token_env = "VTCODE_LMSTUDIO_TESTS_NO_TOKEN".to_owned();
    config.lmstudio.context_length = context_length;
    LMStudioClient::builder(&config)
        .reporter(std::sync::Arc::new(NoProgress))
        .poll_interval(Duration::from_millis(10))
        .build()
        .unwrap()
}

fn context_of(step: &LoadStep) -> LoadedContext {
    match step {
        LoadStep::Loaded { context, .. } => *context,
        other => panic!("expected Loaded, got {other:?}"),
    }
}

#[tokio::test]
async fn a_context_above_the_models_maximum_is_reported_with_a_warning() {
    let emulator = server(Profile::V0_4).await;
    let report = client(&emulator, Some(8192))
        .ensure_ready(MODEL)
        .await
        .unwrap();
    let context = context_of(&report.load);
    assert_eq!(context.requested, Some(8192));
    assert_eq!(
        context.actual,
        Some(4096),
        "read back from the load's answer"
    );
    assert!(context.differs());
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("4096") && w.contains("8192")),
        "{:?}",
        report.warnings
    );
}

#[tokio::test]
async fn a_context_that_fits_is_reported_without_a_warning() {
    let emulator = server(Profile::V0_4).await;
    let report = client(&emulator, Some(2048))
        .ensure_ready(MODEL)
        .await
        .unwrap();
    let context = context_of(&report.load);
    assert_eq!(
        (context.requested, context.actual),
        (Some(2048), Some(2048))
    );
    assert!(!context.differs());
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    // The outcome of a direct load says the same.
    let again = client(&emulator, Some(2048)).load(MODEL).await.unwrap();
    assert!(matches!(again, LoadOutcome::AlreadyLoaded { .. }));
}

#[tokio::test]
async fn without_a_request_the_actual_context_is_still_read_back() {
    let emulator = server(Profile::V0_4).await;
    let report = client(&emulator, None).ensure_ready(MODEL).await.unwrap();
    let context = context_of(&report.load);
    assert_eq!(context.requested, None);
    assert!(context.actual.is_some_and(|c| c <= 4096), "{context:?}");
    assert!(!context.differs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_server_is_read_back_from_its_model_list() {
    // 0.3: `lms load` (the testkit's fake `lms`) answers nothing about the context; the model
    // list (`/api/v0/models` `loaded_context_length`) says what the instance got.
    let emulator = server(Profile::V0_3).await;
    let dir = tempfile::tempdir().unwrap();
    let lms = crate::support::fake_lms(
        dir.path(),
        &emulator.url(),
        &lmstudio_testkit::FakeLmsOptions::default(),
    );
    let report = client_with_lms(&emulator, Some(8192), lms)
        .ensure_ready(MODEL)
        .await
        .unwrap();
    let context = context_of(&report.load);
    assert_eq!(context.requested, Some(8192));
    assert!(
        context.actual.is_some_and(|c| c <= 4096),
        "read back from /api/v0/models: {context:?}"
    );
    assert!(context.differs());
    assert!(!report.warnings.is_empty());
}
