//! Secrets: the token is never read from the file and never shown by `Debug` or `Display`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use support::{config_path, env, no_env, workspace};
use vtcode_config::{ApiToken, ConfigError, ConfigManager, VTCodeConfig};

const SECRET: &str = "sk-lm-Zq9SECRETvalue";

#[test]
fn api_token_debug_and_display_are_redacted() {
    let token = ApiToken::new(SECRET);
    assert_eq!(format!("{token:?}"), "ApiToken(<redacted>)");
    assert_eq!(format!("{token:#?}"), "ApiToken(<redacted>)");
    assert_eq!(token.to_string(), "<redacted>");
    assert_eq!(token.expose(), SECRET);
}

#[test]
fn token_never_appears_in_debug_of_config_or_manager() {
    let dir = workspace("[lmstudio]\nbase_url = \"http://127.0.0.1:1234\"\n");
    let manager =
        ConfigManager::load_from_workspace_with_env(dir.path(), &env(&[("LM_API_TOKEN", SECRET)]))
            .unwrap();
    assert_eq!(
        manager
            .config()
            .lmstudio
            .api_token
            .as_ref()
            .map(ApiToken::expose),
        Some(SECRET)
    );
    for rendered in [
        format!("{manager:?}"),
        format!("{manager:#?}"),
        format!("{:?}", manager.config()),
        format!("{:#?}", manager.config()),
        format!("{:?}", manager.config().lmstudio),
        format!("{:?}", manager.env_overrides()),
    ] {
        assert!(!rendered.contains(SECRET), "token leaked: {rendered}");
        assert!(
            !rendered.contains("Zq9"),
            "part of the token leaked: {rendered}"
        );
    }
    assert!(format!("{:?}", manager.config()).contains("ApiToken(<redacted>)"));
}

#[test]
fn code_built_config_debug_is_redacted() {
    let config = VTCodeConfig::default().with_api_token(SECRET);
    assert!(!format!("{config:?}").contains(SECRET));
    assert_eq!(
        config.lmstudio.api_token.as_ref().map(ApiToken::expose),
        Some(SECRET)
    );
}

#[test]
fn unknown_key_values_are_not_shown_by_debug() {
    // A secret under a misspelt or foreign key is kept, but Debug prints only the key names.
    let dir = workspace(&format!(
        "api_key = \"{SECRET}\"\n[agent]\ntoken = \"{SECRET}\"\n[lmstudio]\napi_key = \"{SECRET}\"\n"
    ));
    let manager = ConfigManager::load_from_workspace_with_env(dir.path(), &no_env).unwrap();
    let rendered = format!("{manager:?}");
    assert!(!rendered.contains(SECRET), "{rendered}");
    assert!(rendered.contains("api_key"), "{rendered}");
    assert_eq!(
        manager.config().extra["api_key"].as_str(),
        Some(SECRET),
        "the value is kept for whoever knows the key"
    );
}

#[test]
fn api_token_in_file_is_a_clear_error() {
    let dir = workspace(&format!("[lmstudio]\napi_token = \"{SECRET}\"\n"));
    let err = ConfigManager::load_from_workspace_with_env(dir.path(), &no_env).unwrap_err();
    let ConfigError::TokenInFile { location, env_var } = &err else {
        panic!("expected TokenInFile, got {err:?}");
    };
    assert_eq!((location.line, location.column), (2, 1));
    assert_eq!(env_var, "LM_API_TOKEN");
    let message = err.to_string();
    assert!(message.contains(&config_path(dir.path())), "{message}");
    assert!(message.contains("`lmstudio.api_token`"), "{message}");
    assert!(message.contains("`LM_API_TOKEN`"), "{message}");
    assert!(!message.contains(SECRET), "{message}");
    assert!(!format!("{err:?}").contains(SECRET), "{err:?}");
}

#[test]
fn api_token_in_file_names_the_configured_variable() {
    // Dotted form, with api_token_env written after the token: still the configured name.
    let dir = workspace(&format!(
        "lmstudio.api_token = \"{SECRET}\"\nlmstudio.api_token_env = \"MY_LMSTUDIO_TOKEN\"\n"
    ));
    let err = ConfigManager::load_from_workspace_with_env(dir.path(), &no_env).unwrap_err();
    assert!(
        matches!(&err, ConfigError::TokenInFile { env_var, .. } if env_var == "MY_LMSTUDIO_TOKEN"),
        "{err:?}"
    );
    assert!(err.to_string().contains("`MY_LMSTUDIO_TOKEN`"), "{err}");
}

#[test]
fn api_token_in_file_is_refused_even_when_the_env_has_one() {
    let dir = workspace("[lmstudio]\napi_token = \"\"\n");
    let err =
        ConfigManager::load_from_workspace_with_env(dir.path(), &env(&[("LM_API_TOKEN", SECRET)]))
            .unwrap_err();
    assert!(matches!(err, ConfigError::TokenInFile { .. }), "{err:?}");
}
