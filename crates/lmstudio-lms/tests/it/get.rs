//! `Lms::get` against fake `lms` scripts: progress, already-downloaded, failures, big output.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(unix)] // fake `lms` executables are `#!/bin/sh` scripts

use crate::common;

use std::time::Duration;

use common::{FakeLms, record_args};
use lmstudio_lms::{DownloadProgress, GetOptions, GetOutcome, LmsError};

/// Runs `get` and collects every progress event.
async fn get(fake: &FakeLms, model: &str) -> (Result<GetOutcome, LmsError>, Vec<DownloadProgress>) {
    let mut events = Vec::new();
    let result = fake
        .lms
        .get(model, &GetOptions::default(), &mut |p| events.push(p))
        .await;
    (result, events)
}

const REDRAWS: &str = r#"
printf 'Resolution completed. Downloading 2.93 GB...\n'
printf '\033[?25l\033[s\033[2K\r⠋ [          ] 0.00%% |    0 B / 2.93 GB |    0 B/s | ETA Infinity:NaN:NaN          \033[u'
printf '\033[?25l\033[s\r⠙ [          ] 0.00%% |    0 B / 2.93 GB |    0 B/s | ETA Infinity:NaN:NaN          \033[u'
printf '\033[?25l\033[s\r⠹ [███▌      ] 27.40%% | 802.50 MB / 2.93 GB | 12.00 MB/s | ETA 02:57          \033[u'
printf '\033[?25l\033[s\r⠸ [███▌      ] 27.40%% | 802.50 MB / 2.93 GB | 12.00 MB/s | ETA 02:57          \033[u'
printf '\033[?25l\033[s\r⠼ [██████████] 100.00%% | 2.93 GB / 2.93 GB | 45.67 MB/s | ETA 00:00          \033[u'
printf '\033[2K\r\033[?25h'
echo 'Finalizing download...' >&2
echo 'Download completed.' >&2
"#;

#[tokio::test]
async fn progress_with_ansi_and_redraws_is_reported_without_duplicates() {
    let fake = FakeLms::new(|dir| format!("{}\n{REDRAWS}", record_args(dir)));
    let (result, events) = get(&fake, "qwen/qwen3.5-9b@q8_0").await;
    assert_eq!(result.unwrap(), GetOutcome::Downloaded);
    assert_eq!(
        fake.recorded_args().unwrap(),
        ["get", "--yes", "qwen/qwen3.5-9b@q8_0"]
    );

    let summary: Vec<(u64, u64, Option<Duration>)> = events
        .iter()
        .map(|p| (p.downloaded_bytes, p.total_bytes, p.eta))
        .collect();
    assert_eq!(
        summary,
        vec![
            (0, 2_930_000_000, None),
            (802_500_000, 2_930_000_000, Some(Duration::from_secs(177))),
            (2_930_000_000, 2_930_000_000, Some(Duration::ZERO)),
        ]
    );
    assert!((events[1].fraction - 0.274).abs() < 1e-9);
    assert_eq!(events[2].bytes_per_second, Some(45_670_000.0));
}

#[tokio::test]
async fn a_redraw_split_across_writes_is_still_parsed() {
    let fake = FakeLms::new(|_| {
        "printf '\\r⠋ [   ] 50.0'; sleep 0.1; printf '0%% | 1.00 GB / 2.00 GB | 1 MB/s | ETA 16:40\\r'"
            .to_owned()
    });
    let (result, events) = get(&fake, "a/b").await;
    assert_eq!(result.unwrap(), GetOutcome::Downloaded);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].fraction, 0.5);
    assert_eq!(events[0].eta, Some(Duration::from_secs(1000)));
}

#[tokio::test]
async fn already_downloaded_is_success() {
    let fake = FakeLms::new(|_| {
        "echo 'Model already downloaded. To use, run:' >&2\necho '   lms load qwen/qwen3-4b' >&2\nexit 0"
            .to_owned()
    });
    let (result, events) = get(&fake, "qwen/qwen3-4b").await;
    assert_eq!(result.unwrap(), GetOutcome::AlreadyDownloaded);
    assert!(events.is_empty());
}

#[tokio::test]
async fn exit_1_reports_the_code_and_the_last_stderr_lines() {
    let fake = FakeLms::new(|_| {
        r#"
i=1
while [ $i -le 30 ]; do echo "noise line $i" >&2; i=$((i+1)); done
printf '\033[31mError: Cannot find variant q9_k.\033[39m\n' >&2
exit 1
"#
        .to_owned()
    });
    let (result, _) = get(&fake, "qwen/qwen3.5-9b@q9_k").await;
    let err = result.unwrap_err();
    let message = err.to_string();
    match err {
        LmsError::Failed {
            command,
            status,
            stderr_tail,
        } => {
            assert_eq!(command, "lms get --yes qwen/qwen3.5-9b@q9_k");
            assert_eq!(status, "exit code 1");
            let lines: Vec<&str> = stderr_tail.lines().collect();
            assert_eq!(lines.len(), 20, "{stderr_tail}");
            assert_eq!(lines[0], "noise line 12");
            assert_eq!(lines[19], "Error: Cannot find variant q9_k.");
        }
        other => panic!("{other:?}"),
    }
    assert!(message.contains("exit code 1"), "{message}");
    assert!(message.contains("Cannot find variant q9_k."), "{message}");
}

#[tokio::test]
async fn other_exit_codes_are_kept() {
    let fake = FakeLms::new(|_| "exit 3".to_owned());
    match get(&fake, "a/b").await.0 {
        Err(LmsError::Failed {
            status,
            stderr_tail,
            ..
        }) => {
            assert_eq!(status, "exit code 3");
            assert_eq!(stderr_tail, "");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn killed_by_a_signal() {
    let fake = FakeLms::new(|_| "echo 'about to die' >&2\nkill -9 $$".to_owned());
    match get(&fake, "a/b").await.0 {
        Err(LmsError::Failed {
            status,
            stderr_tail,
            ..
        }) => {
            assert_eq!(status, "signal 9");
            assert_eq!(stderr_tail, "about to die");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn hundred_megabytes_of_stdout_and_busy_stderr_do_not_deadlock() {
    // One 100 MB "line" on stdout, 30 MB of short lines on stderr, then a real progress line.
    let fake = FakeLms::new(|_| {
        r#"
head -c 100000000 /dev/zero | tr '\0' 'x' &
yes 'Resolving...' | head -c 30000000 >&2
wait
printf '\r100.00%% | 2.00 GB / 2.00 GB | 1.00 MB/s | ETA 00:00\n'
echo 'Download completed.' >&2
"#
        .to_owned()
    });
    // A generous limit turns a pipe deadlock into a Timeout failure instead of a hung test.
    let options = GetOptions::default().with_timeout(Duration::from_secs(300));
    let mut events = Vec::new();
    let result = fake.lms.get("a/b", &options, &mut |p| events.push(p)).await;
    assert_eq!(result.unwrap(), GetOutcome::Downloaded);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].total_bytes, 2_000_000_000);
}

#[tokio::test]
async fn huge_stderr_keeps_a_bounded_tail() {
    let fake = FakeLms::new(|_| {
        "head -c 10000000 /dev/zero | tr '\\0' 'e' >&2\necho >&2\necho 'Error: last words' >&2\nexit 1"
            .to_owned()
    });
    match get(&fake, "a/b").await.0 {
        Err(LmsError::Failed { stderr_tail, .. }) => {
            assert!(stderr_tail.len() <= 8 * 1024, "{}", stderr_tail.len());
            assert!(stderr_tail.ends_with("Error: last words"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn lms_is_asked_for_english_output() {
    let fake = FakeLms::new(|dir| {
        format!(
            "printf '%s' \"$LMS_LANG\" > '{}'",
            dir.join("lang").display()
        )
    });
    get(&fake, "a/b").await.0.unwrap();
    assert_eq!(std::fs::read_to_string(fake.file("lang")).unwrap(), "en");
}

#[tokio::test]
async fn stdin_is_null() {
    // `cat` reads stdin to EOF at once when it is /dev/null; a pipe or terminal would block.
    let fake = FakeLms::new(|dir| format!("cat > '{}'", dir.join("stdin").display()));
    let options = GetOptions::default().with_timeout(Duration::from_secs(30));
    let outcome = fake.lms.get("a/b", &options, &mut |_| {}).await;
    assert_eq!(outcome.unwrap(), GetOutcome::Downloaded);
    assert_eq!(std::fs::read(fake.file("stdin")).unwrap(), b"");
}

#[test]
fn command_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let fake = FakeLms::new(|_| String::new());
    let mut report = |_: DownloadProgress| {};
    let options = GetOptions::default();
    let get = fake.lms.get("a/b", &options, &mut report);
    assert_send(&get);
    let ls = fake.lms.ls();
    assert_send(&ls);
    let load_options = lmstudio_lms::LoadOptions::default();
    let load = fake.lms.load("a/b", &load_options);
    assert_send(&load);
}

#[tokio::test]
async fn spawn_failures_are_typed() {
    // An executable held open for writing cannot be run (ETXTBSY); the bounded retries end in
    // a Spawn error carrying the OS error.
    let fake = FakeLms::new(|_| String::new());
    let writer = std::fs::OpenOptions::new()
        .append(true)
        .open(fake.lms.path())
        .unwrap();
    match get(&fake, "a/b").await.0 {
        Err(LmsError::Spawn { path, source }) => {
            assert_eq!(path, fake.lms.path());
            assert_eq!(source.kind(), std::io::ErrorKind::ExecutableFileBusy);
        }
        other => panic!("{other:?}"),
    }
    drop(writer);
    assert_eq!(get(&fake, "a/b").await.0.unwrap(), GetOutcome::Downloaded);

    // The binary vanished after discovery.
    std::fs::remove_file(fake.lms.path()).unwrap();
    match get(&fake, "a/b").await.0 {
        Err(LmsError::Spawn { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("{other:?}"),
    }
}
