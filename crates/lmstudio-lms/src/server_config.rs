//! LM Studio's record of its HTTP server settings, `<home>/.internal/http-server-config.json`
//! (what `lms server status` reads): the port, the bind address, CORS. Read defensively:
//! regular files only, at most [`MAX_SERVER_CONFIG_BYTES`], every field checked.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Largest `http-server-config.json` (or home pointer file) read.
pub const MAX_SERVER_CONFIG_BYTES: u64 = 64 * 1024;

/// The file's path below LM Studio's home.
pub const SERVER_CONFIG_FILE: &str = ".internal/http-server-config.json";

/// What LM Studio recorded about its HTTP server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Where it was read from.
    pub path: PathBuf,
    /// The port it serves on (1..=65535).
    pub port: u16,
    /// The address it binds (`networkInterface`), e.g. `127.0.0.1` or `0.0.0.0`: where it
    /// listens, not an address to connect to.
    pub bind: Option<String>,
    /// Whether CORS is on (`cors`).
    pub cors: Option<bool>,
}

/// Why the file gave no usable settings.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServerConfigError {
    /// The file does not exist (LM Studio never started its server here).
    Missing(PathBuf),
    /// The path is not a regular file (a directory, a FIFO, a device).
    NotAFile(PathBuf),
    /// The file is larger than [`MAX_SERVER_CONFIG_BYTES`].
    TooLarge(PathBuf, u64),
    /// It could not be read.
    Io(PathBuf, std::io::Error),
    /// It is not a JSON object.
    InvalidJson(PathBuf, String),
    /// It has no usable `port` (missing, not an integer, 0 or above 65535).
    InvalidPort(PathBuf, String),
    /// The user's home directory is unknown, so LM Studio's home cannot be found.
    NoHomeDir,
}

impl fmt::Display for ServerConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(path) => write!(f, "{} does not exist", path.display()),
            Self::NotAFile(path) => write!(f, "{} is not a regular file", path.display()),
            Self::TooLarge(path, size) => write!(
                f,
                "{} is {size} bytes, more than the {MAX_SERVER_CONFIG_BYTES} read",
                path.display()
            ),
            Self::Io(path, err) => write!(f, "cannot read {}: {err}", path.display()),
            Self::InvalidJson(path, why) => {
                write!(f, "{} is not a JSON object: {why}", path.display())
            }
            Self::InvalidPort(path, why) => {
                write!(f, "{} has no usable port: {why}", path.display())
            }
            Self::NoHomeDir => f.write_str("the home directory is unknown"),
        }
    }
}

impl std::error::Error for ServerConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(_, err) => Some(err),
            _ => None,
        }
    }
}

/// This user's LM Studio home, found the way `lms` finds it (the home pointer, then
/// `~/.cache/lm-studio`, then `~/.lmstudio`; see [`crate::lmstudio_home`]). Reads at most the
/// small home pointer file.
pub fn user_lmstudio_home() -> Result<PathBuf, ServerConfigError> {
    let home_dir = home::home_dir().ok_or(ServerConfigError::NoHomeDir)?;
    Ok(crate::discovery::lmstudio_home(&home_dir).0)
}

/// Reads the server settings of this user's LM Studio, in [`user_lmstudio_home`].
pub fn read_user_server_config() -> Result<ServerConfig, ServerConfigError> {
    read_server_config(&user_lmstudio_home()?)
}

/// Reads `<lmstudio_home>/.internal/http-server-config.json`.
pub fn read_server_config(lmstudio_home: &Path) -> Result<ServerConfig, ServerConfigError> {
    let path = lmstudio_home.join(SERVER_CONFIG_FILE);
    let bytes = read_bounded(&path, MAX_SERVER_CONFIG_BYTES)?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ServerConfigError::InvalidJson(path.clone(), e.to_string()))?;
    let Value::Object(fields) = value else {
        return Err(ServerConfigError::InvalidJson(
            path,
            "the top level is not an object".to_owned(),
        ));
    };
    let port = match fields.get("port") {
        None => return Err(ServerConfigError::InvalidPort(path, "no `port`".to_owned())),
        Some(port) => port
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p != 0)
            .ok_or_else(|| {
                ServerConfigError::InvalidPort(path.clone(), format!("`port` is {port}"))
            })?,
    };
    let bind = fields
        .get("networkInterface")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|b| !b.is_empty() && b.len() <= 255 && !b.chars().any(char::is_control))
        .map(str::to_owned);
    let cors = fields.get("cors").and_then(Value::as_bool);
    Ok(ServerConfig {
        path,
        port,
        bind,
        cors,
    })
}

/// Reads a small regular file: stat first (a FIFO would block an open), then at most `limit`
/// bytes.
pub(crate) fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ServerConfigError> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(ServerConfigError::Missing(path.to_owned()));
        }
        Err(err) => return Err(ServerConfigError::Io(path.to_owned(), err)),
    };
    if !meta.is_file() {
        return Err(ServerConfigError::NotAFile(path.to_owned()));
    }
    if meta.len() > limit {
        return Err(ServerConfigError::TooLarge(path.to_owned(), meta.len()));
    }
    let file = std::fs::File::open(path).map_err(|e| ServerConfigError::Io(path.to_owned(), e))?;
    let mut bytes = Vec::new();
    // The file may have grown since the stat: never read past the limit.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ServerConfigError::Io(path.to_owned(), e))?;
    if bytes.len() as u64 > limit {
        return Err(ServerConfigError::TooLarge(
            path.to_owned(),
            bytes.len() as u64,
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home_with(contents: &[u8]) -> tempfile::TempDir {
        let home = tempfile::tempdir().expect("temp dir");
        let dir = home.path().join(".internal");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("http-server-config.json"), contents).expect("write");
        home
    }

    #[test]
    fn a_real_file_gives_port_bind_and_cors() {
        let home = home_with(
            br#"{"port":41343,"networkInterface":"0.0.0.0","cors":true,"justInTimeModelLoading":true,"logSensitiveData":false}"#,
        );
        let config = read_server_config(home.path()).expect("valid");
        assert_eq!(config.port, 41343);
        assert_eq!(config.bind.as_deref(), Some("0.0.0.0"));
        assert_eq!(config.cors, Some(true));
        assert!(config.path.ends_with(".internal/http-server-config.json"));
    }

    #[test]
    fn hostile_and_broken_files_are_errors_never_panics() {
        let cases: [(&[u8], &str); 11] = [
            (br#"{"port":0}"#, "port"),
            (br#"{"port":65536}"#, "port"),
            (br#"{"port":-1}"#, "port"),
            (br#"{"port":1234.5}"#, "port"),
            (br#"{"port":"1234"}"#, "port"),
            (br#"{"port":1e400}"#, "JSON"),
            (br#"{"networkInterface":"127.0.0.1"}"#, "port"),
            (br#"[1234]"#, "JSON"),
            (b"\xff\xfe not json", "JSON"),
            (b"", "JSON"),
            (br#"{"port":1234"#, "JSON"),
        ];
        for (contents, what) in cases {
            let home = home_with(contents);
            let err = read_server_config(home.path()).expect_err("refused");
            let text = err.to_string();
            assert!(
                text.contains(what)
                    || (what == "JSON" && matches!(err, ServerConfigError::InvalidJson(..))),
                "{:?}: {text}",
                String::from_utf8_lossy(contents)
            );
        }
    }

    #[test]
    fn odd_fields_next_to_a_good_port_are_ignored() {
        let home = home_with(br#"{"port":1235,"networkInterface":42,"cors":"yes"}"#);
        let config = read_server_config(home.path()).expect("valid port");
        assert_eq!((config.port, config.bind, config.cors), (1235, None, None));
        let home = home_with(br#"{"port":1235,"networkInterface":"evil\nhost"}"#);
        assert_eq!(read_server_config(home.path()).expect("valid").bind, None);
    }

    #[test]
    fn a_huge_file_is_not_read() {
        let mut big = br#"{"port":1234,"pad":""#.to_vec();
        big.extend(std::iter::repeat_n(b'x', 100 * 1024));
        big.extend(br#""}"#);
        let home = home_with(&big);
        assert!(matches!(
            read_server_config(home.path()),
            Err(ServerConfigError::TooLarge(_, _))
        ));
    }

    #[test]
    fn missing_files_and_directories_are_told_apart() {
        let home = tempfile::tempdir().expect("temp dir");
        assert!(matches!(
            read_server_config(home.path()),
            Err(ServerConfigError::Missing(_))
        ));
        std::fs::create_dir_all(home.path().join(SERVER_CONFIG_FILE)).expect("mkdir");
        assert!(matches!(
            read_server_config(home.path()),
            Err(ServerConfigError::NotAFile(_))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_never_opened() {
        let home = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(home.path().join(".internal")).expect("mkdir");
        let fifo = home.path().join(SERVER_CONFIG_FILE);
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        // Opening a FIFO with no writer would block forever; the stat refuses it first.
        assert!(matches!(
            read_server_config(home.path()),
            Err(ServerConfigError::NotAFile(_))
        ));
    }
}
