//! [`Lms`]: the commands (`get`, `ls`, `ps`, `server status`, `load`, `unload`), and the one
//! place their arguments go through, which adds `--port` (see [`Lms::with_port`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use lmstudio_proto::lms::{LmsLoadedModel, LmsModel, LmsServerStatus};
use serde::de::DeserializeOwned;

use crate::discovery::{DiscoveryInputs, DiscoverySource, LmsLocation, discover};
use crate::error::LmsError;
use crate::process::{self, Finished, MAX_JSON_STDOUT, Spec, StdoutMode, Stream};
use crate::progress::{DownloadProgress, ProgressFilter};
use crate::text::{contains_ignore_ascii_case, head_chars, strip_ansi};
use crate::validate::validate_model_arg;

/// The time limit for commands other than `get`, unless [`Lms::with_timeout`] changes it.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Options for [`Lms::get`]: `GetOptions::default()` and the `with_*` setters (more options
/// may come, so the struct cannot be built with a literal outside this crate).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GetOptions {
    /// A time limit for the whole download. Default: none (downloads may take hours).
    pub timeout: Option<Duration>,
}

impl GetOptions {
    /// Sets [`GetOptions::timeout`].
    #[must_use]
    pub fn with_timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }
}

/// What [`Lms::get`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetOutcome {
    /// The model was downloaded.
    Downloaded,
    /// lms reported "Model already downloaded"; nothing was fetched.
    AlreadyDownloaded,
}

/// Options for [`Lms::load`] (each maps to an `lms load` flag): `LoadOptions::default()` and
/// the `with_*` setters (more flags may come, so the struct cannot be built with a literal
/// outside this crate).
///
/// ```
/// let options = lmstudio_lms::LoadOptions::default()
///     .with_context_length(Some(8192))
///     .with_ttl_seconds(Some(600));
/// assert_eq!(options.context_length, Some(8192));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadOptions {
    /// `-c <n>`: the context length in tokens (at least 1).
    pub context_length: Option<u32>,
    /// `--ttl <seconds>`: unload after this long unused (at least 1).
    pub ttl_seconds: Option<u64>,
    /// `--gpu <off|max|0..1>`: the GPU offload ratio.
    pub gpu: Option<String>,
    /// `--identifier <id>`: the instance identifier to assign.
    pub identifier: Option<String>,
}

impl LoadOptions {
    /// Sets [`LoadOptions::context_length`] (`None`: the server's choice).
    #[must_use]
    pub fn with_context_length(mut self, tokens: Option<u32>) -> Self {
        self.context_length = tokens;
        self
    }

    /// Sets [`LoadOptions::ttl_seconds`] (`None`: no idle time-to-live).
    #[must_use]
    pub fn with_ttl_seconds(mut self, seconds: Option<u64>) -> Self {
        self.ttl_seconds = seconds;
        self
    }

    /// Sets [`LoadOptions::gpu`] (`off`, `max`, or a ratio `0..1`).
    #[must_use]
    pub fn with_gpu(mut self, gpu: impl Into<String>) -> Self {
        self.gpu = Some(gpu.into());
        self
    }

    /// Sets [`LoadOptions::identifier`].
    #[must_use]
    pub fn with_identifier(mut self, identifier: impl Into<String>) -> Self {
        self.identifier = Some(identifier.into());
        self
    }
}

/// A located `lms` executable, ready to run commands.
///
/// Every command is `async`, runs `lms` directly (never through a shell) with stdin null,
/// drains stdout and stderr concurrently with bounded memory, and is cancel-safe: dropping the
/// future kills the child and reaps it. Commands other than [`Lms::get`] have a time limit
/// ([`DEFAULT_TIMEOUT`], see [`Lms::with_timeout`]).
///
/// With a port set ([`Lms::with_port`]), every command that connects to LM Studio as a client
/// (`get`, `ls`, `ps`, `load`, `unload`, and any added later) gets `--port N`. That matters:
/// without `--port`, `lms` looks for LM Studio on its last used port and *starts* it when it
/// is not running; with `--port N` it only checks `http://127.0.0.1:N/lmstudio-greeting` and
/// exits 1 ("The server does not appear to be running…") when nothing answers. `server status`
/// takes no `--port` (it reads LM Studio's record of its server and never starts anything),
/// and [`Lms::server_start`] passes the port of the server it starts.
///
/// ```no_run
/// # async fn demo() -> Result<(), lmstudio_lms::LmsError> {
/// let lms = lmstudio_lms::Lms::locate(None)?;
/// for model in lms.ls().await? {
///     println!("{}", model.model_key);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Lms {
    location: LmsLocation,
    timeout: Duration,
    port: Option<u16>,
}

impl Lms {
    /// Wraps an already located executable.
    pub fn new(location: LmsLocation) -> Lms {
        Lms {
            location,
            timeout: DEFAULT_TIMEOUT,
            port: None,
        }
    }

    /// Discovers `lms` from this process's environment (see [`discover`]); `explicit` is the
    /// configured path, if any.
    pub fn locate(explicit: Option<PathBuf>) -> Result<Lms, LmsError> {
        discover(&DiscoveryInputs::from_process(explicit)).map(Lms::new)
    }

    /// The absolute path of the executable.
    pub fn path(&self) -> &Path {
        &self.location.path
    }

    /// How the executable was found.
    pub fn source(&self) -> DiscoverySource {
        self.location.source
    }

    /// The location (path and how it was found).
    pub fn location(&self) -> &LmsLocation {
        &self.location
    }

    /// The time limit for commands other than `get`.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sets the time limit for commands other than `get` (default [`DEFAULT_TIMEOUT`]).
    pub fn with_timeout(mut self, limit: Duration) -> Lms {
        self.timeout = limit;
        self
    }

    /// The LM Studio server port every client command passes as `--port` (see the type's
    /// docs); `None` (the default) passes none, so `lms` finds LM Studio itself and may start
    /// it.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// Makes every client command pass `--port <port>`: `lms` then talks to the server on
    /// that port of 127.0.0.1 and never starts LM Studio (see the type's docs).
    pub fn with_port(mut self, port: u16) -> Lms {
        self.port = Some(port);
        self
    }

    /// The arguments of a client command: `args`, then `--port N` when a port is set.
    pub(crate) fn client_args(&self, args: Vec<String>) -> Vec<String> {
        let mut args = args;
        if let Some(port) = self.port {
            args.extend(["--port".to_owned(), port.to_string()]);
        }
        args
    }

    /// Runs a client command (`--port` added, see [`Lms::client_args`]). Every command that
    /// connects to LM Studio goes through here.
    pub(crate) async fn run_client(
        &self,
        args: Vec<String>,
        timeout: Option<Duration>,
        stdout: StdoutMode,
        on_line: &mut (dyn FnMut(Stream, &str) + Send),
    ) -> Result<Finished, LmsError> {
        let args = self.client_args(args);
        self.run_exact(&args, timeout, stdout, on_line).await
    }

    /// Runs `lms <args…>` exactly as given: only for commands that take no `--port`
    /// (`server status`) or give it a meaning of their own (`server start`).
    pub(crate) async fn run_exact(
        &self,
        args: &[String],
        timeout: Option<Duration>,
        stdout: StdoutMode,
        on_line: &mut (dyn FnMut(Stream, &str) + Send),
    ) -> Result<Finished, LmsError> {
        process::run(
            Spec {
                program: self.path(),
                args,
                timeout,
                stdout,
            },
            on_line,
        )
        .await
    }

    /// `lms get --yes <model>`: downloads a model, reporting progress parsed from lms's
    /// progress bar (duplicates skipped).
    ///
    /// "Model already downloaded" is [`GetOutcome::AlreadyDownloaded`]. A non-zero exit is
    /// [`LmsError::Failed`] with the exit code or signal and the last lines of stderr. No time
    /// limit unless [`GetOptions::timeout`] sets one.
    pub async fn get(
        &self,
        model: &str,
        options: &GetOptions,
        progress: &mut (dyn FnMut(DownloadProgress) + Send),
    ) -> Result<GetOutcome, LmsError> {
        validate_model_arg(model)?;
        let args = strings(&["get", "--yes", model]);
        let mut filter = ProgressFilter::new(progress);
        let mut already = false;
        self.run_client(
            args,
            options.timeout,
            StdoutMode::Lines,
            &mut |stream, line| {
                if stream == Stream::Stdout {
                    filter.line(line);
                }
                if contains_ignore_ascii_case(line, "already downloaded") {
                    already = true;
                }
            },
        )
        .await?
        .require_success()?;
        Ok(if already {
            GetOutcome::AlreadyDownloaded
        } else {
            GetOutcome::Downloaded
        })
    }

    /// `lms ls --json`: every downloaded model.
    pub async fn ls(&self) -> Result<Vec<LmsModel>, LmsError> {
        self.json(&["ls", "--json"]).await
    }

    /// `lms ps --json`: every loaded model instance.
    pub async fn ps(&self) -> Result<Vec<LmsLoadedModel>, LmsError> {
        self.json(&["ps", "--json"]).await
    }

    /// `lms server status --json`: whether the API server runs, and on which port. Never with
    /// `--port`: the real command does not accept it (it reads LM Studio's record of its
    /// server, probes it, and never starts anything).
    pub async fn server_status(&self) -> Result<LmsServerStatus, LmsError> {
        let args = strings(&["server", "status", "--json"]);
        self.json_exact(&args).await
    }

    /// `lms load <key> --yes [-c N] [--ttl N] [--gpu X] [--identifier X]`.
    ///
    /// Note that `lms load` always creates a new instance; check [`Lms::ps`] first.
    pub async fn load(&self, key: &str, options: &LoadOptions) -> Result<(), LmsError> {
        let args = load_args(key, options)?;
        self.run_quiet(args).await
    }

    /// `lms unload <identifier>`.
    pub async fn unload(&self, identifier: &str) -> Result<(), LmsError> {
        validate_model_arg(identifier)?;
        self.run_quiet(strings(&["unload", identifier])).await
    }

    /// Runs a client command whose stdout is only a spinner; success is the exit code.
    async fn run_quiet(&self, args: Vec<String>) -> Result<(), LmsError> {
        self.run_client(
            args,
            Some(self.timeout),
            StdoutMode::Discard,
            &mut |_, _| {},
        )
        .await?
        .require_success()
        .map(drop)
    }

    /// Runs a client `--json` command (`--port` added) and parses its stdout.
    pub(crate) async fn json<T: DeserializeOwned>(&self, args: &[&str]) -> Result<T, LmsError> {
        let args = self.client_args(strings(args));
        self.json_exact(&args).await
    }

    /// Runs a `--json` command exactly as given and parses its stdout.
    async fn json_exact<T: DeserializeOwned>(&self, args: &[String]) -> Result<T, LmsError> {
        let finished = self
            .run_exact(
                args,
                Some(self.timeout),
                StdoutMode::Collect {
                    limit: MAX_JSON_STDOUT,
                },
                &mut |_, _| {},
            )
            .await?
            .require_success()?;
        parse_json_output(&finished.command, &finished.stdout)
    }
}

/// Builds and checks the `lms load` arguments.
pub(crate) fn load_args(key: &str, options: &LoadOptions) -> Result<Vec<String>, LmsError> {
    validate_model_arg(key)?;
    let mut args = strings(&["load", key, "--yes"]);
    if let Some(n) = options.context_length {
        if n == 0 {
            return Err(invalid_option(
                "-c",
                n.to_string(),
                "the context length must be at least 1",
            ));
        }
        args.extend(["-c".to_owned(), n.to_string()]);
    }
    if let Some(ttl) = options.ttl_seconds {
        if ttl == 0 {
            return Err(invalid_option(
                "--ttl",
                ttl.to_string(),
                "the TTL must be at least 1 second",
            ));
        }
        args.extend(["--ttl".to_owned(), ttl.to_string()]);
    }
    if let Some(gpu) = &options.gpu {
        let ratio_ok = gpu
            .parse::<f64>()
            .is_ok_and(|r| (0.0..=1.0).contains(&r) && !gpu.starts_with(['-', '+']));
        if !(gpu == "off" || gpu == "max" || ratio_ok) {
            return Err(invalid_option(
                "--gpu",
                gpu.clone(),
                "use \"off\", \"max\" or a number from 0 to 1",
            ));
        }
        args.extend(["--gpu".to_owned(), gpu.clone()]);
    }
    if let Some(identifier) = &options.identifier {
        validate_model_arg(identifier)?;
        args.extend(["--identifier".to_owned(), identifier.clone()]);
    }
    Ok(args)
}

fn invalid_option(option: &'static str, value: String, reason: &'static str) -> LmsError {
    LmsError::InvalidOption {
        option,
        value,
        reason,
    }
}

pub(crate) fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

/// Parses a `--json` command's stdout. The whole output is tried first; if that fails, each
/// line that starts like JSON, from the last, is tried (tolerating a stray log line).
pub(crate) fn parse_json_output<T: DeserializeOwned>(
    command: &str,
    stdout: &[u8],
) -> Result<T, LmsError> {
    let stdout = stdout.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(stdout);
    let text = String::from_utf8_lossy(stdout);
    let first_error = match serde_json::from_str::<T>(text.trim()) {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    for line in text.lines().rev() {
        let line = line.trim();
        if line.starts_with(['[', '{'])
            && let Ok(value) = serde_json::from_str::<T>(line)
        {
            return Ok(value);
        }
    }
    let message = if text.trim().is_empty() {
        "the command printed nothing on stdout".to_owned()
    } else {
        first_error.to_string()
    };
    Err(LmsError::InvalidJson {
        command: command.to_owned(),
        message,
        excerpt: excerpt(&text),
    })
}

/// The start of some output for an error message: escapes removed, lines kept, 256 chars.
fn excerpt(text: &str) -> String {
    let clean: Vec<_> = text.trim().lines().map(strip_ansi).collect();
    head_chars(&clean.join("\n"), 256)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_args_in_order() {
        let options = LoadOptions {
            context_length: Some(8192),
            ttl_seconds: Some(600),
            gpu: Some("0.5".into()),
            identifier: Some("mine".into()),
        };
        assert_eq!(
            load_args("qwen/qwen3-4b", &options).unwrap(),
            strings(&[
                "load",
                "qwen/qwen3-4b",
                "--yes",
                "-c",
                "8192",
                "--ttl",
                "600",
                "--gpu",
                "0.5",
                "--identifier",
                "mine"
            ])
        );
        assert_eq!(
            load_args("k", &LoadOptions::default()).unwrap(),
            strings(&["load", "k", "--yes"])
        );
    }

    #[test]
    fn load_options_are_checked() {
        for gpu in ["2", "-0.5", "all", "", "NaN", "+1"] {
            let options = LoadOptions {
                gpu: Some(gpu.into()),
                ..LoadOptions::default()
            };
            assert!(
                matches!(
                    load_args("k", &options),
                    Err(LmsError::InvalidOption {
                        option: "--gpu",
                        ..
                    })
                ),
                "{gpu}"
            );
        }
        for gpu in ["off", "max", "0", "1", "0.25"] {
            let options = LoadOptions {
                gpu: Some(gpu.into()),
                ..LoadOptions::default()
            };
            assert!(load_args("k", &options).is_ok(), "{gpu}");
        }
        let zero_ctx = LoadOptions {
            context_length: Some(0),
            ..LoadOptions::default()
        };
        assert!(load_args("k", &zero_ctx).is_err());
        let zero_ttl = LoadOptions {
            ttl_seconds: Some(0),
            ..LoadOptions::default()
        };
        assert!(load_args("k", &zero_ttl).is_err());
        let bad_id = LoadOptions {
            identifier: Some("--all".into()),
            ..LoadOptions::default()
        };
        assert!(matches!(
            load_args("k", &bad_id),
            Err(LmsError::InvalidModelArg { .. })
        ));
    }

    #[test]
    fn json_output_tolerates_bom_and_a_stray_line() {
        let v: Vec<u32> = parse_json_output("c", b"\xEF\xBB\xBF[1,2]\n").unwrap();
        assert_eq!(v, vec![1, 2]);
        let v: Vec<u32> = parse_json_output("c", b"Waking up LM Studio service...\n[3]\n").unwrap();
        assert_eq!(v, vec![3]);
        match parse_json_output::<Vec<u32>>("c", b"") {
            Err(LmsError::InvalidJson { message, .. }) => assert!(message.contains("nothing")),
            other => panic!("{other:?}"),
        }
        match parse_json_output::<Vec<u32>>("c", b"\x1b[31mnope") {
            Err(LmsError::InvalidJson { excerpt, .. }) => assert_eq!(excerpt, "nope"),
            other => panic!("{other:?}"),
        }
    }
}
