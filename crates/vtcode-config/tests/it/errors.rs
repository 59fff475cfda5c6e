//! Error messages: every one names the file, the line and column, and the key to fix.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use support::{config_path, empty_workspace, no_env, workspace};
use vtcode_config::{ConfigError, ConfigManager, Location, Origin};

/// Loads `text` as a workspace's vtcode.toml and returns the error with the path it names.
fn load_err(text: &str) -> (ConfigError, String) {
    let dir = workspace(text);
    let err = ConfigManager::load_from_workspace_with_env(dir.path(), &no_env)
        .expect_err("the file is invalid");
    (err, config_path(dir.path()))
}

/// The error's file position and key (for the variants that have them).
fn position(err: &ConfigError) -> (&Location, Option<&str>) {
    match err {
        ConfigError::Syntax { location, .. } | ConfigError::TokenInFile { location, .. } => {
            (location, None)
        }
        ConfigError::WrongType { location, key, .. } => (location, Some(key.as_str())),
        ConfigError::InvalidValue {
            origin: Origin::File(location),
            key,
            ..
        } => (location, Some(key.as_str())),
        other => panic!("no file position in {other:?}"),
    }
}

/// Asserts `text` fails at `line:column`, naming `key` (when given) and the file.
fn assert_points_at(text: &str, line: usize, column: usize, key: Option<&str>) -> String {
    let (err, path) = load_err(text);
    let (location, err_key) = position(&err);
    assert_eq!((location.line, location.column), (line, column), "{err}");
    assert_eq!(err_key, key, "{err}");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("{path}:{line}:{column}: ")),
        "{message}"
    );
    if let Some(key) = key {
        assert!(message.contains(&format!("`{key}`")), "{message}");
    }
    message
}

#[test]
fn malformed_toml_names_file_line_and_column() {
    let message = assert_points_at("[agent]\nprovider = \"lmstudio\n", 2, 21, None);
    assert!(message.contains("malformed TOML"), "{message}");
    assert!(matches!(
        load_err("[lmstudio\n").0,
        ConfigError::Syntax { .. }
    ));
    assert_points_at("a = \"é\"\nb = \n", 2, 5, None);
}

#[test]
fn duplicate_keys_are_malformed() {
    assert_points_at(
        "[lmstudio]\npreload = \"off\"\npreload = \"wait\"\n",
        3,
        1,
        None,
    );
}

#[test]
fn wrong_type_names_key_line_and_column() {
    let message = assert_points_at(
        "[lmstudio]\nconnect_timeout_ms = \"5000\"\n",
        2,
        22,
        Some("lmstudio.connect_timeout_ms"),
    );
    assert!(message.contains("integer"), "{message}");
    assert!(message.contains("found a string"), "{message}");

    assert_points_at(
        "[agent]\n\ndefault_model = 42\n",
        3,
        17,
        Some("agent.default_model"),
    );
    assert_points_at(
        "[lmstudio]\nbase_url = true\n",
        2,
        12,
        Some("lmstudio.base_url"),
    );
    assert_points_at(
        "[lmstudio]\nload_timeout_ms = 1.5\n",
        2,
        19,
        Some("lmstudio.load_timeout_ms"),
    );
    // A dotted key at the top level is reported with the same dotted path.
    assert_points_at(
        "lmstudio.context_length = \"8k\"\n",
        1,
        27,
        Some("lmstudio.context_length"),
    );
}

#[test]
fn a_section_that_is_not_a_table_is_named() {
    assert_points_at("agent = \"lmstudio\"\n", 1, 9, Some("agent"));
    let message = assert_points_at("[[lmstudio]]\nbase_url = \"x\"\n", 1, 1, Some("lmstudio"));
    assert!(message.contains("found an array"), "{message}");
}

#[test]
fn zero_timeouts_are_errors_naming_the_key() {
    for key in [
        "connect_timeout_ms",
        "response_headers_timeout_ms",
        "idle_timeout_ms",
        "request_timeout_ms",
        "load_timeout_ms",
        "download_timeout_ms",
        "max_body_bytes",
    ] {
        let text = format!("[lmstudio]\n{key} = 0\n");
        let dotted = format!("lmstudio.{key}");
        let message = assert_points_at(&text, 2, key.len() + 4, Some(&dotted));
        assert!(message.contains("greater than 0"), "{message}");
    }
}

#[test]
fn negative_and_oversized_numbers_are_errors() {
    let message = assert_points_at(
        "[lmstudio]\nidle_timeout_ms = -5\n",
        2,
        19,
        Some("lmstudio.idle_timeout_ms"),
    );
    assert!(message.contains("-5"), "{message}");
    let message = assert_points_at(
        "[lmstudio]\nidle_timeout_ms = 99999999999999999999\n",
        2,
        19,
        Some("lmstudio.idle_timeout_ms"),
    );
    assert!(message.contains("too large"), "{message}");
}

#[test]
fn context_length_must_be_positive_and_fit_u32() {
    assert_points_at(
        "[lmstudio]\ncontext_length = 0\n",
        2,
        18,
        Some("lmstudio.context_length"),
    );
    let message = assert_points_at(
        "[lmstudio]\ncontext_length = 4294967296\n",
        2,
        18,
        Some("lmstudio.context_length"),
    );
    assert!(message.contains("4294967295"), "{message}");
    assert_points_at(
        "[lmstudio]\nttl_seconds = 0\n",
        2,
        15,
        Some("lmstudio.ttl_seconds"),
    );
}

#[test]
fn unknown_preload_lists_the_valid_values() {
    let message = assert_points_at(
        "[lmstudio]\npreload = \"later\"\n",
        2,
        11,
        Some("lmstudio.preload"),
    );
    for valid in ["\"background\"", "\"wait\"", "\"off\""] {
        assert!(message.contains(valid), "{message}");
    }
    assert!(message.contains("\"later\""), "{message}");
    assert_points_at(
        "[lmstudio]\npreload = false\n",
        2,
        11,
        Some("lmstudio.preload"),
    );
}

#[test]
fn empty_strings_are_errors() {
    assert_points_at("[agent]\nprovider = \"\"\n", 2, 12, Some("agent.provider"));
    assert_points_at(
        "[agent]\ndefault_model = \" \"\n",
        2,
        17,
        Some("agent.default_model"),
    );
    assert_points_at(
        "[lmstudio]\nlms_path = \"\"\n",
        2,
        12,
        Some("lmstudio.lms_path"),
    );
    assert_points_at(
        "[lmstudio]\napi_token_env = \"\"\n",
        2,
        17,
        Some("lmstudio.api_token_env"),
    );
    assert_points_at(
        "[lmstudio]\napi_token_env = \"LM API TOKEN\"\n",
        2,
        17,
        Some("lmstudio.api_token_env"),
    );
}

#[test]
fn unknown_keys_with_odd_values_are_still_not_fatal() {
    let dir = workspace("huge = 99999999999999999999\n[agent]\nwhen = 1979-05-27T07:32:00Z\n");
    let manager = ConfigManager::load_from_workspace_with_env(dir.path(), &no_env).unwrap();
    assert_eq!(manager.unknown_keys(), ["huge", "agent.when"]);
    assert!(manager.config().extra.get("huge").is_none());
    assert!(manager.config().agent.extra.contains_key("when"));
}

#[test]
fn unreadable_file_is_an_error_naming_it() {
    // A directory where the file should be cannot be read, even by root.
    let dir = empty_workspace();
    std::fs::create_dir(dir.path().join("vtcode.toml")).unwrap();
    let err = ConfigManager::load_from_workspace_with_env(dir.path(), &no_env).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }), "{err:?}");
    assert!(err.to_string().contains(&config_path(dir.path())), "{err}");
}

#[test]
fn non_utf8_file_is_an_error_with_its_position() {
    let dir = empty_workspace();
    std::fs::write(
        dir.path().join("vtcode.toml"),
        b"[agent]\nprovider = \"\xff\"\n",
    )
    .unwrap();
    let err = ConfigManager::load_from_workspace_with_env(dir.path(), &no_env).unwrap_err();
    let (location, _) = position(&err);
    assert_eq!((location.line, location.column), (2, 13), "{err}");
    assert!(err.to_string().contains("UTF-8"), "{err}");
}

#[test]
fn oversized_file_is_refused() {
    let dir = empty_workspace();
    let big = format!("# {}\n", "x".repeat(2 * 1024 * 1024));
    std::fs::write(dir.path().join("vtcode.toml"), big).unwrap();
    let err = ConfigManager::load_from_workspace_with_env(dir.path(), &no_env).unwrap_err();
    assert!(matches!(err, ConfigError::TooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("vtcode.toml"), "{err}");
}

#[test]
fn workspace_that_is_a_file_is_an_error() {
    let dir = workspace("");
    let file = dir.path().join("vtcode.toml");
    let err = ConfigManager::load_from_workspace_with_env(&file, &no_env).unwrap_err();
    assert!(matches!(err, ConfigError::Workspace { .. }), "{err:?}");
}

#[test]
fn code_built_configs_are_validated_with_the_same_rules() {
    let mut config = vtcode_config::VTCodeConfig::default();
    config.lmstudio.request_timeout_ms = 0;
    let err = config.validate().unwrap_err();
    assert!(
        matches!(&err, ConfigError::InvalidValue { origin: Origin::Code, key, .. } if key == "lmstudio.request_timeout_ms"),
        "{err:?}"
    );
    assert!(err.to_string().contains("built in code"), "{err}");
}
