//! Shared helpers for the integration tests: fake `lms` shell scripts and process checks.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lmstudio_lms::{DiscoverySource, Lms, LmsLocation};
use tempfile::TempDir;

/// Writes an executable `#!/bin/sh` script atomically: temp name, close, chmod, rename (so a
/// concurrent fork in another test cannot hold it open for writing: no ETXTBSY).
pub(crate) fn write_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut file = fs::File::create(&tmp).unwrap();
        write!(file, "#!/bin/sh\n{body}\n").unwrap();
        file.sync_all().unwrap();
    }
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755)).unwrap();
    fs::rename(&tmp, &path).unwrap();
    path
}

/// Writes a non-executable regular file.
pub(crate) fn write_plain(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, body).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    path
}

/// A temp dir with a fake `lms` whose body is `body`, and an `Lms` for it.
pub(crate) struct FakeLms {
    pub(crate) dir: TempDir,
    pub(crate) lms: Lms,
}

impl FakeLms {
    /// `body` gets the temp dir (for [`record_args`], [`record_pid`]) and returns the script.
    pub(crate) fn new(body: impl FnOnce(&Path) -> String) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let body = body(dir.path());
        let path = write_script(dir.path(), "lms", &body);
        let lms = Lms::new(LmsLocation {
            path,
            source: DiscoverySource::Explicit,
        });
        Self { dir, lms }
    }

    /// A path inside the temp dir (for files the script writes).
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The arguments the script recorded with [`record_args`], one per line.
    pub(crate) fn recorded_args(&self) -> Option<Vec<String>> {
        let text = fs::read_to_string(self.file("argv")).ok()?;
        Some(text.lines().map(str::to_owned).collect())
    }
}

/// Shell snippet: record each argument on its own line in `<dir>/argv`.
pub(crate) fn record_args(dir: &Path) -> String {
    format!(
        "for a in \"$@\"; do printf '%s\\n' \"$a\"; done > '{}'",
        dir.join("argv").display()
    )
}

/// Shell snippet: write `$$` to `<dir>/pid` atomically.
pub(crate) fn record_pid(dir: &Path) -> String {
    let pid = dir.join("pid");
    format!(
        "echo $$ > '{p}.tmp' && mv '{p}.tmp' '{p}'",
        p = pid.display()
    )
}

/// A fixture from `tests/data`.
pub(crate) fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
        .join(name)
}

/// Waits (bounded: 400 polls of 25 ms) for `<dir>/pid` to hold a pid.
pub(crate) async fn wait_for_pid(dir: &Path) -> u32 {
    let file = dir.join("pid");
    for _ in 0..400 {
        if let Ok(text) = fs::read_to_string(&file)
            && let Ok(pid) = text.trim().parse()
        {
            return pid;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the fake lms never wrote its pid to {}", file.display());
}

/// Whether process `pid` still exists, zombies included (a zombie has a `/proc` entry and
/// answers `kill -0` until it is reaped).
pub(crate) fn proc_exists(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        std::process::Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

/// Polls (bounded: 400 × 25 ms, yielding to the runtime so its reaper can run) until
/// `/proc/<pid>` is gone. Returns whether it went away; on failure also says whether it was a
/// zombie.
pub(crate) async fn wait_gone(pid: u32) -> Result<(), String> {
    for _ in 0..400 {
        if !proc_exists(pid) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    Err(format!("process {pid} still present: {stat}"))
}
