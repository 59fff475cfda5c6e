//! The fake's side of `--port` and `lms server start`, as the real CLI behaves
//! (lmstudio-ai/lms `src/createClient.ts`, `src/subcommands/server.ts`):
//!
//! - A client command with `--port N` (or `--host H`) only checks
//!   `http://127.0.0.1:N/lmstudio-greeting` (500 ms) and exits 1 with "The server does not
//!   appear to be running at …" when nothing answers; it never starts anything. Without them
//!   the fake talks to its wrapper's server (the real `lms` would find LM Studio's last used
//!   port, or start it).
//! - `server start --port N [--bind X] [--cors]`: when nothing answers on N, asks the test
//!   process to bring a server up (a request file for
//!   [`ServerStartWatcher`](super::ServerStartWatcher), see
//!   [`FakeLmsOptions::server_start_via`](super::FakeLmsOptions::server_start_via)), then
//!   checks the port like `lms` does and prints "Success! Server is now running on port N", or
//!   fails with "Failed to verify the server is running. Please try to use another port."

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use super::args::Parsed;
use super::client::Server;
use super::fail;

/// How long `lms` waits for `/lmstudio-greeting` per check.
const GREETING_TIMEOUT: Duration = Duration::from_millis(500);
/// How long `server start` checks the port after asking for a start (`lms` tries 5 times,
/// 1 s apart).
const VERIFY_FOR: Duration = Duration::from_secs(5);
/// Pause between those checks (shorter than `lms`'s second: tests need not wait for it).
const VERIFY_PAUSE: Duration = Duration::from_millis(25);
/// `DEFAULT_SERVER_PORT` of `lms`: the port for `--host` without `--port`.
const DEFAULT_PORT: u16 = 1234;

/// The request file's name prefix and suffix in the start directory.
pub(crate) const REQUEST_PREFIX: &str = "server-start-";
pub(crate) const REQUEST_SUFFIX: &str = ".json";

/// The value of `--name V` / `--name=V` among a client command's arguments (before `--`).
fn option_value<'a>(args: &'a [String], name: &str) -> Result<Option<&'a str>, String> {
    let long = format!("--{name}");
    let inline = format!("--{name}=");
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--" {
            break;
        }
        if *arg == long {
            return iter
                .next()
                .map(|v| Some(v.as_str()))
                .ok_or_else(|| format!("option '--{name} <{name}>' argument missing"));
        }
        if let Some(value) = arg.strip_prefix(&inline) {
            return Ok(Some(value));
        }
    }
    Ok(None)
}

/// Parses a port as `lms` does (an integer from 0 to 65535).
pub(crate) fn parse_port(raw: &str) -> Result<u16, String> {
    raw.trim()
        .parse::<u16>()
        .map_err(|_| format!("option '--port <port>' argument '{raw}' is invalid."))
}

/// The server a client command talks to (see the module docs), or the error `lms` exits 1 with.
pub(crate) fn client_server(default: &Server, args: &[String]) -> Result<Server, String> {
    let port = option_value(args, "port")?;
    let host = option_value(args, "host")?;
    if port.is_none() && host.is_none() {
        return Ok(default.clone());
    }
    let host = match host {
        None => "127.0.0.1".to_owned(),
        Some(host) if host.contains("://") => {
            return Err("Host should not include the protocol.".to_owned());
        }
        Some(host) if host.contains(':') => {
            return Err("Host should not include the port number. Use --port instead.".to_owned());
        }
        Some(host) => host.to_owned(),
    };
    let port = port.map(parse_port).transpose()?.unwrap_or(DEFAULT_PORT);
    let server = Server { host, port };
    if !server.greets(GREETING_TIMEOUT) {
        return Err(format!(
            "The server does not appear to be running at {}:{}. Please make sure the server \
             is running and accessible at the specified address.",
            server.host, server.port
        ));
    }
    Ok(server)
}

/// `lms server start [--port N] [--bind X] [--cors]` (see the module docs).
pub(crate) fn server_start(
    default: &Server,
    parsed: &Parsed,
    start_dir: Option<&Path>,
    err: &mut dyn Write,
) -> i32 {
    let port = match parsed.value("port").map(parse_port).transpose() {
        Ok(port) => port.unwrap_or(default.port),
        Err(message) => return fail(err, &message),
    };
    let cors = parsed.has("cors");
    let bind = parsed.value("bind");
    if cors {
        let _ = writeln!(
            err,
            "CORS is enabled. This means any website you visit can use the LM Studio server."
        );
    }
    if bind.is_some_and(|b| b != "127.0.0.1") {
        let _ = writeln!(
            err,
            "Server will accept connections from the network. Only use this if you know what you are doing!"
        );
    }
    let target = Server {
        host: "127.0.0.1".to_owned(),
        port,
    };
    if !target.greets(GREETING_TIMEOUT) {
        let _ = writeln!(err, "Waking up LM Studio service...");
        // Without a start directory nothing can come up: fail at once.
        let came_up = match start_dir {
            Some(dir) => match write_request(dir, port, bind, cors) {
                Ok(()) => verify(&target),
                Err(e) => {
                    return fail(
                        err,
                        &format!("fake-lms: could not ask {} for a start: {e}", dir.display()),
                    );
                }
            },
            None => false,
        };
        if !came_up {
            return fail(
                err,
                "Failed to verify the server is running. Please try to use another port.",
            );
        }
    }
    let _ = writeln!(err, "Success! Server is now running on port {port}");
    0
}

/// Checks the port until it greets, for at most [`VERIFY_FOR`].
fn verify(target: &Server) -> bool {
    let until = Instant::now() + VERIFY_FOR;
    loop {
        if target.greets(GREETING_TIMEOUT) {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(VERIFY_PAUSE);
    }
}

/// Writes `dir/server-start-<pid>-<n>.json` atomically (temporary name, then rename).
fn write_request(dir: &Path, port: u16, bind: Option<&str>, cors: bool) -> std::io::Result<()> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let name = format!("{REQUEST_PREFIX}{}-{nanos}", std::process::id());
    let body = serde_json::json!({ "port": port, "bind": bind, "cors": cors }).to_string();
    let temp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&temp, body)?;
    std::fs::rename(&temp, dir.join(format!("{name}{REQUEST_SUFFIX}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn port_and_host_are_found_anywhere_before_a_double_dash() {
        let args = strings(&["k", "--yes", "--port", "5", "--host=h"]);
        assert_eq!(option_value(&args, "port").unwrap(), Some("5"));
        assert_eq!(option_value(&args, "host").unwrap(), Some("h"));
        let after = strings(&["--", "--port", "5"]);
        assert_eq!(option_value(&after, "port").unwrap(), None);
        assert!(option_value(&strings(&["--port"]), "port").is_err());
    }

    #[test]
    fn ports_parse_like_lms() {
        assert_eq!(parse_port("0").unwrap(), 0);
        assert_eq!(parse_port("65535").unwrap(), 65535);
        for bad in ["65536", "-1", "1.5", "x", ""] {
            assert!(parse_port(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hosts_with_a_scheme_or_port_are_refused() {
        let default = Server {
            host: "127.0.0.1".into(),
            port: 1,
        };
        for host in ["http://h", "h:1234"] {
            let args = strings(&["--host", host]);
            assert!(client_server(&default, &args).is_err(), "{host}");
        }
        assert_eq!(client_server(&default, &[]).unwrap(), default);
    }
}
