//! Writes an `lms` launcher script that runs the `fake-lms` binary against one server.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::FakeLmsOptions;

/// Quotes a string for a POSIX shell (`'...'`, with `'` as `'\''`).
#[cfg(unix)]
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Writes `dir/lms` (`dir/lms.cmd` on Windows): a script that execs
/// `fake_lms_binary --server server_url "$@"`. It is written to a temporary file, made
/// executable (mode 755), then renamed into place, so no reader ever sees it half-written.
/// Returns the script's path. Pass `env!("CARGO_BIN_EXE_fake-lms")` as the binary from this
/// crate's tests; other crates can build it with `cargo build -p lmstudio-testkit --bin
/// fake-lms` or locate it next to their own test binaries.
///
/// On Unix, a script written while another thread of the same process forks can briefly fail
/// to spawn with "Text file busy" (`ErrorKind::ExecutableFileBusy`): the forked child holds
/// the write descriptor until it execs. Spawners in multi-threaded tests should retry that
/// error a few times.
///
/// # Errors
/// Any I/O error writing, chmod-ing or renaming the file.
pub fn write_lms_wrapper(
    dir: &Path,
    fake_lms_binary: &Path,
    server_url: &str,
) -> std::io::Result<PathBuf> {
    write_lms_wrapper_with(dir, fake_lms_binary, server_url, &FakeLmsOptions::new())
}

/// [`write_lms_wrapper`] with `options`: the wrapper passes them to the fake, so it records
/// its arguments, prints stderr lines, exits with a code, hangs or dies of a signal as asked.
///
/// # Errors
/// Any I/O error writing, chmod-ing or renaming the file.
pub fn write_lms_wrapper_with(
    dir: &Path,
    fake_lms_binary: &Path,
    server_url: &str,
    options: &FakeLmsOptions,
) -> std::io::Result<PathBuf> {
    let mut args = vec!["--server".to_owned(), server_url.to_owned()];
    args.extend(options.args());
    #[cfg(unix)]
    let (name, script) = (
        "lms",
        format!(
            "#!/bin/sh\nexec {} {} \"$@\"\n",
            shell_quote(&fake_lms_binary.to_string_lossy()),
            args.iter()
                .map(|a| shell_quote(a))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    );
    #[cfg(not(unix))]
    let (name, script) = (
        "lms.cmd",
        format!(
            "@echo off\r\n\"{}\" {} %*\r\n",
            fake_lms_binary.display(),
            args.iter()
                .map(|a| format!("\"{}\"", a.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    );
    let target = dir.join(name);
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(script.as_bytes())?;
        file.sync_all()?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o755))?;
    }
    if let Err(err) = std::fs::rename(&temp, &target) {
        let _ = std::fs::remove_file(&temp);
        return Err(err);
    }
    Ok(target)
}

/// Finds a built `fake-lms` binary for tests of other crates (where
/// `CARGO_BIN_EXE_fake-lms` is not defined): the path in `LMSTUDIO_TESTKIT_FAKE_LMS` if set,
/// else `fake-lms` next to the running test executable or one directory up (`target/debug/`
/// when tests run from `target/debug/deps/`). `cargo test --workspace` builds it; otherwise
/// run `cargo build -p lmstudio-testkit --bin fake-lms` first. Returns `None` when not found.
pub fn find_fake_lms_binary() -> Option<PathBuf> {
    if let Some(explicit) = std::env::var_os("LMSTUDIO_TESTKIT_FAKE_LMS") {
        let path = PathBuf::from(explicit);
        return path.is_file().then_some(path);
    }
    let exe = std::env::current_exe().ok()?;
    let name = format!("fake-lms{}", std::env::consts::EXE_SUFFIX);
    exe.ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join(&name))
        .find(|candidate| candidate.is_file())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_single_quotes() {
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
    }
}
