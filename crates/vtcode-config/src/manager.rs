//! `ConfigManager`: finds and reads `<workspace>/vtcode.toml`, applies the environment.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::config::VTCodeConfig;
use crate::env;
use crate::error::ConfigError;
use crate::file;

/// An injected environment: variable name to value.
type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The name of the configuration file in a workspace directory.
pub const CONFIG_FILE_NAME: &str = "vtcode.toml";

/// The largest configuration file read (1 MiB).
pub const MAX_CONFIG_FILE_BYTES: u64 = 1024 * 1024;

/// Loads the configuration of a workspace: defaults, overridden by `<workspace>/vtcode.toml`,
/// overridden by the environment (environment > file > defaults).
///
/// The quick start:
///
/// ```
/// use vtcode_config::ConfigManager;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let manager = ConfigManager::load_from_workspace(".")?;
/// let cfg = manager.config();
/// println!("provider {} at {:?}", cfg.agent.provider, cfg.lmstudio.base_url);
/// # Ok(())
/// # }
/// ```
///
/// Tests and embedders inject the environment instead of changing the process's:
///
/// ```
/// use vtcode_config::ConfigManager;
///
/// let dir = std::env::temp_dir().join("vtcode-config-doctest-empty-workspace");
/// std::fs::create_dir_all(&dir)?;
/// let manager = ConfigManager::load_from_workspace_with_env(&dir, &|name: &str| {
///     (name == "LMSTUDIO_URL").then(|| "http://127.0.0.1:4321".to_owned())
/// })?;
/// assert_eq!(manager.config().lmstudio.base_url.as_deref(), Some("http://127.0.0.1:4321"));
/// assert_eq!(manager.source_path(), None); // no vtcode.toml there: defaults + env
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// `Debug` never shows the API token.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigManager {
    config: VTCodeConfig,
    source_path: Option<PathBuf>,
    unknown_keys: Vec<String>,
    env_overrides: Vec<String>,
}

impl ConfigManager {
    /// Loads `<dir>/vtcode.toml` (an absent file means the defaults) and applies the process
    /// environment.
    ///
    /// Errors: `dir` is not an existing directory; the file exists but cannot be read, is larger
    /// than [`MAX_CONFIG_FILE_BYTES`], is malformed or holds an invalid value (the message names
    /// the file, line, column and key); the file holds `lmstudio.api_token`; a variable the
    /// loader reads is not UTF-8, or one that holds a number or a boolean does not hold one
    /// ([`Origin::Env`](crate::Origin::Env)).
    pub fn load_from_workspace(dir: impl AsRef<Path>) -> Result<Self, ConfigError> {
        Self::load(dir.as_ref(), None)
    }

    /// Like [`ConfigManager::load_from_workspace`], with the environment read through `env`
    /// instead of the process environment.
    pub fn load_from_workspace_with_env(
        dir: impl AsRef<Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        Self::load(dir.as_ref(), Some(env))
    }

    /// A manager around a config built in code: no file, no environment, no unknown keys.
    pub fn from_config(config: VTCodeConfig) -> Self {
        Self {
            config,
            source_path: None,
            unknown_keys: Vec::new(),
            env_overrides: Vec::new(),
        }
    }

    /// The resolved configuration.
    pub fn config(&self) -> &VTCodeConfig {
        &self.config
    }

    /// Consumes the manager, returning the configuration.
    pub fn into_config(self) -> VTCodeConfig {
        self.config
    }

    /// The file the configuration was read from; `None` when there was none (defaults + env).
    pub fn source_path(&self) -> Option<&Path> {
        self.source_path.as_deref()
    }

    /// The dotted keys in the file this crate does not know (`"mcp"`, `"agent.theme"`), in file
    /// order. They are kept in the `extra` tables and each was logged with `tracing::warn!`.
    pub fn unknown_keys(&self) -> &[String] {
        &self.unknown_keys
    }

    /// The names of the environment variables that overrode a value (never their values).
    pub fn env_overrides(&self) -> &[String] {
        &self.env_overrides
    }

    fn load(dir: &Path, env: Option<EnvLookup<'_>>) -> Result<Self, ConfigError> {
        match std::fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(ConfigError::Workspace {
                    dir: dir.to_owned(),
                    source: io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
                });
            }
            Err(source) => {
                return Err(ConfigError::Workspace {
                    dir: dir.to_owned(),
                    source,
                });
            }
        }
        let path = dir.join(CONFIG_FILE_NAME);
        let (mut config, unknown, source_path) = match read_file(&path)? {
            None => (VTCodeConfig::default(), Vec::new(), None),
            Some(text) => {
                let contents = file::parse(&path, &text)?;
                (contents.config, contents.unknown, Some(path))
            }
        };
        for (key, location) in &unknown {
            tracing::warn!(
                key = %key,
                at = %location,
                "unknown key in vtcode.toml: kept but not used by vtcode-config (check the spelling)"
            );
        }
        let env_overrides = match env {
            Some(lookup) => config.apply_env(lookup)?,
            None => {
                env::check_process_env(&config)?;
                config.apply_env(&env::process_env)?
            }
        };
        Ok(Self {
            config,
            source_path,
            unknown_keys: unknown.into_iter().map(|(key, _)| key).collect(),
            env_overrides,
        })
    }
}

/// The file's text, `None` when it does not exist.
fn read_file(path: &Path) -> Result<Option<String>, ConfigError> {
    let read_error = |source| ConfigError::Read {
        path: path.to_owned(),
        source,
    };
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(read_error(err)),
    };
    // Never open a FIFO or device: opening one can block forever.
    if !meta.is_file() {
        return Err(read_error(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    let too_large = |size| ConfigError::TooLarge {
        path: path.to_owned(),
        size,
        limit: MAX_CONFIG_FILE_BYTES,
    };
    if meta.len() > MAX_CONFIG_FILE_BYTES {
        return Err(too_large(meta.len()));
    }
    // Bounded even if the file grows after the size check.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_CONFIG_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_CONFIG_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Some(text)),
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let bytes = err.into_bytes();
            let prefix = String::from_utf8_lossy(&bytes[..valid]);
            Err(ConfigError::Syntax {
                location: crate::error::Location::from_offset(path, &prefix, valid),
                message: "the file is not valid UTF-8".to_owned(),
            })
        }
    }
}
