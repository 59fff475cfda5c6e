//! Precedence: environment > `vtcode.toml` > defaults, for each of the variables.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::path::PathBuf;

use support::{empty_workspace, env, no_env, workspace};
use vtcode_config::{ConfigManager, VTCodeConfig};

const FILE: &str = r#"
[agent]
provider = "file-provider"

[lmstudio]
base_url = "http://file-host:1234"
lms_path = "/file/lms"
"#;

fn load(dir: &std::path::Path, pairs: &[(&str, &str)]) -> ConfigManager {
    ConfigManager::load_from_workspace_with_env(dir, &env(pairs)).unwrap()
}

#[test]
fn provider_env_beats_file_beats_default() {
    let none = empty_workspace();
    let file = workspace(FILE);
    let env_pairs = [("VTCODE_PROVIDER", "env-provider")];
    assert_eq!(load(none.path(), &[]).config().agent.provider, "lmstudio");
    assert_eq!(
        load(file.path(), &[]).config().agent.provider,
        "file-provider"
    );
    assert_eq!(
        load(none.path(), &env_pairs).config().agent.provider,
        "env-provider"
    );
    assert_eq!(
        load(file.path(), &env_pairs).config().agent.provider,
        "env-provider"
    );
}

#[test]
fn base_url_env_beats_file_beats_default() {
    let none = empty_workspace();
    let file = workspace(FILE);
    let env_pairs = [("LMSTUDIO_URL", "http://env-host:1234/v1")];
    let url = |m: ConfigManager| m.config().lmstudio.base_url.clone();
    assert_eq!(url(load(none.path(), &[])), None);
    assert_eq!(
        url(load(file.path(), &[])).as_deref(),
        Some("http://file-host:1234")
    );
    assert_eq!(
        url(load(none.path(), &env_pairs)).as_deref(),
        Some("http://env-host:1234/v1")
    );
    assert_eq!(
        url(load(file.path(), &env_pairs)).as_deref(),
        Some("http://env-host:1234/v1")
    );
}

#[test]
fn lms_path_env_beats_file_beats_default() {
    let none = empty_workspace();
    let file = workspace(FILE);
    let env_pairs = [("LMSTUDIO_LMS_PATH", "/env/lms")];
    let path = |m: ConfigManager| m.config().lmstudio.lms_path.clone();
    assert_eq!(path(load(none.path(), &[])), None);
    assert_eq!(
        path(load(file.path(), &[])),
        Some(PathBuf::from("/file/lms"))
    );
    assert_eq!(
        path(load(none.path(), &env_pairs)),
        Some(PathBuf::from("/env/lms"))
    );
    assert_eq!(
        path(load(file.path(), &env_pairs)),
        Some(PathBuf::from("/env/lms"))
    );
}

#[test]
fn token_comes_from_the_default_variable() {
    let dir = empty_workspace();
    let manager = load(dir.path(), &[("LM_API_TOKEN", "sk-lm-default")]);
    let token = manager.config().lmstudio.api_token.as_ref().unwrap();
    assert_eq!(token.expose(), "sk-lm-default");
    assert_eq!(manager.env_overrides(), ["LM_API_TOKEN"]);
}

#[test]
fn token_comes_from_the_variable_the_file_names() {
    let dir = workspace("[lmstudio]\napi_token_env = \"MY_LMSTUDIO_TOKEN\"\n");
    // The default variable is ignored once the file names another one.
    let manager = load(dir.path(), &[("LM_API_TOKEN", "sk-lm-wrong")]);
    assert_eq!(manager.config().lmstudio.api_token, None);
    let manager = load(
        dir.path(),
        &[
            ("LM_API_TOKEN", "sk-lm-wrong"),
            ("MY_LMSTUDIO_TOKEN", "sk-lm-right"),
        ],
    );
    let token = manager.config().lmstudio.api_token.as_ref().unwrap();
    assert_eq!(token.expose(), "sk-lm-right");
}

#[test]
fn empty_and_blank_values_count_as_unset() {
    let dir = workspace(FILE);
    for blank in ["", "   ", "\t"] {
        let manager = load(
            dir.path(),
            &[
                ("VTCODE_PROVIDER", blank),
                ("LMSTUDIO_URL", blank),
                ("LMSTUDIO_LMS_PATH", blank),
                ("LM_API_TOKEN", blank),
            ],
        );
        let cfg = manager.config();
        assert_eq!(cfg.agent.provider, "file-provider");
        assert_eq!(
            cfg.lmstudio.base_url.as_deref(),
            Some("http://file-host:1234")
        );
        assert_eq!(cfg.lmstudio.lms_path, Some(PathBuf::from("/file/lms")));
        assert_eq!(cfg.lmstudio.api_token, None);
        assert!(manager.env_overrides().is_empty(), "{blank:?}");
    }
}

#[test]
fn values_are_trimmed_except_the_lms_path() {
    let dir = empty_workspace();
    let manager = load(
        dir.path(),
        &[
            ("LMSTUDIO_URL", " http://env-host:1234 \n"),
            ("LM_API_TOKEN", "sk-lm-token\n"),
            ("LMSTUDIO_LMS_PATH", "/path with space/lms"),
        ],
    );
    let lm = &manager.config().lmstudio;
    assert_eq!(lm.base_url.as_deref(), Some("http://env-host:1234"));
    assert_eq!(lm.api_token.as_ref().unwrap().expose(), "sk-lm-token");
    assert_eq!(lm.lms_path, Some(PathBuf::from("/path with space/lms")));
}

#[test]
fn only_the_documented_variables_are_read() {
    let dir = empty_workspace();
    let manager = load(
        dir.path(),
        &[
            ("VTCODE_MODEL", "some/model"),
            ("LMSTUDIO_CONNECT_TIMEOUT_MS", "1"),
            ("LMSTUDIO_API_TOKEN", "sk-lm-other"),
        ],
    );
    assert_eq!(manager.config(), &VTCodeConfig::default());
    assert!(manager.env_overrides().is_empty());
}

#[test]
fn env_overrides_lists_the_applied_variables_in_order() {
    let dir = workspace(FILE);
    let manager = load(
        dir.path(),
        &[
            ("LM_API_TOKEN", "sk-lm-token"),
            ("LMSTUDIO_URL", "http://env-host:1"),
            ("VTCODE_PROVIDER", "p"),
            ("LMSTUDIO_LMS_PATH", "/env/lms"),
        ],
    );
    assert_eq!(
        manager.env_overrides(),
        [
            "VTCODE_PROVIDER",
            "LMSTUDIO_URL",
            "LMSTUDIO_LMS_PATH",
            "LM_API_TOKEN"
        ]
    );
}

#[test]
fn apply_env_works_on_configs_built_in_code() {
    let mut config = VTCodeConfig::lmstudio_at("http://code-host:1");
    let applied = config.apply_env(&no_env).unwrap();
    assert!(applied.is_empty());
    assert_eq!(
        config.lmstudio.base_url.as_deref(),
        Some("http://code-host:1")
    );
    config
        .apply_env(&env(&[("LMSTUDIO_URL", "http://env-host:2")]))
        .unwrap();
    assert_eq!(
        config.lmstudio.base_url.as_deref(),
        Some("http://env-host:2")
    );
}

#[test]
fn auto_start_and_its_timeout_env_beats_file_beats_default() {
    let none = empty_workspace();
    let file = workspace("[lmstudio]\nauto_start = true\nstart_timeout_ms = 1000\n");
    let lm = |m: ConfigManager| {
        let lm = &m.config().lmstudio;
        (lm.auto_start, lm.start_timeout_ms)
    };
    assert_eq!(lm(load(none.path(), &[])), (false, 90_000));
    assert_eq!(lm(load(file.path(), &[])), (true, 1000));
    let env_pairs = [
        ("LMSTUDIO_AUTO_START", "off"),
        ("LMSTUDIO_START_TIMEOUT_MS", "2500"),
    ];
    assert_eq!(lm(load(file.path(), &env_pairs)), (false, 2500));
    assert_eq!(
        lm(load(none.path(), &[("LMSTUDIO_AUTO_START", "1")])),
        (true, 90_000)
    );
    let manager = load(file.path(), &env_pairs);
    assert_eq!(
        manager.env_overrides(),
        ["LMSTUDIO_AUTO_START", "LMSTUDIO_START_TIMEOUT_MS"]
    );
}

#[test]
fn a_bad_auto_start_variable_fails_the_load_naming_it() {
    let dir = empty_workspace();
    let err = ConfigManager::load_from_workspace_with_env(
        dir.path(),
        &env(&[("LMSTUDIO_AUTO_START", "sometimes")]),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("LMSTUDIO_AUTO_START"), "{text}");
    assert!(text.contains("lmstudio.auto_start"), "{text}");
    let err = ConfigManager::load_from_workspace_with_env(
        dir.path(),
        &env(&[("LMSTUDIO_START_TIMEOUT_MS", "0")]),
    )
    .unwrap_err();
    assert!(
        matches!(&err, vtcode_config::ConfigError::InvalidValue { origin: vtcode_config::Origin::Env(var), .. } if var == "LMSTUDIO_START_TIMEOUT_MS"),
        "{err:?}"
    );
}
