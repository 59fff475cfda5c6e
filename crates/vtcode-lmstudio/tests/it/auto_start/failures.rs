//! A start that fails: `lms server start` exits 1, `lms` hangs, `lms` says "Success!" but
//! nothing answers, no `lms` at all. Each is the seed's verbatim "LM Studio is not responding"
//! error, with why the start failed (and what `lms` printed) in its source chain.

use std::io::ErrorKind;
use std::time::Duration;

use lmstudio_testkit::{FakeLmsOptions, StartAnswer};
use vtcode_lmstudio::{LmStudioError, NOT_RESPONDING_MESSAGE, ProgressEvent, ServerStartError};

use super::{Down, MODEL, chain};
use crate::support::Recorder;

/// `ensure_ready`'s error, checked to be the seed's not-responding error.
async fn readiness_error(down: &Down, start_timeout_ms: u64) -> LmStudioError {
    let mut config = down.config();
    config.lmstudio.start_timeout_ms = start_timeout_ms;
    let err = down
        .client(&config, &Recorder::default())
        .ensure_ready(MODEL)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), NOT_RESPONDING_MESSAGE);
    assert!(err.is_not_responding(), "{err:?}");
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_lms_server_start_is_not_responding_with_what_lms_printed() {
    let down = Down::new(
        |_| StartAnswer::Nothing,
        FakeLmsOptions::new()
            .only_for("server")
            .stderr_line("Error: LM Studio could not be started (the fake says so)")
            .exit_with(1),
    );
    let err = readiness_error(&down, 30_000).await;
    assert!(
        matches!(err.server_start_error(), Some(ServerStartError::Failed { port, command, .. })
            if *port == down.port && command == &format!("lms server start --port {}", down.port)),
        "{err:?}"
    );
    let messages = chain(&err);
    assert!(
        messages.iter().any(
            |m| m.contains("LM Studio could not be started (the fake says so)")
                && m.contains("exit code 1")
        ),
        "{messages:#?}"
    );
    // Through the seed API: the kind of a refused connection, the message verbatim, the
    // typed error inside.
    let io = std::io::Error::from(err);
    assert_eq!(io.kind(), ErrorKind::ConnectionRefused);
    assert_eq!(io.to_string(), NOT_RESPONDING_MESSAGE);
    assert_eq!(down.starts().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_that_never_answers_stops_at_the_start_timeout() {
    // The port is bound but never answers; the fake `lms` keeps checking it (5 s), longer than
    // the limit, so the library stops it there.
    let down = Down::new(|_| StartAnswer::Silent, FakeLmsOptions::new());
    let recorder = Recorder::default();
    let mut config = down.config();
    config.lmstudio.start_timeout_ms = 400;
    let err = down
        .client(&config, &recorder)
        .ensure_ready(MODEL)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), NOT_RESPONDING_MESSAGE);
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        matches!(err.server_start_error(), Some(ServerStartError::TimedOut { limit, .. })
            if *limit == Duration::from_millis(400)),
        "{err:?}"
    );
    let messages = chain(&err);
    assert!(
        messages
            .iter()
            .any(|m| m.contains("within 400 ms") && m.contains("start_timeout_ms")),
        "{messages:#?}"
    );
    assert_eq!(std::io::Error::from(err).kind(), ErrorKind::TimedOut);
    assert!(
        recorder
            .events()
            .contains(&ProgressEvent::StartingServer { port: down.port }),
        "{:?}",
        recorder.events()
    );
    assert!(
        !recorder
            .events()
            .iter()
            .any(|e| matches!(e, ProgressEvent::ServerStarted { .. }))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lms_saying_success_while_nothing_answers_times_out_waiting_for_the_greeting() {
    // `lms server start` exits 0 at once without starting anything.
    let down = Down::new(
        |_| StartAnswer::Nothing,
        FakeLmsOptions::new().only_for("server").exit_with(0),
    );
    let err = readiness_error(&down, 300).await;
    assert!(err.is_timeout(), "{err:?}");
    let messages = chain(&err);
    assert!(
        messages.iter().any(|m| m.contains("within 300 ms")),
        "{messages:#?}"
    );
    // The last greeting's error is kept: the port still refuses.
    assert!(
        messages.iter().any(|m| m.contains("refused")),
        "{messages:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_lms_is_stopped_at_the_start_timeout() {
    let down = Down::new(
        |_| StartAnswer::Nothing,
        FakeLmsOptions::new().only_for("server").hang(),
    );
    let err = readiness_error(&down, 300).await;
    assert!(err.is_timeout(), "{err:?}");
    let messages = chain(&err);
    assert!(
        messages
            .iter()
            .any(|m| m.contains("lms server start --port") && m.contains("timed out")),
        "{messages:#?}"
    );
}

#[tokio::test]
async fn without_lms_nothing_can_start_it_and_the_error_says_why() {
    let down = Down::with_emulator();
    let mut config = down.config();
    config.lmstudio.lms_path = Some("/nonexistent/lms-for-tests".into());
    let err = down
        .client(&config, &Recorder::default())
        .ensure_ready(MODEL)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), NOT_RESPONDING_MESSAGE);
    assert!(
        matches!(err.server_start_error(), Some(ServerStartError::NoLms { port, .. }) if *port == down.port),
        "{err:?}"
    );
    assert!(
        chain(&err)
            .iter()
            .any(|m| m.contains("/nonexistent/lms-for-tests")),
        "{:#?}",
        chain(&err)
    );
    assert!(down.watcher.requests().is_empty());
}

#[tokio::test]
async fn a_zero_start_timeout_is_refused_when_building() {
    let down = Down::with_emulator();
    let err = crate::support::builder_for(&down.config(), &Recorder::default())
        .start_timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(matches!(err, LmStudioError::Config(_)), "{err:?}");
    assert!(err.to_string().contains("start_timeout_ms"), "{err}");
}
