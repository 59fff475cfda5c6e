//! Finding the `lms` executable: explicit path, `LMSTUDIO_LMS_PATH`, `PATH`, LM Studio's home.
//!
//! Every input (environment values, home directory, platform) is a field of
//! [`DiscoveryInputs`], so the Linux, macOS and Windows rules are all testable on one machine.
//! Only the file system is real: candidates are checked with `std::fs::metadata`.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::LmsError;

/// The environment variable that names the `lms` executable explicitly.
pub const LMS_PATH_ENV: &str = "LMSTUDIO_LMS_PATH";

/// The file in the user's home directory whose trimmed contents name LM Studio's home.
pub const HOME_POINTER_FILE: &str = ".lmstudio-home-pointer";

/// The `PATHEXT` used on Windows when the variable is unset.
const DEFAULT_PATHEXT: &str = ".COM;.EXE;.BAT;.CMD";

/// The operating system whose rules discovery follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    /// Linux and other Unix-like systems: `:`-separated `PATH`, execute bits, `bin/lms`.
    Linux,
    /// macOS: the same rules as Linux.
    MacOs,
    /// Windows: `;`-separated `PATH`, `PATHEXT` extensions, `bin\lms.exe`.
    Windows,
}

impl Platform {
    /// The platform this program was compiled for (other Unix systems count as Linux).
    pub fn current() -> Platform {
        if cfg!(windows) {
            Platform::Windows
        } else if cfg!(target_os = "macos") {
            Platform::MacOs
        } else {
            Platform::Linux
        }
    }

    fn path_separator(self) -> char {
        match self {
            Platform::Windows => ';',
            Platform::Linux | Platform::MacOs => ':',
        }
    }

    fn binary_name(self) -> &'static str {
        match self {
            Platform::Windows => "lms.exe",
            Platform::Linux | Platform::MacOs => "lms",
        }
    }
}

/// Everything discovery reads, injected so each platform's rules can be tested anywhere.
/// Build it with [`DiscoveryInputs::from_process`] or [`DiscoveryInputs::new`], then set the
/// fields (more inputs may come, so it cannot be built with a literal outside this crate).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiscoveryInputs {
    /// A path from configuration (`[lmstudio].lms_path`); checked first.
    pub explicit: Option<PathBuf>,
    /// The value of `LMSTUDIO_LMS_PATH`; an empty value counts as unset.
    pub env_lms_path: Option<OsString>,
    /// The value of `PATH`.
    pub path_var: Option<OsString>,
    /// The value of `PATHEXT` (Windows only; `.COM;.EXE;.BAT;.CMD` when unset).
    pub pathext: Option<OsString>,
    /// The user's home directory (`%USERPROFILE%` on Windows).
    pub home_dir: Option<PathBuf>,
    /// Whose rules to follow.
    pub platform: Platform,
}

impl DiscoveryInputs {
    /// Inputs for `platform` with nothing set: no explicit path, no environment, no home.
    pub fn new(platform: Platform) -> DiscoveryInputs {
        DiscoveryInputs {
            explicit: None,
            env_lms_path: None,
            path_var: None,
            pathext: None,
            home_dir: None,
            platform,
        }
    }

    /// Reads the inputs from this process: its environment, the `home` crate and the platform.
    pub fn from_process(explicit: Option<PathBuf>) -> DiscoveryInputs {
        let platform = Platform::current();
        DiscoveryInputs {
            explicit,
            env_lms_path: std::env::var_os(LMS_PATH_ENV),
            path_var: std::env::var_os("PATH"),
            pathext: match platform {
                Platform::Windows => std::env::var_os("PATHEXT"),
                Platform::Linux | Platform::MacOs => None,
            },
            home_dir: home::home_dir(),
            platform,
        }
    }
}

/// How the `lms` executable was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiscoverySource {
    /// An explicit path from configuration.
    Explicit,
    /// The `LMSTUDIO_LMS_PATH` environment variable.
    EnvVar,
    /// A directory on `PATH`.
    PathSearch,
    /// `<home>/bin` where `<home>` is named by `~/.lmstudio-home-pointer`.
    HomePointer,
    /// `~/.cache/lm-studio/bin` (the legacy home).
    LegacyCacheHome,
    /// `~/.lmstudio/bin` (the default home).
    DefaultHome,
}

impl fmt::Display for DiscoverySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DiscoverySource::Explicit => "the configured lms_path",
            DiscoverySource::EnvVar => "LMSTUDIO_LMS_PATH",
            DiscoverySource::PathSearch => "PATH",
            DiscoverySource::HomePointer => "~/.lmstudio-home-pointer",
            DiscoverySource::LegacyCacheHome => "~/.cache/lm-studio",
            DiscoverySource::DefaultHome => "~/.lmstudio",
        })
    }
}

/// Where `lms` is and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LmsLocation {
    /// The absolute path of the executable.
    pub path: PathBuf,
    /// Which discovery step found it.
    pub source: DiscoverySource,
}

/// What a candidate path turned out to be.
enum Candidate {
    Executable(PathBuf),
    NotExecutable(PathBuf),
    Missing,
}

/// Finds `lms`: explicit path, then `LMSTUDIO_LMS_PATH`, then `PATH` (with `PATHEXT` on
/// Windows), then LM Studio's home (`~/.lmstudio-home-pointer`, else `~/.cache/lm-studio` if it
/// exists, else `~/.lmstudio`) at `<home>/bin/lms` (`lms.exe` on Windows).
///
/// An explicit path or `LMSTUDIO_LMS_PATH` that does not exist is [`LmsError::NotFoundAt`];
/// one that is not executable is [`LmsError::NotExecutable`]. Non-executable files on `PATH`
/// are skipped (like `which`); if nothing executable is found anywhere, the first
/// non-executable candidate seen is reported, else [`LmsError::NotFound`]. Relative `PATH`
/// entries (including empty ones, which mean the current directory) are ignored.
pub fn discover(inputs: &DiscoveryInputs) -> Result<LmsLocation, LmsError> {
    let platform = inputs.platform;
    let given = [
        (inputs.explicit.clone(), DiscoverySource::Explicit),
        (
            inputs
                .env_lms_path
                .as_ref()
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            DiscoverySource::EnvVar,
        ),
    ];
    for (path, source) in given {
        let Some(path) = path else { continue };
        let path = absolute(&path, inputs.home_dir.as_deref());
        return match check(&path, platform) {
            Candidate::Executable(path) => Ok(LmsLocation { path, source }),
            Candidate::NotExecutable(path) => Err(LmsError::NotExecutable { path }),
            Candidate::Missing => Err(LmsError::NotFoundAt { path, from: source }),
        };
    }

    let mut first_unusable: Option<PathBuf> = None;
    if let Some(path_var) = &inputs.path_var {
        for candidate in path_candidates(path_var, inputs.pathext.as_deref(), platform) {
            match check(&candidate, platform) {
                Candidate::Executable(path) => {
                    return Ok(LmsLocation {
                        path,
                        source: DiscoverySource::PathSearch,
                    });
                }
                Candidate::NotExecutable(path) => {
                    first_unusable.get_or_insert(path);
                }
                Candidate::Missing => {}
            }
        }
    }

    if let Some((lm_home, source)) = inputs.home_dir.as_deref().map(lmstudio_home) {
        let candidate = lm_home.join("bin").join(platform.binary_name());
        match check(&candidate, platform) {
            Candidate::Executable(path) => return Ok(LmsLocation { path, source }),
            Candidate::NotExecutable(path) => {
                first_unusable.get_or_insert(path);
            }
            Candidate::Missing => {}
        }
    }

    match first_unusable {
        Some(path) => Err(LmsError::NotExecutable { path }),
        None => Err(LmsError::NotFound),
    }
}

/// LM Studio's home directory and the rule that chose it, as LM Studio itself decides it:
/// the pointer file's trimmed contents, else `~/.cache/lm-studio` if it exists, else
/// `~/.lmstudio`.
pub fn lmstudio_home(home_dir: &Path) -> (PathBuf, DiscoverySource) {
    let pointer = home_dir.join(HOME_POINTER_FILE);
    // Bounded, regular files only: a huge or FIFO pointer is ignored, never read or opened.
    let contents = crate::server_config::read_bounded(&pointer, crate::MAX_SERVER_CONFIG_BYTES)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    if let Some(contents) = contents {
        let trimmed = contents.trim();
        if !trimmed.is_empty() {
            let named = PathBuf::from(trimmed);
            let resolved = if named.is_absolute() {
                named
            } else {
                home_dir.join(named)
            };
            return (resolved, DiscoverySource::HomePointer);
        }
    }
    let legacy = home_dir.join(".cache").join("lm-studio");
    if legacy.is_dir() {
        return (legacy, DiscoverySource::LegacyCacheHome);
    }
    (home_dir.join(".lmstudio"), DiscoverySource::DefaultHome)
}

/// The file names to try in each `PATH` directory, in order.
fn path_candidates(path_var: &OsStr, pathext: Option<&OsStr>, platform: Platform) -> Vec<PathBuf> {
    let names: Vec<String> = match platform {
        Platform::Linux | Platform::MacOs => vec!["lms".to_owned()],
        Platform::Windows => {
            let exts = pathext
                .map(|v| v.to_string_lossy().into_owned())
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_PATHEXT.to_owned());
            exts.split(';')
                .map(str::trim)
                .filter(|e| e.starts_with('.') && e.len() > 1)
                .map(|e| format!("lms{}", e.to_ascii_lowercase()))
                .collect()
        }
    };
    let text = path_var.to_string_lossy();
    let mut out = Vec::new();
    for entry in text.split(platform.path_separator()) {
        let entry = match platform {
            // Windows PATH entries may be quoted: `"C:\Program Files\x"`.
            Platform::Windows => entry.trim().trim_matches('"'),
            Platform::Linux | Platform::MacOs => entry,
        };
        if entry.is_empty() || !is_absolute_for(Path::new(entry), platform) {
            continue;
        }
        for name in &names {
            out.push(join_for(entry, name, platform));
        }
    }
    out
}

/// Whether `path` is absolute under `platform`'s rules (Windows rules checked textually).
fn is_absolute_for(path: &Path, platform: Platform) -> bool {
    match platform {
        Platform::Linux | Platform::MacOs => path.is_absolute(),
        Platform::Windows => {
            if path.is_absolute() {
                return true;
            }
            let text = path.to_string_lossy();
            let bytes = text.as_bytes();
            let drive = bytes.len() >= 3
                && bytes[0].is_ascii_alphabetic()
                && bytes[1] == b':'
                && (bytes[2] == b'\\' || bytes[2] == b'/');
            drive || text.starts_with("\\\\")
        }
    }
}

/// Joins a directory and a file name with the platform's separator.
fn join_for(dir: &str, name: &str, platform: Platform) -> PathBuf {
    match platform {
        // A Windows-style entry seen on another OS (unit tests): keep its backslashes.
        Platform::Windows if !cfg!(windows) && dir.contains('\\') => {
            let sep = if dir.ends_with('\\') || dir.ends_with('/') {
                ""
            } else {
                "\\"
            };
            PathBuf::from(format!("{dir}{sep}{name}"))
        }
        _ => Path::new(dir).join(name),
    }
}

/// Makes an explicit path absolute: `~/x` expands with the home dir, relative paths use the
/// current directory.
fn absolute(path: &Path, home_dir: Option<&Path>) -> PathBuf {
    if let (Ok(rest), Some(home)) = (path.strip_prefix("~"), home_dir) {
        return home.join(rest);
    }
    if path.is_absolute() {
        return path.to_path_buf();
    }
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Classifies a candidate path. On Windows a file is executable by its extension; on Unix it
/// needs an execute bit. A directory is never executable.
fn check(path: &Path, platform: Platform) -> Candidate {
    let Ok(meta) = std::fs::metadata(path) else {
        return Candidate::Missing;
    };
    if !meta.is_file() {
        return Candidate::NotExecutable(path.to_path_buf());
    }
    let executable = match platform {
        Platform::Windows => true,
        Platform::Linux | Platform::MacOs => has_execute_bit(&meta),
    };
    if executable {
        Candidate::Executable(path.to_path_buf())
    } else {
        Candidate::NotExecutable(path.to_path_buf())
    }
}

#[cfg(unix)]
fn has_execute_bit(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn has_execute_bit(_meta: &std::fs::Metadata) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_candidates_use_pathext_and_semicolons() {
        let got = path_candidates(
            OsStr::new(r#"C:\one;"C:\Program Files\two";relative;;D:\three\"#),
            Some(OsStr::new(".EXE;.CMD")),
            Platform::Windows,
        );
        let got: Vec<String> = got
            .iter()
            .map(|p| p.to_string_lossy().replace('/', "\\"))
            .collect();
        assert_eq!(
            got,
            vec![
                r"C:\one\lms.exe",
                r"C:\one\lms.cmd",
                r"C:\Program Files\two\lms.exe",
                r"C:\Program Files\two\lms.cmd",
                r"D:\three\lms.exe",
                r"D:\three\lms.cmd",
            ]
        );
    }

    #[test]
    fn windows_default_pathext() {
        let got = path_candidates(OsStr::new(r"C:\bin"), None, Platform::Windows);
        assert_eq!(got.len(), 4);
        assert!(got[1].to_string_lossy().ends_with("lms.exe"));
    }

    #[test]
    fn unix_candidates_skip_relative_and_empty_entries() {
        let got = path_candidates(OsStr::new("/a::./b:rel:/c"), None, Platform::Linux);
        assert_eq!(got, vec![PathBuf::from("/a/lms"), PathBuf::from("/c/lms")]);
    }

    #[test]
    fn tilde_expands_with_injected_home() {
        let got = absolute(Path::new("~/x/lms"), Some(Path::new("/home/u")));
        assert_eq!(got, PathBuf::from("/home/u/x/lms"));
    }

    #[test]
    fn current_platform_is_consistent() {
        let p = Platform::current();
        if cfg!(target_os = "linux") {
            assert_eq!(p, Platform::Linux);
        }
    }
}
