//! Find LM Studio's `lms` command-line tool and drive it asynchronously.
//!
//! - [`discover`] / [`Lms::locate`]: explicit path, `LMSTUDIO_LMS_PATH`, `PATH` (with
//!   `PATHEXT` on Windows), then LM Studio's home (`~/.lmstudio-home-pointer`,
//!   `~/.cache/lm-studio`, `~/.lmstudio`). All inputs are injectable ([`DiscoveryInputs`]).
//! - [`Lms`]: `get` (download with parsed progress), `ls`, `ps`, `server status`,
//!   `runtime survey` (parsed into [`lmstudio_proto::lms`] types), `load`, `unload`,
//!   `load --estimate-only` ([`Lms::estimate_load`], parsed into a [`LoadEstimate`]) and
//!   `server start`. With
//!   [`Lms::with_port`], every command that connects to LM Studio passes `--port`, so `lms`
//!   never starts LM Studio behind the caller's back; only [`Lms::server_start`] may.
//! - Processes run without a shell, with stdin null and both pipes drained concurrently with
//!   bounded memory. Every command future is cancel-safe: dropping it kills and reaps `lms`.
//! - [`parse_progress_line`] for `lms get`'s progress bar, [`format_bytes`] for sizes as `lms`
//!   prints them.
//!
//! This crate knows processes and the `lms` CLI, nothing of HTTP.

mod discovery;
mod error;
mod estimate;
mod lms;
mod process;
mod progress;
#[cfg(test)]
mod prop_estimate;
#[cfg(test)]
mod prop_tests;
mod server_config;
mod server_start;
mod survey;
mod text;
mod validate;

pub use discovery::{
    DiscoveryInputs, DiscoverySource, HOME_POINTER_FILE, LMS_PATH_ENV, LmsLocation, Platform,
    discover, lmstudio_home,
};
pub use error::{LmsError, NOT_FOUND_MESSAGE};
pub use estimate::{EstimateOptions, EstimateVerdict, LoadEstimate};
pub use lms::{DEFAULT_TIMEOUT, GetOptions, GetOutcome, Lms, LoadOptions};
pub use progress::{DownloadProgress, format_bytes, parse_progress_line};
pub use server_config::{
    MAX_SERVER_CONFIG_BYTES, SERVER_CONFIG_FILE, ServerConfig, ServerConfigError,
    read_server_config, read_user_server_config,
};
pub use server_start::ServerStartOptions;
// Public for the fuzz targets (`fuzz/fuzz_targets/lms_progress.rs`) as well as callers.
pub use text::strip_ansi;
pub use validate::validate_model_arg;
