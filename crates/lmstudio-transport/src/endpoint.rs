//! Server endpoints: parse a base URL once, normalise it to a server root, build request URLs.

use std::fmt;
use std::net::Ipv6Addr;

/// A server root such as `http://localhost:1234`, parsed and normalised.
///
/// Accepts `http://host:port`, the same with a trailing `/` or `/v1` (`/v1/`), and a bare
/// `host:port` (taken as `http://`). The root never ends with `/` or `/v1`, so
/// [`Endpoint::url`] can build `/v1/...`, `/api/v0/...` and `/api/v1/...` paths from it.
/// Another path prefix (a reverse proxy mount point) is kept. The port is always explicit in
/// the root (80 when the URL has none).
///
/// ```
/// use lmstudio_transport::Endpoint;
///
/// let endpoint = Endpoint::parse("http://localhost:1234/v1/")?;
/// assert_eq!(endpoint.root(), "http://localhost:1234");
/// assert_eq!(endpoint.url("/api/v0/models"), "http://localhost:1234/api/v0/models");
/// assert_eq!(endpoint.port(), 1234);
/// # Ok::<(), lmstudio_transport::EndpointError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    root: String,
    host: String,
    port: u16,
}

/// Why a server URL was refused.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// The value is empty or blank.
    #[error("the server URL is empty (expected something like http://localhost:1234)")]
    Empty,
    /// There is no host between `http://` and the port or path.
    #[error("`{input}` has no host name (expected something like http://localhost:1234)")]
    MissingHost {
        /// The value given (credentials removed, shortened).
        input: String,
    },
    /// `https://`: this client has no TLS support.
    #[error(
        "`{input}`: https is not supported, this client speaks plain HTTP only (no TLS); use http://"
    )]
    TlsUnsupported {
        /// The value given (credentials removed, shortened).
        input: String,
    },
    /// A scheme other than `http`.
    #[error("`{input}`: unsupported URL scheme `{scheme}` (only http:// is supported)")]
    UnsupportedScheme {
        /// The value given (credentials removed, shortened).
        input: String,
        /// The scheme found.
        scheme: String,
    },
    /// The port is not a number from 1 to 65535.
    #[error("`{input}`: invalid port (expected a number from 1 to 65535)")]
    InvalidPort {
        /// The value given (credentials removed, shortened).
        input: String,
    },
    /// Anything else that does not make a usable server URL.
    #[error("`{input}` is not a valid server URL: {reason}")]
    Invalid {
        /// The value given (credentials removed, shortened).
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl Endpoint {
    /// Parses and normalises a server URL. See [`Endpoint`] for the accepted forms.
    pub fn parse(input: &str) -> Result<Endpoint, EndpointError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(EndpointError::Empty);
        }
        let shown = || sanitize(trimmed);
        let invalid = |reason| EndpointError::Invalid {
            input: shown(),
            reason,
        };
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("it contains whitespace or control characters"));
        }
        if !trimmed.is_ascii() {
            return Err(invalid("it contains non-ASCII characters"));
        }

        let (scheme, rest) = match trimmed.find("://") {
            Some(i) => (&trimmed[..i], &trimmed[i + 3..]),
            None => ("http", trimmed),
        };
        let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !scheme_ok {
            return Err(invalid(
                "it does not start with a valid scheme such as http://",
            ));
        }
        if scheme.eq_ignore_ascii_case("https") {
            return Err(EndpointError::TlsUnsupported { input: shown() });
        }
        if !scheme.eq_ignore_ascii_case("http") {
            return Err(EndpointError::UnsupportedScheme {
                input: shown(),
                scheme: scheme.to_ascii_lowercase(),
            });
        }

        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.contains('@') {
            return Err(invalid(
                "credentials in the URL are not supported (use a bearer token)",
            ));
        }
        if authority.is_empty() {
            return Err(EndpointError::MissingHost { input: shown() });
        }
        let (host, port) = split_host_port(authority).map_err(|e| match e {
            HostPortError::MissingHost => EndpointError::MissingHost { input: shown() },
            HostPortError::Port => EndpointError::InvalidPort { input: shown() },
            HostPortError::Host(reason) => invalid(reason),
        })?;

        if tail.contains(['?', '#']) {
            return Err(invalid("query strings and fragments are not supported"));
        }
        let path = normalise_path(tail).ok_or_else(|| invalid("the path is not valid"))?;

        let host_in_url = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.clone()
        };
        let root = format!("http://{host_in_url}:{port}{path}");
        if http::Uri::try_from(format!("{root}/v1/models")).is_err() {
            return Err(invalid("it is not a valid URL"));
        }
        Ok(Endpoint { root, host, port })
    }

    /// The server root: `http://host:port` plus any proxy prefix; no trailing `/`, no `/v1`.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The root joined with `path` (a missing leading `/` is added).
    pub fn url(&self, path: &str) -> String {
        let mut url = String::with_capacity(self.root.len() + path.len() + 1);
        url.push_str(&self.root);
        if !path.starts_with('/') {
            url.push('/');
        }
        url.push_str(path);
        url
    }

    /// The host, lowercase (IPv6 addresses without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// True when the host is `localhost` or a loopback address.
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost"
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.root)
    }
}

impl std::str::FromStr for Endpoint {
    type Err = EndpointError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Endpoint::parse(s)
    }
}

enum HostPortError {
    MissingHost,
    Port,
    Host(&'static str),
}

fn split_host_port(authority: &str) -> Result<(String, u16), HostPortError> {
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let close = inner
            .find(']')
            .ok_or(HostPortError::Host("an IPv6 address is missing its `]`"))?;
        let host = &inner[..close];
        let after = &inner[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => {
                return Err(HostPortError::Host(
                    "unexpected text after the IPv6 address",
                ));
            }
        };
        let ip: Ipv6Addr = host
            .parse()
            .map_err(|_| HostPortError::Host("the IPv6 address is not valid"))?;
        (ip.to_string(), port)
    } else {
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        if host.contains(':') {
            return Err(HostPortError::Host(
                "an IPv6 address must be written in brackets, e.g. http://[::1]:1234",
            ));
        }
        if host.is_empty() {
            return Err(HostPortError::MissingHost);
        }
        let valid = host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
            && !host.starts_with(['.', '-'])
            && !host.contains("..");
        if !valid {
            return Err(HostPortError::Host("the host name is not valid"));
        }
        (host.to_ascii_lowercase(), port)
    };
    let port = match port {
        None => 80,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            match p.parse::<u16>() {
                Ok(n) if n != 0 => n,
                _ => return Err(HostPortError::Port),
            }
        }
        Some(_) => return Err(HostPortError::Port),
    };
    Ok((host, port))
}

/// Trailing slashes and one trailing `/v1` removed; `None` for an unusable path.
fn normalise_path(path: &str) -> Option<String> {
    let valid = path.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                '/' | '-'
                    | '.'
                    | '_'
                    | '~'
                    | '%'
                    | '!'
                    | '$'
                    | '&'
                    | '\''
                    | '('
                    | ')'
                    | '*'
                    | '+'
                    | ','
                    | ';'
                    | '='
                    | ':'
                    | '@'
            )
    });
    if !valid {
        return None;
    }
    let mut path = path.trim_end_matches('/');
    if let Some(stripped) = path.strip_suffix("/v1") {
        path = stripped.trim_end_matches('/');
    }
    if path.contains("//") {
        return None;
    }
    Some(path.to_owned())
}

/// The input for an error message: credentials removed, at most 200 characters.
fn sanitize(input: &str) -> String {
    let (prefix, rest) = match input.find("://") {
        Some(i) => input.split_at(i + 3),
        None => ("", input),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let shown = match rest[..authority_end].rfind('@') {
        Some(at) => format!("{prefix}***{}", &rest[at..]),
        None => input.to_owned(),
    };
    crate::text::cut_chars(&shown, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_hides_credentials() {
        assert_eq!(sanitize("http://user:pw@host:1/x"), "http://***@host:1/x");
        assert_eq!(sanitize("host:1"), "host:1");
        assert!(sanitize(&"a".repeat(500)).chars().count() <= 200);
    }
}
