//! Loading `vtcode.toml`: absent file, full file, unknown keys, and building configs in code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use support::{empty_workspace, no_env, workspace};
use vtcode_config::{ConfigError, ConfigManager, PreloadMode, VTCodeConfig};

#[test]
fn absent_file_means_defaults() {
    let dir = empty_workspace();
    let manager = ConfigManager::load_from_workspace_with_env(dir.path(), &no_env).unwrap();
    assert_eq!(manager.config(), &VTCodeConfig::default());
    assert_eq!(manager.source_path(), None);
    assert!(manager.unknown_keys().is_empty());
    assert!(manager.env_overrides().is_empty());
}

#[test]
fn empty_file_means_defaults_and_records_the_source() {
    let dir = workspace("# nothing configured yet\n");
    let manager = ConfigManager::load_from_workspace_with_env(dir.path(), &no_env).unwrap();
    assert_eq!(manager.config(), &VTCodeConfig::default());
    assert_eq!(
        manager.source_path(),
        Some(dir.path().join("vtcode.toml").as_path())
    );
}

#[test]
fn full_file_parses_every_key() {
    let dir = workspace(include_str!("../data/full.toml"));
    let manager = ConfigManager::load_from_workspace_with_env(dir.path(), &no_env).unwrap();
    let cfg = manager.config();
    assert_eq!(cfg.agent.provider, "lmstudio");
    assert_eq!(cfg.agent.default_model.as_deref(), Some("qwen/qwen3-4b"));
    let lm = &cfg.lmstudio;
    assert_eq!(lm.base_url.as_deref(), Some("http://127.0.0.1:4321/v1/"));
    assert_eq!(lm.api_token_env, "MY_LMSTUDIO_TOKEN");
    assert_eq!(lm.api_token, None);
    assert_eq!(lm.connect_timeout_ms, 1_500);
    assert_eq!(lm.response_headers_timeout_ms, 20_000);
    assert_eq!(lm.idle_timeout_ms, 90_000);
    assert_eq!(lm.request_timeout_ms, 60_000);
    assert_eq!(lm.load_timeout_ms, 300_000);
    assert_eq!(lm.download_timeout_ms, Some(3_600_000));
    assert_eq!(lm.max_body_bytes, 1_048_576);
    assert_eq!(lm.lms_path, Some(PathBuf::from("/opt/lmstudio/bin/lms")));
    assert_eq!(lm.preload, PreloadMode::Wait);
    assert_eq!(lm.context_length, Some(8192));
    assert_eq!(lm.ttl_seconds, Some(3600));
    assert!(manager.unknown_keys().is_empty());
    assert!(cfg.validate().is_ok());
}

#[test]
fn every_preload_mode_parses() {
    for (name, mode) in [
        ("background", PreloadMode::Background),
        ("wait", PreloadMode::Wait),
        ("off", PreloadMode::Off),
    ] {
        let dir = workspace(&format!("[lmstudio]\npreload = \"{name}\"\n"));
        let manager = ConfigManager::load_from_workspace_with_env(dir.path(), &no_env).unwrap();
        assert_eq!(manager.config().lmstudio.preload, mode);
    }
}

#[test]
fn unknown_keys_are_kept_and_reported_not_fatal() {
    let dir = workspace(include_str!("../data/unknown_keys.toml"));
    let manager = ConfigManager::load_from_workspace_with_env(dir.path(), &no_env).unwrap();
    assert_eq!(
        manager.unknown_keys(),
        [
            "theme",
            "agent.max_turns",
            "lmstudio.conect_timeout_ms",
            "mcp"
        ]
    );
    let cfg = manager.config();
    // Known keys next to unknown ones still apply; the misspelt timeout does not.
    assert_eq!(
        cfg.agent.default_model.as_deref(),
        Some("openai/gpt-oss-20b")
    );
    assert_eq!(cfg.lmstudio.connect_timeout_ms, 5_000);
    // Unknown values are kept as written.
    assert_eq!(cfg.extra["theme"].as_str(), Some("dark"));
    assert_eq!(cfg.extra["mcp"]["enabled"].as_bool(), Some(true));
    assert_eq!(
        cfg.extra["mcp"]["servers"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(cfg.agent.extra["max_turns"].as_integer(), Some(40));
    assert_eq!(
        cfg.lmstudio.extra["conect_timeout_ms"].as_integer(),
        Some(100)
    );
}

/// Collects what a tracing subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn each_unknown_key_is_warned_about_with_its_position() {
    let dir = workspace(include_str!("../data/unknown_keys.toml"));
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        ConfigManager::load_from_workspace_with_env(dir.path(), &no_env).unwrap();
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let warnings: Vec<&str> = logs.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 4, "{logs}");
    for (key, line) in [
        ("theme", 2),
        ("agent.max_turns", 6),
        ("lmstudio.conect_timeout_ms", 10),
        ("mcp", 12),
    ] {
        let at = format!("vtcode.toml:{line}:");
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(&format!("key={key} ")) && w.contains(&at)),
            "no warning for {key} at line {line}: {logs}"
        );
    }
}

#[test]
fn dotted_keys_and_crlf_line_endings_work() {
    let dir = workspace("lmstudio.preload = \"off\"\r\nagent.default_model = \"m/x\"\r\n");
    let manager = ConfigManager::load_from_workspace_with_env(dir.path(), &no_env).unwrap();
    assert_eq!(manager.config().lmstudio.preload, PreloadMode::Off);
    assert_eq!(manager.config().agent.default_model.as_deref(), Some("m/x"));
}

#[test]
fn relative_lms_path_resolves_against_the_workspace() {
    let dir = workspace("[lmstudio]\nlms_path = \"tools/lms\"\n");
    let manager = ConfigManager::load_from_workspace_with_env(dir.path(), &no_env).unwrap();
    assert_eq!(
        manager.config().lmstudio.lms_path,
        Some(dir.path().join("tools/lms"))
    );
}

#[test]
fn missing_workspace_directory_is_an_error() {
    let dir = empty_workspace();
    let missing = dir.path().join("no-such-dir");
    let err = ConfigManager::load_from_workspace_with_env(&missing, &no_env).unwrap_err();
    assert!(matches!(err, ConfigError::Workspace { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );
}

#[test]
fn process_environment_loader_reads_the_file() {
    // The process environment is whatever the test runner has; only file values that no
    // environment variable overrides are asserted.
    let dir = workspace("[lmstudio]\ncontext_length = 4096\npreload = \"off\"\n");
    let manager = ConfigManager::load_from_workspace(dir.path()).unwrap();
    assert_eq!(manager.config().lmstudio.context_length, Some(4096));
    assert_eq!(manager.config().lmstudio.preload, PreloadMode::Off);
}

#[test]
fn configs_build_in_code_without_a_file() {
    let config = VTCodeConfig::lmstudio_at("http://127.0.0.1:9")
        .with_default_model("openai/gpt-oss-20b")
        .with_lms_path("/usr/local/bin/lms")
        .with_preload(PreloadMode::Off)
        .with_context_length(16_384);
    assert!(config.validate().is_ok());
    let manager = ConfigManager::from_config(config.clone());
    assert_eq!(manager.config(), &config);
    assert_eq!(manager.source_path(), None);
    assert_eq!(manager.into_config(), config);

    let mut edited = VTCodeConfig::default();
    edited.lmstudio.base_url = Some("http://127.0.0.1:9".into());
    assert_ne!(edited, VTCodeConfig::default());
}
