//! Ports for "nothing listens here" tests that another test's server cannot take meanwhile.
//!
//! A port bound to `127.0.0.1:0` and released goes back to the OS's ephemeral pool, and the
//! next server any concurrent test starts (they all bind port 0) may get it: a test that
//! expects a refusal then finds a server. So [`closed_port`] picks a port *below* the
//! ephemeral range, which `bind(0)` never hands out.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};

/// The first port tried; below Linux's default ephemeral range (32768–60999) and the BSD /
/// Windows one (49152–65535), above the well-known and most registered service ports.
const FIRST: u16 = 20_000;
/// One past the last port tried.
const END: u16 = 32_768;

/// The next port to try, shared by every caller in the process so two tests never get the same
/// one.
static NEXT: AtomicU16 = AtomicU16::new(FIRST);

/// A loopback port nothing listens on and no OS-assigned (`:0`) listener will take: for tests of
/// refused connections. Each call gives another port; ports found in use are skipped.
///
/// # Panics
/// When every port of the range is in use (tests only).
#[allow(clippy::panic)]
pub fn closed_port() -> u16 {
    for _ in FIRST..END {
        let port = NEXT
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| {
                Some(if p + 1 >= END { FIRST } else { p + 1 })
            })
            .unwrap_or(FIRST);
        // Free now (so nothing answers), and outside the pool `bind(0)` draws from.
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port between {FIRST} and {END}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_ports_refuse_and_differ() {
        let a = closed_port();
        let b = closed_port();
        assert_ne!(a, b);
        for port in [a, b] {
            assert!((FIRST..END).contains(&port));
            assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
        }
    }
}
