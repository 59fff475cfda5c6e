//! Cancel-safety and time limits: a dropped or timed-out command leaves no process behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(unix)] // fake `lms` executables are `#!/bin/sh` scripts

use crate::common;

use std::time::Duration;

use common::{FakeLms, proc_exists, record_pid, wait_for_pid, wait_gone};
use lmstudio_lms::{GetOptions, LmsError};

/// A fake lms that records its pid and then hangs (as the same process, via `exec`).
fn hanging() -> FakeLms {
    FakeLms::new(|dir| format!("{}\nexec sleep 1000", record_pid(dir)))
}

#[tokio::test]
async fn dropping_get_kills_and_reaps_the_child() {
    let fake = hanging();
    let dir = fake.dir.path().to_path_buf();
    let mut events = Vec::new();
    let mut report = |p| events.push(p);
    let options = GetOptions::default();
    let pid = tokio::select! {
        result = fake.lms.get("a/b", &options, &mut report) => {
            panic!("the hanging get finished: {result:?}")
        }
        pid = wait_for_pid(&dir) => pid,
    };
    // The get future has been dropped by `select!`.
    wait_gone(pid).await.unwrap();
    assert!(events.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_json_command_kills_and_reaps_the_child() {
    let fake = hanging();
    let mut ls = Box::pin(fake.lms.ls());
    let pid = tokio::select! {
        result = &mut ls => panic!("the hanging ls finished: {result:?}"),
        pid = wait_for_pid(fake.dir.path()) => pid,
    };
    assert!(
        proc_exists(pid),
        "the child should still run before the drop"
    );
    drop(ls);
    wait_gone(pid).await.unwrap();
}

#[tokio::test]
async fn dropping_via_tokio_timeout_kills_and_reaps_the_child() {
    let fake = hanging();
    // The outer limit (3 s) fires long before unload's own 60 s limit and drops its future.
    let outcome = tokio::time::timeout(Duration::from_secs(3), fake.lms.unload("a/b")).await;
    assert!(
        outcome.is_err(),
        "the hanging unload must not finish: {outcome:?}"
    );
    let pid = wait_for_pid(fake.dir.path()).await;
    wait_gone(pid).await.unwrap();
}

#[tokio::test]
async fn a_time_limit_kills_and_reaps_before_returning() {
    let fake = hanging();
    let lms = fake.lms.clone().with_timeout(Duration::from_secs(2));
    match lms.ps().await {
        Err(LmsError::Timeout { command, limit, .. }) => {
            assert_eq!(command, "lms ps --json");
            assert_eq!(limit, Duration::from_secs(2));
        }
        other => panic!("{other:?}"),
    }
    let pid = wait_for_pid(fake.dir.path()).await;
    // Reaped before `ps` returned: no zombie entry is left, without any polling.
    assert!(!proc_exists(pid), "pid {pid} still in /proc after Timeout");
}

#[tokio::test]
async fn get_accepts_an_optional_time_limit() {
    let fake = hanging();
    let options = GetOptions::default().with_timeout(Duration::from_secs(2));
    let err = fake
        .lms
        .get("a/b", &options, &mut |_| {})
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("lms get --yes a/b"), "{err}");
    let pid = wait_for_pid(fake.dir.path()).await;
    assert!(!proc_exists(pid));
}

#[tokio::test]
async fn a_grandchild_holding_the_pipes_does_not_hang_a_finished_command() {
    // lms may start a long-lived service that inherits its stdout; the command itself exits.
    let fake = FakeLms::new(|dir| {
        format!(
            "sleep 60 &\necho $! > '{}'\necho '{{\"running\":false}}'\nexit 0",
            dir.join("grandchild").display()
        )
    });
    let result = fake.lms.server_status().await;
    let grandchild = std::fs::read_to_string(fake.file("grandchild")).unwrap();
    let _ = std::process::Command::new("kill")
        .arg(grandchild.trim())
        .status();
    result.unwrap();
}

#[test]
fn dropping_after_the_runtime_is_gone_still_reaps() {
    let fake = hanging();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut ls = Box::pin(fake.lms.ls());
    let pid = rt.block_on(async {
        tokio::select! {
            result = &mut ls => panic!("the hanging ls finished: {result:?}"),
            pid = wait_for_pid(fake.dir.path()) => pid,
        }
    });
    drop(rt);
    drop(ls);
    // Bounded poll without a runtime.
    for _ in 0..400 {
        if !proc_exists(pid) {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("pid {pid} was not reaped after its future was dropped outside a runtime");
}
