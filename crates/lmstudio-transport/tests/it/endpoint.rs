//! Endpoint parsing: the forms users paste, normalisation, and clear refusals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lmstudio_transport::{Endpoint, EndpointError, Error};

#[test]
fn accepted_forms_normalise_to_a_root() {
    let cases = [
        ("http://localhost:1234", "http://localhost:1234"),
        ("http://localhost:1234/", "http://localhost:1234"),
        ("http://localhost:1234/v1", "http://localhost:1234"),
        ("http://127.0.0.1:1234/v1/", "http://127.0.0.1:1234"),
        ("  http://127.0.0.1:1234//  ", "http://127.0.0.1:1234"),
        ("HTTP://LocalHost:1234/v1", "http://localhost:1234"),
        ("localhost:1234", "http://localhost:1234"),
        ("192.168.1.20:8080/v1", "http://192.168.1.20:8080"),
        (
            "http://host.docker.internal:1234",
            "http://host.docker.internal:1234",
        ),
        ("http://[::1]:1234/v1", "http://[::1]:1234"),
        ("http://[0:0::1]:1234", "http://[::1]:1234"),
        ("http://example.com", "http://example.com:80"),
        // A reverse-proxy mount point is kept; only a trailing /v1 goes.
        (
            "http://gateway:8000/lmstudio/v1/",
            "http://gateway:8000/lmstudio",
        ),
        ("http://gateway:8000/v1/v1", "http://gateway:8000/v1"),
    ];
    for (input, root) in cases {
        let endpoint = Endpoint::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(endpoint.root(), root, "{input}");
        assert_eq!(endpoint.to_string(), root, "{input}");
    }
}

#[test]
fn host_port_and_urls() {
    let endpoint = Endpoint::parse("http://LOCALHOST:1234/v1/").unwrap();
    assert_eq!(endpoint.host(), "localhost");
    assert_eq!(endpoint.port(), 1234);
    assert!(endpoint.is_loopback());
    assert_eq!(
        endpoint.url("/v1/models"),
        "http://localhost:1234/v1/models"
    );
    assert_eq!(
        endpoint.url("api/v0/models"),
        "http://localhost:1234/api/v0/models"
    );
    assert_eq!(
        endpoint.url("/api/v1/models/download/status/job-1"),
        "http://localhost:1234/api/v1/models/download/status/job-1"
    );
    let v6 = Endpoint::parse("http://[::1]:1234").unwrap();
    assert_eq!(v6.host(), "::1");
    assert!(v6.is_loopback());
    assert!(!Endpoint::parse("http://10.0.0.5:1").unwrap().is_loopback());
    assert_eq!(
        "http://127.0.0.1:1234".parse::<Endpoint>().unwrap(),
        Endpoint::parse("127.0.0.1:1234/v1").unwrap()
    );
}

#[test]
fn empty_values_are_refused() {
    for input in ["", "   ", "\t\n"] {
        assert_eq!(Endpoint::parse(input), Err(EndpointError::Empty));
    }
}

#[test]
fn missing_hosts_are_refused() {
    for input in ["http://", "http:///v1", "http://:1234", ":1234"] {
        let err = Endpoint::parse(input).unwrap_err();
        assert!(
            matches!(err, EndpointError::MissingHost { .. }),
            "{input}: {err:?}"
        );
        assert!(err.to_string().contains("no host"), "{err}");
    }
}

#[test]
fn https_says_tls_is_not_supported() {
    let err = Endpoint::parse("https://localhost:1234").unwrap_err();
    assert!(
        matches!(err, EndpointError::TlsUnsupported { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("https is not supported"), "{text}");
    assert!(text.contains("use http://"), "{text}");
}

#[test]
fn other_schemes_are_refused() {
    for (input, scheme) in [("ftp://host:21", "ftp"), ("ws://localhost:1234", "ws")] {
        let err = Endpoint::parse(input).unwrap_err();
        assert_eq!(
            err,
            EndpointError::UnsupportedScheme {
                input: input.to_owned(),
                scheme: scheme.to_owned(),
            }
        );
    }
}

#[test]
fn bad_ports_are_refused() {
    for input in [
        "http://localhost:0",
        "http://localhost:65536",
        "http://localhost:12a4",
        "http://localhost:",
        "http://localhost:-1",
        "localhost:99999999999",
    ] {
        let err = Endpoint::parse(input).unwrap_err();
        assert!(
            matches!(err, EndpointError::InvalidPort { .. }),
            "{input}: {err:?}"
        );
    }
}

#[test]
fn junk_is_refused_with_a_reason() {
    for input in [
        "http://local host:1234",
        "http://localhost:1234/v1?key=1",
        "http://localhost:1234/#top",
        "http://::1:1234",
        "http://[::1:1234",
        "http://[not-ip]:1234",
        "http://lo*cal:1234",
        "http://é.example:1234",
        "://localhost:1234",
        "1http://x",
        "http://a..b:1",
        "http://localhost:1234/a b",
        "http://localhost:1234/a\\b",
    ] {
        let err = Endpoint::parse(input).unwrap_err();
        assert!(
            matches!(
                err,
                EndpointError::Invalid { .. } | EndpointError::InvalidPort { .. }
            ),
            "{input}: {err:?}"
        );
    }
}

#[test]
fn credentials_are_refused_and_never_echoed() {
    let err = Endpoint::parse("http://user:hunter2@localhost:1234").unwrap_err();
    assert!(matches!(err, EndpointError::Invalid { .. }), "{err:?}");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("credentials"), "{text}");
}

#[test]
fn endpoint_errors_convert_into_transport_errors() {
    let err: Error = Endpoint::parse("https://x").unwrap_err().into();
    assert!(matches!(err, Error::InvalidEndpoint(_)));
    assert!(err.to_string().starts_with("invalid server URL:"));
}
