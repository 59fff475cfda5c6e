//! Fuzz target: `Endpoint::parse` never panics, and what it accepts is a normalised root
//! that parses back to itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lmstudio_transport::{Endpoint, EndpointError};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Endpoint::parse(&text) {
        Ok(endpoint) => check(&endpoint),
        Err(error) => {
            // Error messages show a bounded excerpt of the input (200 characters). The
            // unsupported scheme is shown whole, beside it.
            let extra = match &error {
                EndpointError::UnsupportedScheme { scheme, .. } => scheme.chars().count(),
                _ => 0,
            };
            let message = error.to_string();
            let count = message.chars().count();
            assert!(count <= 400 + extra, "{count} chars: {message}");
        }
    }
});

fn check(endpoint: &Endpoint) {
    let root = endpoint.root();
    assert!(root.starts_with("http://"), "{root}");
    assert!(!root.ends_with('/'), "{root}");
    assert!(endpoint.port() != 0);
    assert!(!endpoint.host().is_empty());
    assert!(root.contains(&format!(":{}", endpoint.port())), "{root}");
    assert_eq!(endpoint.to_string(), root);
    assert_eq!(endpoint.url("/v1/models"), format!("{root}/v1/models"));
    assert_eq!(endpoint.url("v1/models"), format!("{root}/v1/models"));
    let _ = endpoint.is_loopback();

    // Normalisation is stable: the root, and the root with `/v1/` added, parse to the same
    // endpoint. (A root ending in `/v1` comes from an input ending in `/v1/v1`: only one
    // `/v1` is removed, by design.)
    let again = Endpoint::parse(root).unwrap_or_else(|e| panic!("{root} does not parse: {e}"));
    if !root.ends_with("/v1") {
        assert_eq!(&again, endpoint, "{root} parses to {again}");
    }
    let with_v1 = format!("{root}/v1/");
    let same =
        Endpoint::parse(&with_v1).unwrap_or_else(|e| panic!("{with_v1} does not parse: {e}"));
    assert_eq!(&same, endpoint, "{with_v1} parses to {same}");
}
