//! Fault catalogue (docs/faults.md): `lms` output that contradicts itself: valid JSON with a
//! failing exit code, bytes that are not UTF-8, progress followed by a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(unix)] // fake `lms` executables are `#!/bin/sh` scripts

use crate::common;

use common::FakeLms;
use lmstudio_lms::{GetOptions, LmsError};

#[tokio::test]
async fn valid_json_with_a_failing_exit_code_is_failed() {
    // The exit code wins: a listing printed by a command that then failed is not trusted.
    let fake = FakeLms::new(|_| {
        "echo '[]'\necho 'Error: lost the connection to LM Studio' >&2\nexit 2".to_owned()
    });
    match fake.lms.ls().await {
        Err(LmsError::Failed {
            command,
            status,
            stderr_tail,
        }) => {
            assert_eq!(command, "lms ls --json");
            assert_eq!(status, "exit code 2");
            assert_eq!(stderr_tail, "Error: lost the connection to LM Studio");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn output_that_is_not_utf8_is_invalid_json() {
    let fake = FakeLms::new(|_| "printf '\\377\\376[1'".to_owned());
    match fake.lms.ps().await {
        Err(LmsError::InvalidJson {
            command, excerpt, ..
        }) => {
            assert_eq!(command, "lms ps --json");
            assert!(excerpt.ends_with("[1"), "{excerpt:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn progress_then_a_failure_reports_both() {
    let fake = FakeLms::new(|_| {
        "printf '\\r⠋ [███ ] 30.00%% | 300.00 MB / 1.00 GB | 10.00 MB/s | ETA 01:10'\n\
         echo >&2\necho 'Error: connection reset by peer' >&2\nexit 1"
            .to_owned()
    });
    let mut events = Vec::new();
    let result = fake
        .lms
        .get("a/b", &GetOptions::default(), &mut |p| events.push(p))
        .await;
    match result {
        Err(LmsError::Failed {
            status,
            stderr_tail,
            ..
        }) => {
            assert_eq!(status, "exit code 1");
            assert!(stderr_tail.ends_with("Error: connection reset by peer"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].downloaded_bytes, 300_000_000);
}
