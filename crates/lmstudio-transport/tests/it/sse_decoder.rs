//! The SSE decoder: the same events for any split of the same bytes, and the tricky cases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use lmstudio_transport::SseEvent;
use lmstudio_transport::sse::{SseDecoder, SseError, decode_all};

type Outcome = Vec<Result<SseEvent, SseError>>;

const MAX: usize = 64 * 1024;

/// Feeds `chunks` one by one, draining events after each, then finishes.
fn decode_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>, max: usize) -> Outcome {
    let mut decoder = SseDecoder::new(max);
    let mut out = Vec::new();
    for chunk in chunks {
        decoder.push(chunk);
        while let Some(event) = decoder.next_event() {
            out.push(event);
        }
    }
    decoder.finish();
    while let Some(event) = decoder.next_event() {
        out.push(event);
    }
    out
}

/// Asserts that every 2-way split, 1-byte chunks and a few pseudo-random chunkings decode
/// like the one-shot decode.
fn assert_split_invariant(name: &str, bytes: &[u8]) -> Outcome {
    let expected = decode_all(bytes, MAX);
    for at in 0..=bytes.len() {
        let (a, b) = bytes.split_at(at);
        assert_eq!(
            decode_chunks([a, b], MAX),
            expected,
            "{name}: split at byte {at}"
        );
    }
    assert_eq!(
        decode_chunks(bytes.chunks(1), MAX),
        expected,
        "{name}: 1-byte chunks"
    );
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64 ^ bytes.len() as u64;
    for round in 0..20 {
        let mut chunks = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let size = (seed % 23 + 1) as usize;
            let (chunk, tail) = rest.split_at(size.min(rest.len()));
            chunks.push(chunk);
            rest = tail;
        }
        assert_eq!(
            decode_chunks(chunks, MAX),
            expected,
            "{name}: random chunking {round}"
        );
    }
    expected
}

fn ok(outcome: &Outcome) -> Vec<&SseEvent> {
    outcome
        .iter()
        .map(|r| r.as_ref().expect("no decode error"))
        .collect()
}

fn datas(outcome: &Outcome) -> Vec<String> {
    outcome
        .iter()
        .map(|r| match r {
            Ok(event) => event.data.clone(),
            Err(e) => format!("ERR: {e}"),
        })
        .collect()
}

fn replace_lf(bytes: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes {
        if b == b'\n' {
            out.extend_from_slice(with);
        } else {
            out.push(b);
        }
    }
    out
}

#[test]
fn every_fixture_decodes_identically_for_any_split() {
    for name in support::SSE_FIXTURES {
        let original = support::data(name);
        let expected = assert_split_invariant(name, &original);
        let events = ok(&expected);
        // One event per `data:` line in these captures.
        let data_lines = original
            .split(|&b| b == b'\n')
            .filter(|line| line.starts_with(b"data:"))
            .count();
        assert_eq!(events.len(), data_lines, "{name}: event count");
        for event in &events {
            assert!(!event.data.is_empty(), "{name}: empty data");
        }
        if *name == "lmstudio_native_chat_events.sse" {
            assert_eq!(events[0].event.as_deref(), Some("chat.start"));
            assert_eq!(events[18].event.as_deref(), Some("chat.end"));
            assert!(events[18].data.contains("top\u{2011}trending"));
        } else {
            assert_eq!(events.last().map(|e| e.data.as_str()), Some("[DONE]"));
            assert!(events.iter().all(|e| e.event.is_none()));
        }

        // The same stream with other line ends, a BOM, or no final blank line.
        let crlf = replace_lf(&original, b"\r\n");
        assert_eq!(
            assert_split_invariant(name, &crlf),
            expected,
            "{name}: CRLF"
        );
        let cr = replace_lf(&original, b"\r");
        assert_eq!(assert_split_invariant(name, &cr), expected, "{name}: CR");
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(&original);
        assert_eq!(decode_chunks(bom.chunks(1), MAX), expected, "{name}: BOM");
        let trimmed = original.trim_ascii_end();
        assert_eq!(
            decode_chunks(trimmed.chunks(7), MAX),
            expected,
            "{name}: no final blank line"
        );
    }
}

#[test]
fn line_ending_matrix() {
    let cases: &[(&str, &[u8], &[&str])] = &[
        ("LF", b"data: a\n\ndata: b\n\n", &["a", "b"]),
        ("CRLF", b"data: a\r\n\r\ndata: b\r\n\r\n", &["a", "b"]),
        ("CR only", b"data: a\r\rdata: b\r\r", &["a", "b"]),
        ("mixed", b"data: a\r\n\rdata: b\n\r\n", &["a", "b"]),
        // A CRLF is one line end: the LF must not read as a blank line.
        (
            "CRLF inside an event",
            b"data: a\r\ndata: b\r\n\r\n",
            &["a\nb"],
        ),
        (
            "LF CR is two line ends",
            b"data: a\n\rdata: b\n\n",
            &["a", "b"],
        ),
        ("no trailing blank line", b"data: x", &["x"]),
        ("one trailing LF", b"data: x\n", &["x"]),
        ("trailing CR", b"data: x\r", &["x"]),
    ];
    for (name, input, expected) in cases {
        let outcome = assert_split_invariant(name, input);
        assert_eq!(datas(&outcome), *expected, "{name}");
    }
}

#[test]
fn crlf_split_across_chunks_is_one_line_end() {
    let outcome = decode_chunks([&b"data: a\r"[..], b"\ndata: b\r", b"\n\r", b"\n"], MAX);
    assert_eq!(datas(&outcome), ["a\nb"]);
    // A CR at a chunk end followed by a non-LF byte is a line end of its own.
    let outcome = decode_chunks([&b"data: a\r"[..], b"\rdata: b\r", b"\r"], MAX);
    assert_eq!(datas(&outcome), ["a", "b"]);
}

#[test]
fn bom_matrix() {
    let cases: &[(&str, &[u8], &[&str])] = &[
        ("leading BOM stripped", b"\xEF\xBB\xBFdata: x\n\n", &["x"]),
        // A second BOM belongs to the field name `\u{feff}data`, which is unknown.
        ("only one BOM", b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n", &[]),
        ("partial BOM is not a BOM", b"\xEF\xBBdata: x\n\n", &[]),
        (
            "BOM later is not stripped",
            b"data: a\n\n\xEF\xBB\xBFdata: b\n\n",
            &["a"],
        ),
        ("only a BOM", b"\xEF\xBB\xBF", &[]),
        (
            "BOM in data is kept",
            b"data: \xEF\xBB\xBFx\n\n",
            &["\u{feff}x"],
        ),
        ("empty", b"", &[]),
    ];
    for (name, input, expected) in cases {
        let outcome = assert_split_invariant(name, input);
        assert_eq!(datas(&outcome), *expected, "{name}");
    }
    let split = decode_chunks([&b"\xEF"[..], b"\xBB", b"\xBF", b"data: x\n\n"], MAX);
    assert_eq!(datas(&split), ["x"]);
}

#[test]
fn field_matrix() {
    let cases: &[(&str, &[u8], &[&str])] = &[
        ("comment ignored", b": keep-alive\n\ndata: x\n\n", &["x"]),
        (
            "comment inside an event",
            b"data: a\n: note\ndata: b\n\n",
            &["a\nb"],
        ),
        (
            "multi-line data",
            b"data: a\ndata:\ndata:  b\n\n",
            &["a\n\n b"],
        ),
        ("one leading space stripped", b"data:  x \n\n", &[" x "]),
        ("no space after colon", b"data:x\n\n", &["x"]),
        ("field without colon", b"data\n\n", &[""]),
        ("colon in value", b"data: {\"a\":1}\n\n", &["{\"a\":1}"]),
        ("unknown field ignored", b"foo: bar\ndata: x\n\n", &["x"]),
        ("event without data not dispatched", b"event: x\n\n", &[]),
        ("blank lines only", b"\n\n\r\n\r\r", &[]),
    ];
    for (name, input, expected) in cases {
        let outcome = assert_split_invariant(name, input);
        assert_eq!(datas(&outcome), *expected, "{name}");
    }
}

#[test]
fn event_names_ids_and_retry() {
    let input = b"retry: 3000\nevent: message.delta\nid: 42\ndata: {}\n\n\
                  event: x\n\n\
                  data: plain\n\n\
                  retry: 30a0\nid: a\0b\ndata: again\n\n\
                  id\ndata: cleared\n\n";
    let outcome = assert_split_invariant("fields", input);
    let events = ok(&outcome);
    assert_eq!(events.len(), 4);
    assert_eq!(events[0].event.as_deref(), Some("message.delta"));
    assert_eq!(events[0].id.as_deref(), Some("42"));
    assert_eq!(events[0].retry, Some(3000));
    // The name of an event without data does not leak into the next event.
    assert_eq!(events[1].event, None);
    assert_eq!(events[1].data, "plain");
    assert_eq!(events[1].id.as_deref(), Some("42")); // ids persist
    assert_eq!(events[1].retry, None);
    // Non-digit retry and an id holding NUL are ignored.
    assert_eq!(events[2].retry, None);
    assert_eq!(events[2].id.as_deref(), Some("42"));
    // An empty id resets it.
    assert_eq!(events[3].id, None);

    let mut decoder = SseDecoder::new(MAX);
    decoder.push(b"retry: 1500\n\n");
    assert!(decoder.next_event().is_none());
    assert_eq!(decoder.reconnection_ms(), Some(1500));
}

#[test]
fn invalid_utf8_fails_one_event_and_decoding_goes_on() {
    let input = b"data: \xff\xfe\n\ndata: ok\n\nevent: \xc3\ndata: x\n\nid: \xff\ndata: y\n\ndata: fine\n\n";
    let outcome = assert_split_invariant("invalid utf-8", input);
    assert_eq!(
        datas(&outcome),
        [
            "ERR: a server-sent event was not valid UTF-8",
            "ok",
            "ERR: a server-sent event was not valid UTF-8",
            "ERR: a server-sent event was not valid UTF-8",
            "fine",
        ]
    );
    assert_eq!(outcome[0], Err(SseError::InvalidUtf8));
}

#[test]
fn utf8_characters_split_anywhere() {
    let input = "event: é\ndata: héllo €uro 😀 \u{2011}\n\n".as_bytes();
    let outcome = assert_split_invariant("utf-8", input);
    let events = ok(&outcome);
    assert_eq!(events[0].data, "héllo €uro 😀 \u{2011}");
    assert_eq!(events[0].event.as_deref(), Some("é"));
}

#[test]
fn oversized_line_is_an_error_and_stops_buffering() {
    let mut decoder = SseDecoder::new(1024);
    decoder.push(b"data: ok\n\n");
    assert_eq!(decoder.next_event().unwrap().unwrap().data, "ok");
    let mut errors = Vec::new();
    for _ in 0..1000 {
        decoder.push(&[b'a'; 100]);
        while let Some(event) = decoder.next_event() {
            errors.push(event);
        }
        assert!(decoder.buffered_bytes() <= 1024 + 100);
    }
    assert_eq!(errors, [Err(SseError::EventTooLarge { limit: 1024 })]);
    assert!(decoder.is_failed());
    assert_eq!(decoder.buffered_bytes(), 0);
    decoder.push(b"\n\ndata: late\n\n");
    decoder.finish();
    assert!(decoder.next_event().is_none());
}

#[test]
fn oversized_data_across_lines_is_an_error() {
    let mut input = Vec::new();
    for _ in 0..20 {
        input.extend_from_slice(b"data: 0123456789012345678901234567890123456789\n");
    }
    input.extend_from_slice(b"\n");
    let outcome = decode_all(&input, 256);
    assert_eq!(outcome, [Err(SseError::EventTooLarge { limit: 256 })]);
    // Exactly at the limit is fine.
    let line = format!("data: {}\n\n", "x".repeat(250));
    assert_eq!(datas(&decode_all(line.as_bytes(), 256)), ["x".repeat(250)]);
}

#[test]
fn a_long_line_in_small_chunks_is_decoded() {
    let data = "y".repeat(200_000);
    let input = format!("data: {data}\n\n");
    let outcome = decode_chunks(input.as_bytes().chunks(1000), 1 << 20);
    assert_eq!(datas(&outcome), [data]);
}
