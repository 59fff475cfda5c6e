//! Running one `lms` command: spawn without a shell, drain both pipes, bound everything, and
//! make sure the child is killed and reaped whatever happens to the future.

use std::io;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};
use tokio::time::Instant;

use crate::error::LmsError;
use crate::text::{LineSplitter, TailBuffer};

/// Lines of stderr kept for error messages.
pub(crate) const STDERR_TAIL_LINES: usize = 20;
/// Bytes of stderr kept for error messages.
pub(crate) const STDERR_TAIL_BYTES: usize = 8 * 1024;
/// The most stdout a JSON command may print (a long `lms ls --json` is a few hundred KiB).
pub(crate) const MAX_JSON_STDOUT: usize = 16 * 1024 * 1024;
/// Longest line handed to a line callback; the rest of a longer line is dropped.
const MAX_LINE: usize = 64 * 1024;
/// After the child exits, how long to keep reading pipes a grandchild may still hold open.
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// How long to wait for a killed child to be reaped before leaving it to the background reaper.
const REAP_LIMIT: Duration = Duration::from_secs(10);
/// Polls of 2 ms for a killed child's exit when dropped outside any runtime.
const BLOCKING_REAP_POLLS: u32 = 100;
/// Retries when `spawn` fails with "text file busy" (an executable just written by a process
/// that forked meanwhile); the delays double from 10 ms.
const SPAWN_RETRIES: u32 = 6;

/// What to do with the child's stdout.
#[derive(Debug, Clone, Copy)]
pub(crate) enum StdoutMode {
    /// Keep it all, up to `limit` bytes (the child is killed past that).
    Collect {
        /// The limit in bytes.
        limit: usize,
    },
    /// Split into lines (`\r` and `\n`, ANSI removed) for the line callback; keep nothing.
    Lines,
    /// Read and throw away.
    Discard,
}

/// Which pipe a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

/// One command to run.
pub(crate) struct Spec<'a> {
    pub(crate) program: &'a Path,
    pub(crate) args: &'a [String],
    pub(crate) timeout: Option<Duration>,
    pub(crate) stdout: StdoutMode,
}

impl Spec<'_> {
    /// `lms <args…>` for messages.
    pub(crate) fn command_line(&self) -> String {
        command_line(self.args)
    }
}

/// `lms <args…>` for messages.
pub(crate) fn command_line(args: &[String]) -> String {
    let mut out = String::from("lms");
    for arg in args {
        out.push(' ');
        out.push_str(arg);
    }
    out
}

/// What a finished command left behind.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) command: String,
    pub(crate) status: ExitStatus,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr_tail: String,
}

impl Finished {
    /// `Ok(self)` on exit code 0, else [`LmsError::Failed`].
    pub(crate) fn require_success(self) -> Result<Self, LmsError> {
        if self.status.success() {
            Ok(self)
        } else {
            Err(LmsError::Failed {
                command: self.command,
                status: describe_status(self.status),
                stderr_tail: self.stderr_tail,
            })
        }
    }
}

/// `exit code N`, `signal N`, or a fallback.
pub(crate) fn describe_status(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit code {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("signal {signal}");
        }
    }
    format!("unknown exit status ({status})")
}

/// Runs a command to completion. `on_line` sees every stderr line, and every stdout line in
/// [`StdoutMode::Lines`]. Dropping the returned future kills and reaps the child.
pub(crate) async fn run(
    spec: Spec<'_>,
    on_line: &mut (dyn FnMut(Stream, &str) + Send),
) -> Result<Finished, LmsError> {
    run_with_env(spec, &[], on_line).await
}

/// [`run`], with `env` added to the child's environment (after the variables every command
/// gets, so it may override them).
pub(crate) async fn run_with_env(
    spec: Spec<'_>,
    env: &[(&str, &str)],
    on_line: &mut (dyn FnMut(Stream, &str) + Send),
) -> Result<Finished, LmsError> {
    let command = spec.command_line();
    let mut child = spawn(spec.program, spec.args, env).await?;
    tracing::debug!(command = %command, pid = child.id(), "started lms");
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let mut guard = ChildGuard { child: Some(child) };
    // A limit too far ahead to represent (`Duration::MAX`) is no limit, not an overflow.
    let deadline = spec
        .timeout
        .and_then(|limit| Instant::now().checked_add(limit));
    let result = drive(
        &mut guard, &spec, &command, stdout, stderr, deadline, on_line,
    )
    .await;
    if result.is_err() {
        guard.kill_and_reap().await;
    }
    result
}

/// The read/wait loop. On error the caller kills and reaps the child.
async fn drive(
    guard: &mut ChildGuard,
    spec: &Spec<'_>,
    command: &str,
    mut stdout: Option<tokio::process::ChildStdout>,
    mut stderr: Option<tokio::process::ChildStderr>,
    deadline: Option<Instant>,
    on_line: &mut (dyn FnMut(Stream, &str) + Send),
) -> Result<Finished, LmsError> {
    let io_error = |source: io::Error| LmsError::Io {
        command: command.to_owned(),
        source,
    };
    let mut out_buf = vec![0u8; 64 * 1024];
    let mut err_buf = vec![0u8; 16 * 1024];
    let mut collected = Vec::new();
    let mut out_lines = LineSplitter::new(MAX_LINE);
    let mut err_lines = LineSplitter::new(MAX_LINE);
    let mut tail = TailBuffer::new(STDERR_TAIL_LINES, STDERR_TAIL_BYTES);
    let mut status: Option<ExitStatus> = None;
    let mut grace_end: Option<Instant> = None;

    loop {
        if stdout.is_none() && stderr.is_none() && status.is_some() {
            break;
        }
        // Before exit the command's deadline applies; after it, the drain grace period.
        let wake = if status.is_some() {
            grace_end
        } else {
            deadline
        };
        tokio::select! {
            read = read_some(&mut stdout, &mut out_buf) => match read {
                Ok(0) => stdout = None,
                Ok(n) => {
                    let bytes = &out_buf[..n];
                    match spec.stdout {
                        StdoutMode::Collect { limit } => {
                            if collected.len() + n > limit {
                                return Err(LmsError::OutputTooLarge {
                                    command: command.to_owned(),
                                    limit,
                                });
                            }
                            collected.extend_from_slice(bytes);
                        }
                        StdoutMode::Lines => {
                            out_lines.push(bytes, &mut |line| on_line(Stream::Stdout, line));
                        }
                        StdoutMode::Discard => {}
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error(e)),
            },
            read = read_some(&mut stderr, &mut err_buf) => match read {
                Ok(0) => stderr = None,
                Ok(n) => err_lines.push(&err_buf[..n], &mut |line| {
                    tracing::trace!(line, "lms stderr");
                    tail.push(line);
                    on_line(Stream::Stderr, line);
                }),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error(e)),
            },
            waited = guard.wait(), if status.is_none() => {
                status = Some(waited.map_err(io_error)?);
                grace_end = Some(Instant::now() + DRAIN_GRACE);
            },
            () = sleep_until(wake) => {
                if status.is_none() {
                    return Err(LmsError::Timeout {
                        command: command.to_owned(),
                        limit: spec.timeout.unwrap_or_default(),
                    });
                }
                // The child exited but something (a grandchild) still holds a pipe open.
                tracing::debug!(command, "lms exited but its output pipes stayed open; not waiting longer");
                break;
            },
        }
    }

    if matches!(spec.stdout, StdoutMode::Lines) {
        out_lines.finish(&mut |line| on_line(Stream::Stdout, line));
    }
    err_lines.finish(&mut |line| {
        tail.push(line);
        on_line(Stream::Stderr, line);
    });
    let Some(status) = status else {
        // Unreachable by the loop's exit condition; report rather than panic.
        return Err(io_error(io::Error::other(
            "lms finished without an exit status",
        )));
    };
    tracing::debug!(command, status = %describe_status(status), "lms finished");
    Ok(Finished {
        command: command.to_owned(),
        status,
        stdout: collected,
        stderr_tail: tail.joined(),
    })
}

/// Reads from a pipe that may already be closed (then never completes).
async fn read_some<R: tokio::io::AsyncRead + Unpin>(
    pipe: &mut Option<R>,
    buf: &mut [u8],
) -> io::Result<usize> {
    match pipe {
        Some(pipe) => pipe.read(buf).await,
        None => std::future::pending().await,
    }
}

/// Sleeps until `at`, or forever when there is no deadline.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Starts the child: no shell, stdin null, both outputs piped, killed on drop, English output,
/// plus `env`.
async fn spawn(program: &Path, args: &[String], env: &[(&str, &str)]) -> Result<Child, LmsError> {
    let mut attempt = 0;
    loop {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // lms translates its messages for zh-CN locales; ask for the English we parse.
            .env("LMS_LANG", "en")
            .envs(env.iter().copied())
            .kill_on_drop(true);
        #[cfg(windows)]
        {
            // CREATE_NO_WINDOW: no console window flashes up for a background command.
            cmd.creation_flags(0x0800_0000);
        }
        match cmd.spawn() {
            Ok(child) => return Ok(child),
            Err(e) if e.kind() == io::ErrorKind::ExecutableFileBusy && attempt < SPAWN_RETRIES => {
                tokio::time::sleep(Duration::from_millis(10u64 << attempt)).await;
                attempt += 1;
            }
            Err(source) => {
                return Err(LmsError::Spawn {
                    path: program.to_path_buf(),
                    source,
                });
            }
        }
    }
}

/// Owns the child so that every way out (return, error, cancellation) kills and reaps it.
struct ChildGuard {
    child: Option<Child>,
}

impl ChildGuard {
    async fn wait(&mut self) -> io::Result<ExitStatus> {
        match self.child.as_mut() {
            Some(child) => child.wait().await,
            None => Err(io::Error::other("the child process was already released")),
        }
    }

    /// Kills the child (if still running) and waits a bounded time for it to be reaped.
    async fn kill_and_reap(&mut self) {
        if let Some(child) = self.child.as_mut() {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            let _ = child.start_kill();
            if tokio::time::timeout(REAP_LIMIT, child.wait())
                .await
                .is_err()
            {
                tracing::warn!(
                    pid = child.id(),
                    "killed lms did not exit in time; reaping it in the background"
                );
            }
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        // Cancelled mid-run: kill now, then reap. Inside a runtime, a task waits for the exit
        // (bounded). Outside one (the future outlived its runtime) nothing async can run, so
        // poll briefly here: a SIGKILLed process exits almost at once. Whatever is left is
        // still killed by `kill_on_drop` and handed to tokio's orphan reaper.
        let _ = child.start_kill();
        tracing::debug!(pid = child.id(), "lms command cancelled; killing the child");
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    let _ = tokio::time::timeout(REAP_LIMIT, child.wait()).await;
                });
            }
            Err(_) => {
                for _ in 0..BLOCKING_REAP_POLLS {
                    if !matches!(child.try_wait(), Ok(None)) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn statuses_are_described() {
        assert_eq!(describe_status(ExitStatus::from_raw(0)), "exit code 0");
        assert_eq!(describe_status(ExitStatus::from_raw(1 << 8)), "exit code 1");
        assert_eq!(describe_status(ExitStatus::from_raw(9)), "signal 9");
    }

    #[test]
    fn command_line_joins_args() {
        assert_eq!(
            command_line(&["get".into(), "--yes".into(), "a/b".into()]),
            "lms get --yes a/b"
        );
    }
}
