//! Fuzz target: the SSE decoder gives the same events for any split of the same bytes, and
//! the same events as a small reference decoder written from the rules in the crate docs.
//!
//! Input layout (all fuzzer-chosen): byte 0 picks the event limit (low 2 bits) and one-byte
//! feeding (bit 2); byte 1 is the number of cut points (mod 17); then two bytes per cut point
//! (little-endian offsets into the payload); the rest is the SSE payload.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lmstudio_transport::sse::{SseDecoder, SseError, SseEvent, decode_all};

const LIMITS: [usize; 4] = [8, 37, 512, 1 << 20];
const BOM: &[u8] = b"\xEF\xBB\xBF";

type Outcome = Vec<Result<SseEvent, SseError>>;

fuzz_target!(|input: &[u8]| {
    let (max, one_byte, cuts, payload) = split_input(input);
    let expected = decode_all(payload, max);

    let chunks: Vec<&[u8]> = if one_byte {
        payload.chunks(1).collect()
    } else {
        chunks_at(payload, &cuts)
    };
    let streamed = decode_streamed(&chunks, max);
    assert_eq!(
        streamed, expected,
        "a split changed the events (cuts {cuts:?})"
    );

    let reference = reference_decode(payload, max);
    assert_eq!(
        expected, reference,
        "the decoder disagrees with the reference"
    );
});

fn split_input(input: &[u8]) -> (usize, bool, Vec<usize>, &[u8]) {
    let mode = input.first().copied().unwrap_or(0);
    let count = usize::from(input.get(1).copied().unwrap_or(0) % 17);
    let header = (2 + 2 * count).min(input.len());
    let payload = &input[header..];
    let cuts = input[2.min(input.len())..header]
        .chunks(2)
        .map(|pair| {
            let raw = usize::from(pair[0]) | usize::from(pair.get(1).copied().unwrap_or(0)) << 8;
            raw % (payload.len() + 1)
        })
        .collect();
    (LIMITS[usize::from(mode & 3)], mode & 4 != 0, cuts, payload)
}

fn chunks_at<'a>(payload: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts = cuts.to_vec();
    cuts.sort_unstable();
    let mut chunks = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for cut in cuts {
        chunks.push(&payload[start..cut]);
        start = cut;
    }
    chunks.push(&payload[start..]);
    chunks
}

/// Pushes each chunk and drains the events after every push, as the streams do.
fn decode_streamed(chunks: &[&[u8]], max: usize) -> Outcome {
    let mut decoder = SseDecoder::new(max);
    let mut events = Vec::new();
    for chunk in chunks {
        decoder.push(chunk);
        while let Some(event) = decoder.next_event() {
            events.push(event);
        }
        // Bounded memory: once drained, at most one partial line (<= the limit) is buffered.
        assert!(
            decoder.buffered_bytes() <= max,
            "{} bytes buffered with a {max}-byte limit",
            decoder.buffered_bytes()
        );
    }
    decoder.finish();
    while let Some(event) = decoder.next_event() {
        events.push(event);
    }
    // Finished: nothing more, whatever is pushed.
    decoder.push(b"data: late\n\n");
    assert!(decoder.next_event().is_none(), "an event after finish");
    events
}

/// The pending event of the reference decoder.
#[derive(Default)]
struct Pending {
    data: Vec<u8>,
    event_type: Vec<u8>,
    last_id: Option<String>,
    retry: Option<u64>,
    invalid: bool,
}

impl Pending {
    fn dispatch(&mut self) -> Option<Result<SseEvent, SseError>> {
        let retry = self.retry.take();
        let invalid = std::mem::take(&mut self.invalid);
        let event_type = std::mem::take(&mut self.event_type);
        if self.data.is_empty() {
            return None;
        }
        let mut data = std::mem::take(&mut self.data);
        data.pop();
        let event = match event_type.is_empty() {
            true => Some(None),
            false => String::from_utf8(event_type).ok().map(Some),
        };
        let (Some(event), false) = (event, invalid) else {
            return Some(Err(SseError::InvalidUtf8));
        };
        Some(match String::from_utf8(data) {
            Ok(data) => Ok(SseEvent {
                event,
                data,
                id: self.last_id.clone(),
                retry,
            }),
            Err(_) => Err(SseError::InvalidUtf8),
        })
    }
}

/// A straightforward decoder of a complete input: one leading BOM removed, lines split on
/// CRLF, LF or CR, the last line kept even without its end, and a last event dispatched at
/// the end of input.
fn reference_decode(input: &[u8], max: usize) -> Outcome {
    let input = input.strip_prefix(BOM).unwrap_or(input);
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'\n' => {
                lines.push(&input[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&input[start..i]);
                if input.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < input.len() {
        lines.push(&input[start..]);
    }
    let too_large = SseError::EventTooLarge { limit: max };
    let mut out = Vec::new();
    let mut pending = Pending::default();
    for line in lines {
        if line.is_empty() {
            out.extend(pending.dispatch());
            continue;
        }
        if line.len() > max {
            out.push(Err(too_large));
            return out;
        }
        if line[0] == b':' {
            continue;
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => {
                if pending.data.len() + value.len() > max {
                    out.push(Err(too_large));
                    return out;
                }
                pending.data.extend_from_slice(value);
                pending.data.push(b'\n');
            }
            b"event" => pending.event_type = value.to_vec(),
            b"id" if !value.contains(&0) => match std::str::from_utf8(value) {
                Ok("") => pending.last_id = None,
                Ok(id) => pending.last_id = Some(id.to_owned()),
                Err(_) => pending.invalid = true,
            },
            b"retry" => {
                let digits = !value.is_empty() && value.iter().all(u8::is_ascii_digit);
                if let Some(ms) = digits
                    .then(|| std::str::from_utf8(value).ok()?.parse::<u64>().ok())
                    .flatten()
                {
                    pending.retry = Some(ms);
                }
            }
            _ => {}
        }
    }
    out.extend(pending.dispatch());
    out
}
