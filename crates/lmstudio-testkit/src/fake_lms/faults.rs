//! Misbehaviour on request, for fault tests: the leading options `--record FILE`, `--on CMD`,
//! `--stderr LINE`, `--exit CODE`, `--hang`, `--killed` and `--start-dir DIR`; the outputs
//! chosen for `runtime survey` (`--survey NAME`), `load --estimate-only` (`--estimate SPEC`)
//! and `ps --json` (`--ps-field KEY=JSON`); and [`FakeLmsOptions`], which writes them into
//! the `lms` wrapper ([`super::write_lms_wrapper_with`]). [`recorded_calls`] reads what
//! `--record` wrote.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::estimate::FakeEstimate;
use super::survey::FakeSurvey;

/// What the fake `lms` does instead of its command, when a fault applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// Exit with this code without running the command.
    Exit(i32),
    /// Never finish: sleep until killed.
    Hang,
    /// Die of `SIGKILL` (Unix); elsewhere, abort.
    Killed,
}

/// How the fake `lms` should misbehave, and whether to record its arguments. The default runs
/// every command normally. Give it to [`super::write_lms_wrapper_with`].
///
/// ```
/// use lmstudio_testkit::fake_lms::FakeLmsOptions;
///
/// let options = FakeLmsOptions::new()
///     .only_for("get")
///     .stderr_line("Error: network unreachable")
///     .exit_with(3);
/// assert_eq!(
///     options.args(),
///     ["--on", "get", "--stderr", "Error: network unreachable", "--exit", "3"]
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeLmsOptions {
    record: Option<PathBuf>,
    on: Option<String>,
    stderr: Vec<String>,
    action: Option<Action>,
    survey: Option<FakeSurvey>,
    estimate: Option<FakeEstimate>,
    ps_fields: Vec<(String, Value)>,
    start_dir: Option<PathBuf>,
}

impl FakeLmsOptions {
    /// Every command runs normally, nothing is recorded.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends each invocation's arguments (after the wrapper's own options) as one line to
    /// `path`, a JSON array of strings, before anything else happens. Read them back with
    /// [`recorded_calls`].
    #[must_use]
    pub fn record_args_to(mut self, path: impl Into<PathBuf>) -> Self {
        self.record = Some(path.into());
        self
    }

    /// Lets `lms server start` bring a server up: when nothing answers on the port it asks for,
    /// it writes a request file into `dir` for a
    /// [`ServerStartWatcher`](super::ServerStartWatcher) watching that directory (in the test
    /// process, which starts an emulator or whatever it was told to), then checks the port
    /// like the real `lms` does. Without it, `server start` fails as the real one does when
    /// LM Studio cannot start ("Failed to verify the server is running…").
    #[must_use]
    pub fn server_start_via(mut self, dir: impl Into<PathBuf>) -> Self {
        self.start_dir = Some(dir.into());
        self
    }

    /// The directory given to [`FakeLmsOptions::server_start_via`].
    pub(crate) fn start_dir(&self) -> Option<&Path> {
        self.start_dir.as_deref()
    }

    /// The stderr lines and the action apply only to `lms <command>` (`get`, `load`, ...);
    /// other commands run normally. Without it they apply to every command.
    #[must_use]
    pub fn only_for(mut self, command: impl Into<String>) -> Self {
        self.on = Some(command.into());
        self
    }

    /// Prints `line` on stderr first (repeatable; in order). Without an action the command
    /// then runs normally.
    #[must_use]
    pub fn stderr_line(mut self, line: impl Into<String>) -> Self {
        self.stderr.push(line.into());
        self
    }

    /// Exits with `code` instead of running the command.
    #[must_use]
    pub fn exit_with(mut self, code: i32) -> Self {
        self.action = Some(Action::Exit(code));
        self
    }

    /// Never finishes (sleeps until killed) instead of running the command.
    #[must_use]
    pub fn hang(mut self) -> Self {
        self.action = Some(Action::Hang);
        self
    }

    /// Dies of `SIGKILL` (signal 9) instead of running the command; off Unix it aborts.
    #[must_use]
    pub fn killed_by_signal(mut self) -> Self {
        self.action = Some(Action::Killed);
        self
    }

    /// The machine `lms runtime survey --json` describes (default [`FakeSurvey::Cuda`]).
    #[must_use]
    pub fn survey(mut self, survey: FakeSurvey) -> Self {
        self.survey = Some(survey);
        self
    }

    /// What `lms load --estimate-only` prints (default [`FakeEstimate::fits`]).
    #[must_use]
    pub fn estimate(mut self, estimate: FakeEstimate) -> Self {
        self.estimate = Some(estimate);
        self
    }

    /// Sets `key` to `value` on every row `lms ps --json` prints (repeatable), e.g.
    /// `deviceIdentifier` for an instance on an LM Link device, or `ttlMs`.
    #[must_use]
    pub fn ps_field(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.ps_fields.push((key.into(), value.into()));
        self
    }

    /// The survey chosen with [`survey`](Self::survey).
    pub(crate) fn survey_choice(&self) -> FakeSurvey {
        self.survey.unwrap_or_default()
    }

    /// The estimate chosen with [`estimate`](Self::estimate).
    pub(crate) fn estimate_choice(&self) -> FakeEstimate {
        self.estimate.clone().unwrap_or_default()
    }

    /// The fields set with [`ps_field`](Self::ps_field).
    pub(crate) fn ps_fields(&self) -> &[(String, Value)] {
        &self.ps_fields
    }

    /// The leading options the `fake-lms` binary reads for these settings.
    pub fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(path) = &self.record {
            args.push("--record".to_owned());
            args.push(path.to_string_lossy().into_owned());
        }
        if let Some(command) = &self.on {
            args.push("--on".to_owned());
            args.push(command.clone());
        }
        for line in &self.stderr {
            args.push("--stderr".to_owned());
            args.push(line.clone());
        }
        match self.action {
            Some(Action::Exit(code)) => {
                args.push("--exit".to_owned());
                args.push(code.to_string());
            }
            Some(Action::Hang) => args.push("--hang".to_owned()),
            Some(Action::Killed) => args.push("--killed".to_owned()),
            None => {}
        }
        if let Some(survey) = self.survey {
            args.push("--survey".to_owned());
            args.push(survey.as_arg().to_owned());
        }
        if let Some(estimate) = &self.estimate {
            args.push("--estimate".to_owned());
            args.push(estimate.to_arg());
        }
        for (key, value) in &self.ps_fields {
            args.push("--ps-field".to_owned());
            args.push(format!("{key}={value}"));
        }
        if let Some(dir) = &self.start_dir {
            args.push("--start-dir".to_owned());
            args.push(dir.to_string_lossy().into_owned());
        }
        args
    }

    /// Reads one leading option from `args` into `self`: `Ok(Some(n))` consumed `n`
    /// arguments, `Ok(None)` means `args` does not start with one of these options.
    pub(crate) fn parse_one(&mut self, args: &[String]) -> Result<Option<usize>, String> {
        let Some(flag) = args.first() else {
            return Ok(None);
        };
        let value = || {
            args.get(1)
                .cloned()
                .ok_or_else(|| format!("option '{flag}' argument missing"))
        };
        match flag.as_str() {
            "--record" => self.record = Some(PathBuf::from(value()?)),
            "--on" => self.on = Some(value()?),
            "--start-dir" => self.start_dir = Some(PathBuf::from(value()?)),
            "--stderr" => self.stderr.push(value()?),
            "--exit" => {
                let text = value()?;
                let code = text
                    .parse()
                    .map_err(|_| format!("option '--exit': not an exit code: {text}"))?;
                self.action = Some(Action::Exit(code));
            }
            "--hang" => {
                self.action = Some(Action::Hang);
                return Ok(Some(1));
            }
            "--killed" => {
                self.action = Some(Action::Killed);
                return Ok(Some(1));
            }
            "--survey" => self.survey = Some(FakeSurvey::from_arg(&value()?)?),
            "--estimate" => self.estimate = Some(FakeEstimate::from_arg(&value()?)?),
            "--ps-field" => self.ps_fields.push(super::link::parse_field(&value()?)?),
            _ => return Ok(None),
        }
        Ok(Some(2))
    }

    /// Records `command_line` and plays the fault for `command`: `Some(code)` when the fake
    /// must exit with `code` instead of running the command.
    pub(crate) fn apply(
        &self,
        command: Option<&str>,
        command_line: &[String],
        err: &mut dyn Write,
    ) -> Option<i32> {
        if let Some(path) = &self.record
            && let Err(e) = record(path, command_line)
        {
            return Some(super::fail(
                err,
                &format!("fake-lms: could not record to {}: {e}", path.display()),
            ));
        }
        if self.on.as_deref().is_some_and(|on| Some(on) != command) {
            return None;
        }
        for line in &self.stderr {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
        match self.action? {
            Action::Exit(code) => Some(code),
            Action::Hang => loop {
                std::thread::sleep(Duration::from_secs(3600));
            },
            Action::Killed => Some(kill_self(err)),
        }
    }
}

/// Appends `args` as one line to `path`: a JSON array of strings, written with one `write`
/// so concurrent fakes appending to the same file never interleave within a line.
fn record(path: &Path, args: &[String]) -> std::io::Result<()> {
    let mut line = serde_json::to_string(args).map_err(std::io::Error::other)?;
    line.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(line.as_bytes())
}

/// The calls recorded with [`FakeLmsOptions::record_args_to`], in order: each call's
/// arguments. A file that does not exist means no call was made.
///
/// # Errors
/// The file cannot be read, or a line is not a JSON array of strings (`InvalidData`).
pub fn recorded_calls(path: &Path) -> std::io::Result<Vec<Vec<String>>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: not a recorded call: {e}: {line}", path.display()),
                )
            })
        })
        .collect()
}

/// Sends this process `SIGKILL` and waits for it; returns 1 only if that failed.
#[cfg(unix)]
fn kill_self(err: &mut dyn Write) -> i32 {
    let pid = std::process::id().to_string();
    match std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status()
    {
        Ok(_) => loop {
            // The signal is on its way.
            std::thread::sleep(Duration::from_secs(3600));
        },
        Err(e) => super::fail(err, &format!("fake-lms: could not run kill: {e}")),
    }
}

/// Off Unix there are no signals to die of: abort.
#[cfg(not(unix))]
fn kill_self(_err: &mut dyn Write) -> i32 {
    std::process::abort()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(args: &[&str]) -> Result<FakeLmsOptions, String> {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        let mut options = FakeLmsOptions::new();
        let mut rest = &args[..];
        while let Some(n) = options.parse_one(rest)? {
            rest = &rest[n..];
        }
        assert!(rest.is_empty(), "left over: {rest:?}");
        Ok(options)
    }

    #[test]
    fn options_round_trip_through_their_arguments() {
        let options = FakeLmsOptions::new()
            .record_args_to("/tmp/args.txt")
            .only_for("load")
            .stderr_line("Error: one")
            .stderr_line("two words")
            .server_start_via("/tmp/starts")
            .hang();
        let args = options.args();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(parse_all(&refs).unwrap(), options);
        for options in [
            FakeLmsOptions::new().exit_with(3),
            FakeLmsOptions::new().killed_by_signal(),
            FakeLmsOptions::new(),
            FakeLmsOptions::new()
                .survey(FakeSurvey::AppleSilicon)
                .estimate(FakeEstimate::will_fail().coloured())
                .ps_field("deviceIdentifier", "mac-studio")
                .ps_field("ttlMs", 600_000),
        ] {
            let args = options.args();
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            assert_eq!(parse_all(&refs).unwrap(), options);
        }
    }

    #[test]
    fn calls_are_recorded_as_json_arrays_and_read_back() {
        let dir = std::env::temp_dir().join(format!("fake-lms-record-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("calls.jsonl");
        let _ = std::fs::remove_file(&path);
        assert!(recorded_calls(&path).unwrap().is_empty());
        let first: Vec<String> = vec!["get".into(), "--yes".into(), "a b\"c".into()];
        record(&path, &first).unwrap();
        record(&path, &["ls".to_owned()]).unwrap();
        assert_eq!(
            recorded_calls(&path).unwrap(),
            vec![first, vec!["ls".to_owned()]]
        );
        std::fs::write(&path, "not json\n").unwrap();
        assert_eq!(
            recorded_calls(&path).unwrap_err().kind(),
            std::io::ErrorKind::InvalidData
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(parse_all(&["--exit", "three"]).is_err());
        assert!(parse_all(&["--on"]).is_err());
        assert!(parse_all(&["--survey", "cray"]).is_err());
        assert!(parse_all(&["--estimate", "maybe"]).is_err());
        assert!(parse_all(&["--ps-field", "ttlMs"]).is_err());
    }

    #[test]
    fn a_fault_for_another_command_is_not_played() {
        let options = FakeLmsOptions::new()
            .only_for("get")
            .stderr_line("Error: x")
            .exit_with(3);
        let mut err = Vec::new();
        assert_eq!(options.apply(Some("ls"), &[], &mut err), None);
        assert!(err.is_empty());
        assert_eq!(options.apply(Some("get"), &[], &mut err), Some(3));
        assert_eq!(String::from_utf8(err).unwrap(), "Error: x\n");
    }
}
