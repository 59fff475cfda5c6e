//! Terminal-output helpers: ANSI stripping, `\r`/`\n` line splitting, a bounded stderr tail.

use std::borrow::Cow;
use std::collections::VecDeque;

/// Removes ANSI escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL|ESC \`, DCS/SOS/PM/APC
/// strings, two- and three-byte `ESC` sequences, and the 8-bit CSI `U+009B`) and any other
/// control characters except tab.
pub fn strip_ansi(input: &str) -> Cow<'_, str> {
    if !input.chars().any(|c| c != '\t' && c.is_control()) {
        return Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => skip_csi(&mut chars),
                Some(']' | 'P' | 'X' | '^' | '_') => skip_string(&mut chars),
                // `ESC ( B` and friends: one intermediate byte, then the final byte.
                Some(' '..='/') => {
                    chars.next();
                }
                // `ESC 7`, `ESC 8`, `ESC c`, …: a single final byte, already consumed.
                Some(_) | None => {}
            },
            '\u{9b}' => skip_csi(&mut chars),
            '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Skips a CSI sequence's parameter and intermediate bytes and its final byte (`@`..=`~`).
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('@'..='~').contains(&c) {
            return;
        }
        if !(' '..='?').contains(&c) {
            // Malformed: stop at the first byte that cannot belong to a CSI sequence.
            return;
        }
    }
}

/// Skips an OSC/DCS-style string up to BEL or `ESC \`.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

/// Splits a byte stream into lines on `\r` and `\n` (so every progress-bar redraw is a
/// line), with a bounded line length: bytes past `max_line` are dropped until the next break.
#[derive(Debug)]
pub(crate) struct LineSplitter {
    buf: Vec<u8>,
    max_line: usize,
}

impl LineSplitter {
    pub(crate) fn new(max_line: usize) -> Self {
        Self {
            buf: Vec::new(),
            max_line,
        }
    }

    /// Feeds bytes; calls `on_line` with each complete line (ANSI-stripped, not trimmed,
    /// empty lines skipped).
    pub(crate) fn push(&mut self, bytes: &[u8], on_line: &mut dyn FnMut(&str)) {
        let mut rest = bytes;
        while let Some(pos) = rest.iter().position(|b| *b == b'\r' || *b == b'\n') {
            self.extend(&rest[..pos]);
            self.emit(on_line);
            rest = &rest[pos + 1..];
        }
        self.extend(rest);
    }

    /// Emits whatever is buffered as a final line.
    pub(crate) fn finish(&mut self, on_line: &mut dyn FnMut(&str)) {
        self.emit(on_line);
    }

    fn extend(&mut self, bytes: &[u8]) {
        let room = self.max_line.saturating_sub(self.buf.len());
        self.buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn emit(&mut self, on_line: &mut dyn FnMut(&str)) {
        if self.buf.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.buf);
        let clean = strip_ansi(&text);
        if !clean.trim().is_empty() {
            on_line(&clean);
        }
        self.buf.clear();
    }
}

/// Keeps the last lines of a stream, bounded by a line count and a byte budget.
#[derive(Debug)]
pub(crate) struct TailBuffer {
    lines: VecDeque<String>,
    bytes: usize,
    max_lines: usize,
    max_bytes: usize,
}

impl TailBuffer {
    pub(crate) fn new(max_lines: usize, max_bytes: usize) -> Self {
        Self {
            lines: VecDeque::new(),
            bytes: 0,
            max_lines,
            max_bytes,
        }
    }

    /// Adds a line (trimmed at the end; blank lines ignored; a line longer than the byte
    /// budget keeps its end).
    pub(crate) fn push(&mut self, line: &str) {
        let line = line.trim_end();
        if line.trim().is_empty() || self.max_lines == 0 {
            return;
        }
        let line = tail_chars(line, self.max_bytes);
        self.bytes += line.len();
        self.lines.push_back(line.to_owned());
        while self.lines.len() > self.max_lines || self.bytes > self.max_bytes {
            match self.lines.pop_front() {
                Some(old) => self.bytes -= old.len(),
                None => break,
            }
        }
    }

    /// The kept lines joined with `\n`.
    pub(crate) fn joined(&self) -> String {
        let mut out = String::with_capacity(self.bytes + self.lines.len());
        for (i, line) in self.lines.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(line);
        }
        out
    }
}

/// The longest suffix of `s` that is at most `max` bytes and starts on a char boundary.
fn tail_chars(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// Whether `haystack` contains `needle`, ignoring ASCII case (no allocation).
pub(crate) fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// The first `max` characters of `s`.
pub(crate) fn head_chars(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_csi_osc_and_private_modes() {
        let raw = "\x1b[?25l\x1b[s\x1b[2K\x1b[31mred\x1b[0m \x1b]0;title\x07ok\x1b]8;;x\x1b\\ \x1b(Bz\x1b7";
        assert_eq!(strip_ansi(raw), "red ok z");
    }

    #[test]
    fn strips_8bit_csi_and_controls_but_keeps_tab_and_unicode() {
        assert_eq!(strip_ansi("a\u{9b}1mb\u{7}\tc ⠋ █▌"), "ab\tc ⠋ █▌");
    }

    #[test]
    fn splitter_breaks_on_cr_and_lf_across_chunks() {
        let mut lines = Vec::new();
        let mut sp = LineSplitter::new(1024);
        let mut push = |l: &str| lines.push(l.to_owned());
        sp.push(b"one\r tw", &mut push);
        sp.push(b"o\r\n\x1b[0Kthree", &mut push);
        sp.finish(&mut push);
        assert_eq!(lines, vec!["one", " two", "three"]);
    }

    #[test]
    fn splitter_bounds_line_length() {
        let mut lines = Vec::new();
        let mut sp = LineSplitter::new(4);
        sp.push(b"abcdefgh\nxy", &mut |l: &str| lines.push(l.to_owned()));
        sp.finish(&mut |l: &str| lines.push(l.to_owned()));
        assert_eq!(lines, vec!["abcd", "xy"]);
    }

    #[test]
    fn tail_keeps_last_lines_within_budget() {
        let mut t = TailBuffer::new(3, 1000);
        for i in 0..10 {
            t.push(&format!("line {i}"));
        }
        t.push("   ");
        assert_eq!(t.joined(), "line 7\nline 8\nline 9");

        let mut t = TailBuffer::new(100, 10);
        t.push("aaaa");
        t.push("bbbb");
        t.push("cccc");
        assert_eq!(t.joined(), "bbbb\ncccc");
        t.push("0123456789abc");
        assert_eq!(t.joined(), "3456789abc");
    }

    #[test]
    fn case_insensitive_contains() {
        assert!(contains_ignore_ascii_case(
            "Model Already Downloaded.",
            "already downloaded"
        ));
        assert!(!contains_ignore_ascii_case(
            "already in progress",
            "already downloaded"
        ));
    }

    #[test]
    fn tail_chars_respects_char_boundaries() {
        assert_eq!(tail_chars("ééé", 3), "é");
        assert_eq!(head_chars("ééé", 2), "éé");
    }
}
