//! A pure Server-Sent Events decoder: bytes in, events out; no I/O, bounded memory.
//!
//! It follows the WHATWG event-stream rules, with two deliberate differences: invalid UTF-8
//! inside one event is reported as an error for that event (the decoder goes on with the next
//! one) instead of being replaced, and an event not closed by a blank line is still delivered
//! when the input ends. Bytes are split into lines first (LF, CRLF or CR, found with a SIMD
//! search) and decoded after, so a chunk boundary anywhere, inside a CRLF or a UTF-8
//! character included, gives the same events.
//!
//! ```
//! use lmstudio_transport::sse::SseDecoder;
//!
//! let mut decoder = SseDecoder::new(1024);
//! decoder.push(b"event: greeting\r\ndata: hel");
//! assert!(decoder.next_event().is_none());
//! decoder.push(b"lo\r\n\r\ndata: [DONE]");
//! let event = decoder.next_event().unwrap().unwrap();
//! assert_eq!((event.event.as_deref(), event.data.as_str()), (Some("greeting"), "hello"));
//! assert!(decoder.next_event().is_none()); // `[DONE]` has no blank line after it yet.
//! decoder.finish();
//! assert_eq!(decoder.next_event().unwrap().unwrap().data, "[DONE]");
//! assert!(decoder.next_event().is_none());
//! ```

use std::mem;

use memchr::{memchr, memchr2};

const BOM: &[u8] = b"\xEF\xBB\xBF";
/// An input buffer larger than this is shrunk back once it has been consumed.
const SHRINK_ABOVE: usize = 256 * 1024;
const KEEP_CAPACITY: usize = 16 * 1024;

/// One dispatched event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` name, if the event had one (`None` means the default, `message`).
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last event ID seen in the stream so far (`id:` persists across events).
    pub id: Option<String>,
    /// The `retry:` value (milliseconds) given in this event's block, if any.
    pub retry: Option<u64>,
}

/// One dispatched event, borrowed from the decoder (see
/// [`SseDecoder::next_event_ref`]): no allocation per event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SseEventRef<'a> {
    /// The `event:` name, if the event had one (`None` means the default, `message`).
    pub event: Option<&'a str>,
    /// The `data:` lines joined with `\n`.
    pub data: &'a str,
    /// The last event ID seen in the stream so far (`id:` persists across events).
    pub id: Option<&'a str>,
    /// The `retry:` value (milliseconds) given in this event's block, if any.
    pub retry: Option<u64>,
}

impl SseEventRef<'_> {
    /// An owned copy.
    pub fn to_event(&self) -> SseEvent {
        SseEvent {
            event: self.event.map(str::to_owned),
            data: self.data.to_owned(),
            id: self.id.map(str::to_owned),
            retry: self.retry,
        }
    }
}

/// A problem with one event.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// The event's `data`, `event` or `id` was not valid UTF-8. Decoding goes on.
    #[error("a server-sent event was not valid UTF-8")]
    InvalidUtf8,
    /// A line, or the `data` of one event, exceeded the limit. The decoder stops: it buffers
    /// nothing more and yields no more events.
    #[error("a server-sent event line or data exceeded {limit} bytes")]
    EventTooLarge {
        /// The limit in force.
        limit: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Running,
    /// `finish` was called: the rest of the input is processed as the end of the stream.
    Finishing,
    Done,
    Failed,
}

/// Bytes not yet split into lines.
#[derive(Debug, Default)]
struct Input {
    buf: Vec<u8>,
    /// Start of the first unprocessed line.
    pos: usize,
    /// Bytes before this offset hold no line end (saves rescanning a long partial line).
    scanned: usize,
    /// At stream start, until we know whether a BOM is there.
    bom_pending: bool,
    /// The last line ended in a CR at the end of the input: skip a LF that starts the next.
    skip_lf: bool,
}

/// The event being assembled. Its buffers are reused from one event to the next.
#[derive(Debug, Default)]
struct Pending {
    /// The valid `data:` lines so far, each followed by `\n`.
    data: String,
    /// The bytes the `data:` lines took, valid or not (what the size limit counts).
    data_bytes: usize,
    event_type: String,
    /// The current `event:` value was not UTF-8.
    event_type_invalid: bool,
    last_id: Option<String>,
    retry: Option<u64>,
    reconnection_ms: Option<u64>,
    /// A `data:` or `id:` line of this event was not UTF-8.
    invalid: bool,
    /// `data` and `event_type` hold a dispatched event, lent out until the next call.
    dispatched: bool,
    /// The dispatched event's `retry:`.
    dispatched_retry: Option<u64>,
}

enum Step {
    Continue,
    /// An event was dispatched (it is in [`Pending`]), or it was invalid.
    Emit(Result<(), SseError>),
    TooLarge,
}

/// Turns SSE bytes into events. Feed it with [`push`](SseDecoder::push), take events with
/// [`next_event`](SseDecoder::next_event) until it returns `None`, push again; at the end of
/// input call [`finish`](SseDecoder::finish) and drain the last events.
///
/// Memory is bounded by the unread input plus one line and one event's `data`, each at most
/// `max_event_bytes`. Take the events after every push: pushed bytes stay buffered until
/// [`next_event`](SseDecoder::next_event) splits them.
#[derive(Debug)]
pub struct SseDecoder {
    input: Input,
    event: Pending,
    max: usize,
    state: State,
}

impl Default for SseDecoder {
    /// A decoder with the default 4 MiB event limit.
    fn default() -> Self {
        Self::new(crate::Limits::DEFAULT_MAX_SSE_EVENT_BYTES)
    }
}

impl SseDecoder {
    /// A decoder refusing lines and event data longer than `max_event_bytes`.
    pub fn new(max_event_bytes: usize) -> Self {
        Self {
            input: Input {
                bom_pending: true,
                ..Input::default()
            },
            event: Pending::default(),
            max: max_event_bytes,
            state: State::Running,
        }
    }

    /// The line/event limit.
    pub fn max_event_bytes(&self) -> usize {
        self.max
    }

    /// The last valid `retry:` value seen (the reconnection time in milliseconds).
    pub fn reconnection_ms(&self) -> Option<u64> {
        self.event.reconnection_ms
    }

    /// True once the event limit was exceeded; the decoder then ignores all input.
    pub fn is_failed(&self) -> bool {
        self.state == State::Failed
    }

    /// Bytes pushed but not yet processed.
    pub fn buffered_bytes(&self) -> usize {
        self.input.buf.len() - self.input.pos
    }

    /// Adds input bytes. Ignored after [`finish`](SseDecoder::finish) or a size failure.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.state != State::Running || chunk.is_empty() {
            return;
        }
        let input = &mut self.input;
        if input.pos > 0 {
            if input.pos >= input.buf.len() {
                input.buf.clear();
                if input.buf.capacity() > SHRINK_ABOVE {
                    input.buf.shrink_to(KEEP_CAPACITY);
                }
                input.scanned = 0;
                input.pos = 0;
            } else if input.pos >= input.buf.len() / 2 {
                // Compact only when at least half is consumed: each byte moves O(1) times.
                input.buf.drain(..input.pos);
                input.scanned = input.scanned.saturating_sub(input.pos);
                input.pos = 0;
            }
        }
        input.buf.extend_from_slice(chunk);
    }

    /// Marks the end of input: what remains is processed, and a last event without its blank
    /// line is dispatched. Keep calling [`next_event`](SseDecoder::next_event) until `None`.
    pub fn finish(&mut self) {
        if self.state == State::Running {
            self.state = State::Finishing;
        }
    }

    /// The next complete event, if the input buffered so far holds one.
    pub fn next_event(&mut self) -> Option<Result<SseEvent, SseError>> {
        self.next_event_ref()
            .map(|event| event.map(|e| e.to_event()))
    }

    /// Like [`next_event`](SseDecoder::next_event), but lends the event out of the
    /// decoder's buffers instead of allocating it: the fast path for parsing `data` in place.
    pub fn next_event_ref(&mut self) -> Option<Result<SseEventRef<'_>, SseError>> {
        self.event.reclaim();
        loop {
            if matches!(self.state, State::Done | State::Failed) {
                return None;
            }
            let eof = self.state == State::Finishing;
            let input = &mut self.input;
            if input.bom_pending {
                let rest = &input.buf[input.pos..];
                if rest.len() < BOM.len() && !eof && BOM.starts_with(rest) {
                    return None;
                }
                if rest.starts_with(BOM) {
                    input.pos += BOM.len();
                }
                input.bom_pending = false;
            }
            if input.skip_lf && input.pos < input.buf.len() {
                if input.buf[input.pos] == b'\n' {
                    input.pos += 1;
                }
                input.skip_lf = false;
            }
            let start = input.pos;
            let from = input.scanned.max(start);
            let step = match memchr2(b'\n', b'\r', &input.buf[from..]) {
                Some(offset) => {
                    let end = from + offset;
                    let mut next = end + 1;
                    if input.buf[end] == b'\r' {
                        match input.buf.get(next) {
                            Some(b'\n') => next += 1,
                            Some(_) => {}
                            None => input.skip_lf = true,
                        }
                    }
                    input.pos = next;
                    input.scanned = next;
                    self.event.line(&input.buf[start..end], self.max)
                }
                None => {
                    input.scanned = input.buf.len();
                    let partial = input.buf.len() - start;
                    if partial > self.max {
                        Step::TooLarge
                    } else if !eof {
                        return None;
                    } else if partial > 0 {
                        input.pos = input.buf.len();
                        self.event.line(&input.buf[start..], self.max)
                    } else {
                        self.state = State::Done;
                        match self.event.dispatch() {
                            Some(result) => Step::Emit(result),
                            None => return None,
                        }
                    }
                }
            };
            match step {
                Step::Continue => {}
                Step::Emit(Ok(())) => break,
                Step::Emit(Err(e)) => return Some(Err(e)),
                Step::TooLarge => {
                    self.fail();
                    return Some(Err(SseError::EventTooLarge { limit: self.max }));
                }
            }
        }
        let event = &self.event;
        Some(Ok(SseEventRef {
            event: (!event.event_type.is_empty()).then_some(event.event_type.as_str()),
            data: &event.data,
            id: event.last_id.as_deref(),
            retry: event.dispatched_retry,
        }))
    }

    /// Stops for good and frees the buffers.
    fn fail(&mut self) {
        self.state = State::Failed;
        self.input = Input::default();
        self.event.data = String::new();
        self.event.event_type = String::new();
    }
}

impl Pending {
    fn line(&mut self, line: &[u8], max: usize) -> Step {
        if line.is_empty() {
            return match self.dispatch() {
                Some(result) => Step::Emit(result),
                None => Step::Continue,
            };
        }
        if line.len() > max {
            return Step::TooLarge;
        }
        if line[0] == b':' {
            return Step::Continue;
        }
        let (field, value) = match memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => {
                // Saturating: a limit of `usize::MAX` means "no limit", never an overflow.
                if self.data_bytes.saturating_add(value.len()) > max {
                    return Step::TooLarge;
                }
                self.data_bytes = self.data_bytes.saturating_add(value.len() + 1);
                // Lines end at LF/CR, which never occur inside a UTF-8 sequence: checking each
                // line is the same as checking the joined data.
                match std::str::from_utf8(value) {
                    Ok(text) => self.data.push_str(text),
                    Err(_) => self.invalid = true,
                }
                self.data.push('\n');
            }
            b"event" => {
                self.event_type.clear();
                match std::str::from_utf8(value) {
                    Ok(text) => {
                        self.event_type.push_str(text);
                        self.event_type_invalid = false;
                    }
                    Err(_) => self.event_type_invalid = true,
                }
            }
            // An id holding NUL is ignored, per the spec.
            b"id" if memchr(0, value).is_none() => match std::str::from_utf8(value) {
                Ok("") => self.last_id = None,
                Ok(id) => self.last_id = Some(id.to_owned()),
                Err(_) => self.invalid = true,
            },
            b"retry" => {
                if let Some(ms) = parse_digits(value) {
                    self.retry = Some(ms);
                    self.reconnection_ms = Some(ms);
                }
            }
            _ => {}
        }
        Step::Continue
    }

    /// A blank line: the event is delivered when its data buffer is not empty. A valid event
    /// stays in the buffers (lent out by `next_event_ref`) until [`reclaim`](Self::reclaim).
    fn dispatch(&mut self) -> Option<Result<(), SseError>> {
        let retry = self.retry.take();
        let invalid = mem::take(&mut self.invalid);
        let event_type_invalid = mem::take(&mut self.event_type_invalid);
        if self.data.is_empty() {
            self.event_type.clear();
            return None;
        }
        self.data.pop(); // the `\n` after the last data line
        self.data_bytes = 0;
        if invalid || event_type_invalid {
            self.data.clear();
            self.event_type.clear();
            return Some(Err(SseError::InvalidUtf8));
        }
        self.dispatched = true;
        self.dispatched_retry = retry;
        Some(Ok(()))
    }

    /// Empties the buffers of an event lent out before; a buffer grown by one huge event is
    /// given back.
    fn reclaim(&mut self) {
        if mem::take(&mut self.dispatched) {
            self.data.clear();
            self.event_type.clear();
            if self.data.capacity() > SHRINK_ABOVE {
                self.data.shrink_to(KEEP_CAPACITY);
            }
        }
    }
}

/// ASCII digits only, no overflow.
fn parse_digits(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    value.iter().try_fold(0u64, |n, &b| {
        if b.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// Decodes a complete input in one go (pushes it, finishes, drains every event).
pub fn decode_all(input: &[u8], max_event_bytes: usize) -> Vec<Result<SseEvent, SseError>> {
    let mut decoder = SseDecoder::new(max_event_bytes);
    decoder.push(input);
    decoder.finish();
    std::iter::from_fn(|| decoder.next_event()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(input: &[u8]) -> Vec<String> {
        decode_all(input, 1024)
            .into_iter()
            .map(|r| r.map(|e| e.data).unwrap_or_else(|e| format!("ERR {e}")))
            .collect()
    }

    #[test]
    fn line_endings_and_fields() {
        assert_eq!(
            data(b"data: a\n\ndata: b\r\n\r\ndata: c\r\rdata:d"),
            ["a", "b", "c", "d"]
        );
        assert_eq!(data(b"data\n\n"), [""]);
        assert_eq!(data(b"data:  two spaces\n\n"), [" two spaces"]);
        assert_eq!(data(b"data: a\ndata: b\n\n"), ["a\nb"]);
        assert_eq!(data(b": comment\n\n"), Vec::<String>::new());
        assert_eq!(data(b"\xEF\xBB\xBFdata: x\n\n"), ["x"]);
        // Only one BOM is stripped: a second one is part of the first field name.
        assert_eq!(
            data(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn retry_digits_only_and_ids_persist() {
        let events = decode_all(b"retry: 10\nid: 7\ndata: a\n\nretry: 1x\ndata: b\n\n", 64);
        let events: Vec<SseEvent> = events.into_iter().map(Result::unwrap).collect();
        assert_eq!(events[0].retry, Some(10));
        assert_eq!(events[0].id.as_deref(), Some("7"));
        assert_eq!(events[1].retry, None);
        assert_eq!(events[1].id.as_deref(), Some("7"));
        assert_eq!(parse_digits(b"99999999999999999999999"), None);
    }

    #[test]
    fn a_retry_of_u64_max_is_kept_and_one_more_is_ignored() {
        assert_eq!(parse_digits(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_digits(b"18446744073709551616"), None);
        assert_eq!(parse_digits(b"-1"), None);
        assert_eq!(parse_digits(b"1e3"), None);
        let events = decode_all(
            b"retry: 18446744073709551615\ndata: a\n\nretry: 18446744073709551616\ndata: b\n\n",
            usize::MAX,
        );
        let events: Vec<SseEvent> = events.into_iter().map(Result::unwrap).collect();
        assert_eq!(events[0].retry, Some(u64::MAX));
        assert_eq!(events[1].retry, None);
        // The reconnection time is in milliseconds: any u64 of them is a Duration.
        assert_eq!(
            std::time::Duration::from_millis(u64::MAX).as_millis(),
            u128::from(u64::MAX)
        );
    }

    #[test]
    fn oversized_line_stops_the_decoder() {
        let mut decoder = SseDecoder::new(8);
        decoder.push(b"data: 0123456789");
        assert_eq!(
            decoder.next_event(),
            Some(Err(SseError::EventTooLarge { limit: 8 }))
        );
        assert!(decoder.is_failed());
        decoder.push(b"\n\ndata: x\n\n");
        assert_eq!(decoder.next_event(), None);
        assert_eq!(decoder.buffered_bytes(), 0);
    }

    #[test]
    fn borrowed_events_match_owned_ones_and_reuse_the_buffers() {
        let input: &[u8] = b"event: a\nid: 1\nretry: 5\ndata: x\ndata: y\n\n\
              data: \xff\n\n\
              event: \xff\nevent: b\ndata: z\n\n\
              event: \xff\ndata: w\n\n\
              data: last";
        let owned = decode_all(input, 64);
        let mut decoder = SseDecoder::new(64);
        decoder.push(input);
        decoder.finish();
        let mut borrowed = Vec::new();
        while let Some(event) = decoder.next_event_ref() {
            borrowed.push(event.map(|e| e.to_event()));
        }
        assert_eq!(borrowed, owned);
        let events: Vec<_> = owned
            .iter()
            .map(|r| r.as_ref().map(|e| e.data.as_str()))
            .collect();
        assert_eq!(
            events,
            [
                Ok("x\ny"),
                Err(&SseError::InvalidUtf8),
                Ok("z"),
                Err(&SseError::InvalidUtf8),
                Ok("last")
            ]
        );
        let first = owned[0].as_ref().unwrap();
        assert_eq!(
            (first.event.as_deref(), first.id.as_deref(), first.retry),
            (Some("a"), Some("1"), Some(5))
        );
        assert_eq!(owned[2].as_ref().unwrap().event.as_deref(), Some("b"));
        assert_eq!(owned[4].as_ref().unwrap().event, None);
    }

    #[test]
    fn invalid_data_bytes_still_count_against_the_limit() {
        let mut decoder = SseDecoder::new(8);
        decoder.push(b"data: \xff\xff\xff\xff\ndata: abcd\n\n");
        assert_eq!(
            decoder.next_event_ref(),
            Some(Err(SseError::EventTooLarge { limit: 8 }))
        );
    }
}
