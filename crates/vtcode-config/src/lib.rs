//! VT Code configuration: `vtcode.toml` plus the environment, resolved into [`VTCodeConfig`].
//!
//! Precedence, highest first: **environment > `vtcode.toml` > defaults**.
//!
//! ```no_run
//! use vtcode_config::ConfigManager;
//!
//! # fn main() -> Result<(), vtcode_config::ConfigError> {
//! let manager = ConfigManager::load_from_workspace(".")?;
//! let cfg = manager.config();
//! assert!(!cfg.lmstudio.api_token_env.is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! The file (every key optional; see `docs/configuration.md` for types, defaults and errors):
//!
//! ```toml
//! [agent]
//! provider = "lmstudio"                 # env VTCODE_PROVIDER overrides
//! default_model = "openai/gpt-oss-20b"
//!
//! [lmstudio]
//! base_url = "http://localhost:1234"    # env LMSTUDIO_URL overrides
//! api_token_env = "LM_API_TOKEN"        # the token itself is only read from this env var
//! connect_timeout_ms = 5000
//! lms_path = "/opt/lms"                 # env LMSTUDIO_LMS_PATH overrides
//! preload = "background"                # background | wait | off
//! context_length = 8192
//! auto_start = false                    # env LMSTUDIO_AUTO_START overrides
//! start_timeout_ms = 90000              # env LMSTUDIO_START_TIMEOUT_MS overrides
//! ```
//!
//! Unknown keys are kept (in the `extra` tables), logged with `tracing::warn!` and listed by
//! [`ConfigManager::unknown_keys`]; they are never an error. The API token is never shown by
//! `Debug` or `Display`.

mod config;
mod env;
mod error;
mod file;
mod manager;
mod secret;

pub use config::{
    AgentConfig, DEFAULT_API_TOKEN_ENV, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS,
    DEFAULT_LOAD_TIMEOUT_MS, DEFAULT_MAX_BODY_BYTES, DEFAULT_PROVIDER, DEFAULT_REQUEST_TIMEOUT_MS,
    DEFAULT_RESPONSE_HEADERS_TIMEOUT_MS, DEFAULT_START_TIMEOUT_MS, LmStudioConfig, PreloadMode,
    VTCodeConfig,
};
pub use env::{ENV_AUTO_START, ENV_BASE_URL, ENV_LMS_PATH, ENV_PROVIDER, ENV_START_TIMEOUT_MS};
pub use error::{ConfigError, Location, Origin};
pub use manager::{CONFIG_FILE_NAME, ConfigManager, MAX_CONFIG_FILE_BYTES};
pub use secret::ApiToken;

/// `toml`, re-exported so users can build and inspect the `extra` tables without depending on
/// a matching version themselves.
pub use toml;

// The crate's README examples compile as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadmeExamples;
