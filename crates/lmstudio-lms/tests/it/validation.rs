//! Model arguments are refused before anything runs; good ones reach lms unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(unix)] // fake `lms` executables are `#!/bin/sh` scripts

use crate::common;

use common::{FakeLms, record_args};
use lmstudio_lms::{GetOptions, LmsError, LoadOptions, validate_model_arg};

const BAD: [(&str, &str); 10] = [
    ("", "empty"),
    ("-v", "'-'"),
    ("--yes", "'-'"),
    ("qwen/qwen3 4b", "whitespace"),
    ("qwen/qwen3\t4b", "whitespace"),
    ("qwen/qwen3\n--yes", "whitespace"),
    ("qwen\u{0}", "control"),
    ("qwen\u{1b}[31m", "control"),
    ("a@b@c", "'@'"),
    ("qwen/qwen3\u{2003}4b", "whitespace"),
];

#[test]
fn validate_model_arg_reasons() {
    for (arg, reason_part) in BAD {
        match validate_model_arg(arg) {
            Err(LmsError::InvalidModelArg { arg: got, reason }) => {
                assert_eq!(got, arg);
                assert!(reason.contains(reason_part), "{arg:?}: {reason}");
            }
            other => panic!("{arg:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn nothing_runs_for_a_bad_argument() {
    let fake = FakeLms::new(record_args);
    for (arg, _) in BAD {
        let get = fake.lms.get(arg, &GetOptions::default(), &mut |_| {}).await;
        assert!(
            matches!(get, Err(LmsError::InvalidModelArg { .. })),
            "get {arg:?}"
        );
        let load = fake.lms.load(arg, &LoadOptions::default()).await;
        assert!(
            matches!(load, Err(LmsError::InvalidModelArg { .. })),
            "load {arg:?}"
        );
        let unload = fake.lms.unload(arg).await;
        assert!(
            matches!(unload, Err(LmsError::InvalidModelArg { .. })),
            "unload {arg:?}"
        );
    }
    assert!(fake.recorded_args().is_none(), "lms must not have run");
}

#[tokio::test]
async fn good_arguments_pass_through_unchanged() {
    for arg in [
        "openai/gpt-oss-20b",
        "qwen/qwen3.5-9b@q8_0",
        "https://huggingface.co/lmstudio-community/Qwen3-4B-GGUF",
        "gemma-3-1b-it-qat:2",
        "name;with$shell`chars'\"*",
    ] {
        let fake = FakeLms::new(record_args);
        fake.lms
            .get(arg, &GetOptions::default(), &mut |_| {})
            .await
            .unwrap();
        assert_eq!(fake.recorded_args().unwrap(), ["get", "--yes", arg]);
    }
}
