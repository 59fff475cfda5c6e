//! `lms server start`: start LM Studio's HTTP server on a port, with the bind address and CORS
//! setting it should keep.

use std::net::IpAddr;

use crate::error::LmsError;
use crate::lms::{Lms, strings};
use crate::process::StdoutMode;

/// Options for [`Lms::server_start`]: `ServerStartOptions::new(port)` and the `with_*`
/// setters (more flags may come, so the struct cannot be built with a literal outside this
/// crate).
///
/// `lms server start` without `--bind` binds `127.0.0.1` (or `LMS_SERVER_HOST`), and without
/// `--cors` turns CORS off: a restart without them silently drops LAN serving and CORS. Pass
/// what LM Studio recorded ([`crate::ServerConfig`]) to keep them.
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
///
/// let options = lmstudio_lms::ServerStartOptions::new(1234)
///     .with_bind(Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))
///     .with_cors(true);
/// assert_eq!(options.port, 1234);
/// assert!(options.cors);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerStartOptions {
    /// `--port <port>`: the port the server listens on (1..=65535).
    pub port: u16,
    /// `--bind <address>`: the address it binds (`0.0.0.0` serves the local network).
    /// `None` passes no `--bind`: `lms` then binds `LMS_SERVER_HOST`, else `127.0.0.1`.
    pub bind: Option<IpAddr>,
    /// `--cors`: allow any web page to call the server. `false` passes nothing (`lms` has no
    /// flag to turn it off: off is its default).
    pub cors: bool,
}

impl ServerStartOptions {
    /// Start on `port`, bind and CORS left to `lms`'s defaults.
    #[must_use]
    pub fn new(port: u16) -> Self {
        Self {
            port,
            bind: None,
            cors: false,
        }
    }

    /// Sets [`ServerStartOptions::bind`].
    #[must_use]
    pub fn with_bind(mut self, bind: Option<IpAddr>) -> Self {
        self.bind = bind;
        self
    }

    /// Sets [`ServerStartOptions::cors`].
    #[must_use]
    pub fn with_cors(mut self, cors: bool) -> Self {
        self.cors = cors;
        self
    }
}

/// Builds and checks the `lms server start` arguments.
pub(crate) fn server_start_args(options: &ServerStartOptions) -> Result<Vec<String>, LmsError> {
    if options.port == 0 {
        return Err(LmsError::InvalidOption {
            option: "--port",
            value: "0".to_owned(),
            reason: "the port must be from 1 to 65535 (0 would pick a port nobody knows)",
        });
    }
    let mut args = strings(&["server", "start", "--port"]);
    args.push(options.port.to_string());
    if let Some(bind) = options.bind {
        args.extend(["--bind".to_owned(), bind.to_string()]);
    }
    if options.cors {
        args.push("--cors".to_owned());
    }
    Ok(args)
}

impl Lms {
    /// `lms server start --port N [--bind X] [--cors]`: starts LM Studio's HTTP server on
    /// `options.port`, waking the desktop app or the headless daemon first when it is not
    /// running (this is the one command that may start LM Studio).
    ///
    /// The port is the server's own, so it is passed as given, not the port of
    /// [`Lms::with_port`]. `lms` checks the server answers before it exits 0 ("Success!
    /// Server is now running on port N"); a non-zero exit is [`LmsError::Failed`] with the
    /// exit code and the last lines `lms` printed (it prints everything on stderr). The time
    /// limit is [`Lms::timeout`].
    pub async fn server_start(&self, options: &ServerStartOptions) -> Result<(), LmsError> {
        let args = server_start_args(options)?;
        self.run_exact(
            &args,
            Some(self.timeout()),
            StdoutMode::Discard,
            &mut |_, _| {},
        )
        .await?
        .require_success()
        .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn arguments_follow_the_options() {
        assert_eq!(
            server_start_args(&ServerStartOptions::new(1234)).unwrap(),
            strings(&["server", "start", "--port", "1234"])
        );
        let lan = ServerStartOptions::new(41343)
            .with_bind(Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))
            .with_cors(true);
        assert_eq!(
            server_start_args(&lan).unwrap(),
            strings(&[
                "server", "start", "--port", "41343", "--bind", "0.0.0.0", "--cors"
            ])
        );
        let v6 = ServerStartOptions::new(1).with_bind(Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!(
            server_start_args(&v6).unwrap(),
            strings(&["server", "start", "--port", "1", "--bind", "::1"])
        );
    }

    #[test]
    fn port_zero_is_refused() {
        assert!(matches!(
            server_start_args(&ServerStartOptions::new(0)),
            Err(LmsError::InvalidOption {
                option: "--port",
                ..
            })
        ));
    }
}
