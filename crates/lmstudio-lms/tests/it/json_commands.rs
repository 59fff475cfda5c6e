//! `ls --json`, `ps --json`, `server status --json`: argv, parsing fixtures, bad output.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(unix)] // fake `lms` executables are `#!/bin/sh` scripts

use crate::common;

use std::path::Path;

use common::{FakeLms, data, record_args};
use lmstudio_lms::LmsError;
use lmstudio_proto::lms::LmsInstanceStatus;

/// A fake lms that records its argv and prints a fixture from `tests/data` on stdout.
fn printing(fixture: &str) -> FakeLms {
    let file = data(fixture);
    FakeLms::new(move |dir: &Path| {
        format!(
            "{}\necho 'Waking up LM Studio service...' >&2\ncat '{}'",
            record_args(dir),
            file.display()
        )
    })
}

#[tokio::test]
async fn ls_parses_the_sdk_example() {
    let fake = printing("ls_sdk_example.json");
    let models = fake.lms.ls().await.unwrap();
    assert_eq!(fake.recorded_args().unwrap(), ["ls", "--json"]);
    assert_eq!(models.len(), 2);
    assert_eq!(models[0].model_key, "qwen2.5-7b-instruct");
    assert_eq!(
        models[0].display_name.as_deref(),
        Some("Qwen2.5 7B Instruct")
    );
    assert_eq!(models[0].size_bytes, Some(4_683_073_952));
    assert_eq!(models[0].max_context_length, Some(32768));
    assert_eq!(models[0].trained_for_tool_use, Some(true));
    assert!(!models[0].is_embedding());
    assert_eq!(
        models[1].model_key,
        "text-embedding-nomic-embed-text-v1.5@q4_k_m"
    );
    assert!(models[1].is_embedding());
}

#[tokio::test]
async fn a_time_limit_of_duration_max_is_no_limit() {
    // `Instant::now() + Duration::MAX` would panic; the limit just never fires.
    let fake = printing("ls_sdk_example.json");
    let lms = fake.lms.clone().with_timeout(std::time::Duration::MAX);
    assert_eq!(lms.ls().await.unwrap().len(), 2);
}

#[tokio::test]
async fn ls_parses_a_current_row_with_variants() {
    let fake = printing("ls_current.json");
    let models = fake.lms.ls().await.unwrap();
    assert_eq!(models.len(), 1);
    let model = &models[0];
    assert_eq!(model.model_key, "qwen/qwen3.8-27b");
    assert_eq!(model.variants, ["qwen/qwen3.8-27b@q4_k_m"]);
    assert_eq!(
        model.selected_variant.as_deref(),
        Some("qwen/qwen3.8-27b@q4_k_m")
    );
    let quantization = model.quantization.as_ref().unwrap();
    assert_eq!(quantization.name.as_deref(), Some("Q4_K_M"));
    assert_eq!(quantization.bits, Some(4.0));
    assert_eq!(model.device_identifier, None);
}

#[tokio::test]
async fn empty_lists() {
    let fake = printing("empty_list.json");
    assert!(fake.lms.ls().await.unwrap().is_empty());
    assert!(fake.lms.ps().await.unwrap().is_empty());
}

#[tokio::test]
async fn ps_parses_loaded_instances() {
    let fake = printing("ps_one_loaded.json");
    let loaded = fake.lms.ps().await.unwrap();
    assert_eq!(fake.recorded_args().unwrap(), ["ps", "--json"]);
    assert_eq!(loaded.len(), 1);
    let instance = &loaded[0];
    assert_eq!(instance.instance_id(), "ornith-1.0-35b-mlx-oq8");
    assert_eq!(instance.model.model_key, "ornith-1.0-35b-mlx-oq8");
    assert_eq!(instance.model.format.as_deref(), Some("safetensors"));
    assert_eq!(instance.context_length, Some(65536));
    assert_eq!(instance.model.max_context_length, Some(262_144));
    assert_eq!(instance.ttl_ms, None);
    assert_eq!(instance.last_used_time, Some(1_786_252_670_392));
    assert_eq!(instance.status, Some(LmsInstanceStatus::Idle));
    assert_eq!((instance.queued, instance.parallel), (Some(0), Some(2)));

    let fake = printing("ps_two_instances.json");
    let loaded = fake.lms.ps().await.unwrap();
    assert_eq!(loaded.len(), 3);
    let ids: Vec<&str> = loaded.iter().map(|m| m.instance_id()).collect();
    assert_eq!(
        ids,
        [
            "qwen/qwen3.8-27b",
            "qwen/qwen3.8-27b:2",
            "text-embedding-nomic-embed-text-v1.5"
        ]
    );
    assert_eq!(loaded[0].ttl_ms, Some(3_600_000));
    assert_eq!(loaded[0].status, Some(LmsInstanceStatus::Generating));
    assert_eq!(loaded[0].parallel, None);
    assert_eq!(loaded[1].model.model_key, loaded[0].model.model_key);
    assert!(loaded[2].model.is_embedding());
}

#[tokio::test]
async fn server_status_running_and_not() {
    let fake = printing("status_running.json");
    let status = fake.lms.server_status().await.unwrap();
    assert_eq!(
        fake.recorded_args().unwrap(),
        ["server", "status", "--json"]
    );
    assert!(status.running);
    assert_eq!(status.port, Some(1234));

    for fixture in [
        "status_not_running.json",
        "status_not_running_null_port.json",
    ] {
        let status = printing(fixture).lms.server_status().await.unwrap();
        assert!(!status.running, "{fixture}");
        assert_eq!(status.port, None, "{fixture}");
    }
}

#[tokio::test]
async fn output_that_is_not_json_is_invalid_json() {
    let fake =
        FakeLms::new(|_| "echo 'You have 2 models, taking up 6.63 GB of disk space.'".to_owned());
    let err = fake.lms.ls().await.unwrap_err();
    assert!(err.to_string().starts_with("JSON parse error: "), "{err}");
    match err {
        LmsError::InvalidJson {
            command, excerpt, ..
        } => {
            assert_eq!(command, "lms ls --json");
            assert_eq!(
                excerpt,
                "You have 2 models, taking up 6.63 GB of disk space."
            );
        }
        other => panic!("{other:?}"),
    }

    // The wrong JSON shape is invalid too (an object where a list is expected).
    let fake = printing("status_running.json");
    assert!(matches!(
        fake.lms.ps().await,
        Err(LmsError::InvalidJson { .. })
    ));

    // Nothing at all.
    let fake = FakeLms::new(|_| "exit 0".to_owned());
    assert!(matches!(
        fake.lms.server_status().await,
        Err(LmsError::InvalidJson { .. })
    ));
}

#[tokio::test]
async fn the_excerpt_is_bounded() {
    let fake = FakeLms::new(|_| "head -c 100000 /dev/zero | tr '\\0' 'z'".to_owned());
    match fake.lms.ls().await {
        Err(LmsError::InvalidJson { excerpt, .. }) => assert_eq!(excerpt.chars().count(), 256),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn more_than_sixteen_mebibytes_is_refused() {
    let fake = FakeLms::new(|_| "head -c 100000000 /dev/zero | tr '\\0' ' '".to_owned());
    match fake.lms.ls().await {
        Err(LmsError::OutputTooLarge { command, limit }) => {
            assert_eq!(command, "lms ls --json");
            assert_eq!(limit, 16 * 1024 * 1024);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_failing_json_command_reports_exit_code_and_stderr() {
    let fake = FakeLms::new(|_| {
        "echo 'Failed to start or connect to local LM Studio API server.' >&2\nexit 1".to_owned()
    });
    match fake.lms.ps().await {
        Err(LmsError::Failed {
            command,
            status,
            stderr_tail,
        }) => {
            assert_eq!(command, "lms ps --json");
            assert_eq!(status, "exit code 1");
            assert_eq!(
                stderr_tail,
                "Failed to start or connect to local LM Studio API server."
            );
        }
        other => panic!("{other:?}"),
    }
}
