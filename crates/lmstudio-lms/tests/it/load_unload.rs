//! `Lms::load` and `Lms::unload`: exact argv, failures, noisy stdout, time limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(unix)] // fake `lms` executables are `#!/bin/sh` scripts

use crate::common;

use std::time::Duration;

use common::{FakeLms, proc_exists, record_args, record_pid, wait_for_pid};
use lmstudio_lms::{LmsError, LoadOptions};

/// A fake lms that records its argv and prints what `lms load` prints.
fn recording() -> FakeLms {
    FakeLms::new(|dir| {
        format!(
            "{}\nprintf '\\rLoading model 50%% ⠋\\rLoading model 100%% ⠙'\n\
             echo 'Model loaded successfully in 1.20s.' >&2\n\
             echo 'To use the model in the API/SDK, use the identifier \"x\".' >&2",
            record_args(dir)
        )
    })
}

#[tokio::test]
async fn load_passes_every_option_in_order() {
    let fake = recording();
    let options = LoadOptions::default()
        .with_context_length(Some(32768))
        .with_ttl_seconds(Some(3600))
        .with_gpu("max")
        .with_identifier("my-model:fast");
    fake.lms.load("openai/gpt-oss-20b", &options).await.unwrap();
    assert_eq!(
        fake.recorded_args().unwrap(),
        [
            "load",
            "openai/gpt-oss-20b",
            "--yes",
            "-c",
            "32768",
            "--ttl",
            "3600",
            "--gpu",
            "max",
            "--identifier",
            "my-model:fast",
        ]
    );
}

#[tokio::test]
async fn load_with_defaults_is_minimal() {
    let fake = recording();
    fake.lms
        .load("qwen/qwen3-4b", &LoadOptions::default())
        .await
        .unwrap();
    assert_eq!(
        fake.recorded_args().unwrap(),
        ["load", "qwen/qwen3-4b", "--yes"]
    );
}

#[tokio::test]
async fn unload_passes_the_identifier() {
    let fake = recording();
    fake.lms.unload("qwen/qwen3-4b:2").await.unwrap();
    assert_eq!(fake.recorded_args().unwrap(), ["unload", "qwen/qwen3-4b:2"]);
}

#[tokio::test]
async fn load_failure_has_exit_code_and_stderr() {
    let fake = FakeLms::new(|_| {
        "echo 'Error: Model not found' >&2\necho 'No model found that matches model key \"nope\"' >&2\nexit 1"
            .to_owned()
    });
    match fake.lms.load("nope", &LoadOptions::default()).await {
        Err(LmsError::Failed {
            command,
            status,
            stderr_tail,
        }) => {
            assert_eq!(command, "lms load nope --yes");
            assert_eq!(status, "exit code 1");
            assert_eq!(
                stderr_tail,
                "Error: Model not found\nNo model found that matches model key \"nope\""
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn unload_failure_is_reported() {
    let fake = FakeLms::new(|_| "echo 'Error: no such instance' >&2\nexit 1".to_owned());
    let err = fake.lms.unload("ghost").await.unwrap_err();
    assert!(matches!(err, LmsError::Failed { .. }), "{err:?}");
    assert!(err.to_string().contains("no such instance"));
}

#[tokio::test]
async fn hundred_megabytes_of_spinner_output_do_not_deadlock() {
    let fake = FakeLms::new(|_| {
        "yes 'Loading model 42% ⠋' | head -c 100000000\necho 'Model loaded successfully.' >&2"
            .to_owned()
    });
    fake.lms.load("a/b", &LoadOptions::default()).await.unwrap();
}

#[tokio::test]
async fn load_time_limit_is_configurable() {
    let fake = FakeLms::new(|dir| format!("{}\nexec sleep 1000", record_pid(dir)));
    let lms = fake.lms.clone().with_timeout(Duration::from_secs(2));
    assert_eq!(lms.timeout(), Duration::from_secs(2));
    assert_eq!(fake.lms.timeout(), lmstudio_lms::DEFAULT_TIMEOUT);
    match lms.load("a/b", &LoadOptions::default()).await {
        Err(LmsError::Timeout { command, limit, .. }) => {
            assert_eq!(command, "lms load a/b --yes");
            assert_eq!(limit, Duration::from_secs(2));
        }
        other => panic!("{other:?}"),
    }
    let pid = wait_for_pid(fake.dir.path()).await;
    assert!(!proc_exists(pid));
}

#[tokio::test]
async fn bad_options_are_refused_before_running() {
    let fake = recording();
    let cases = [
        LoadOptions::default().with_gpu("1.5"),
        LoadOptions::default().with_context_length(Some(0)),
        LoadOptions::default().with_ttl_seconds(Some(0)),
        LoadOptions::default().with_identifier("--all"),
    ];
    for options in cases {
        let err = fake.lms.load("a/b", &options).await.unwrap_err();
        assert!(
            matches!(
                err,
                LmsError::InvalidOption { .. } | LmsError::InvalidModelArg { .. }
            ),
            "{options:?}: {err:?}"
        );
    }
    assert!(fake.recorded_args().is_none(), "lms must not have run");
}
