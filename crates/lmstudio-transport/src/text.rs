//! Bounded text for error messages: the one implementation of "cut this to an excerpt" in
//! this crate (response bodies, stream events, user input echoed in errors).

use crate::error::EXCERPT_CHARS;

/// `text` when it has at most `max` characters, else its first `max - 1` characters and `…`.
pub(crate) fn cut_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some(_) => ellipsized(text.chars(), max),
    }
}

/// The first `max - 1` characters of `chars`, then `…`.
fn ellipsized(chars: impl Iterator<Item = char>, max: usize) -> String {
    let mut out: String = chars.take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A bounded, single-line excerpt of a body: at most [`EXCERPT_CHARS`] characters, control
/// characters replaced by spaces, `…` appended when cut. Never decodes more of the body than
/// the excerpt can show.
pub(crate) fn excerpt(body: &[u8]) -> String {
    // 4 bytes per char at most.
    let window = &body[..body.len().min(EXCERPT_CHARS * 4)];
    let decoded = String::from_utf8_lossy(window);
    let flat = decoded
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c });
    if window.len() < body.len() {
        ellipsized(flat, EXCERPT_CHARS)
    } else {
        cut_chars(&flat.collect::<String>(), EXCERPT_CHARS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_is_bounded_and_single_line() {
        let long = "x".repeat(10_000);
        let e = excerpt(long.as_bytes());
        assert_eq!(e.chars().count(), EXCERPT_CHARS);
        assert!(e.ends_with('…'));
        assert_eq!(excerpt(b"  a\nb\r\tc  "), "a b  c");
        assert_eq!(excerpt(b""), "");
        let exact = "y".repeat(EXCERPT_CHARS);
        assert_eq!(excerpt(exact.as_bytes()), exact);
        let one_more = "y".repeat(EXCERPT_CHARS + 1);
        assert_eq!(excerpt(one_more.as_bytes()).chars().count(), EXCERPT_CHARS);
        // Multi-byte text cut anywhere stays valid and bounded.
        let wide = "é".repeat(5_000);
        assert!(excerpt(wide.as_bytes()).chars().count() <= EXCERPT_CHARS);
        assert_eq!(excerpt(&[0xff, b'a']), "\u{fffd}a");
    }

    #[test]
    fn cutting_keeps_short_text_and_marks_a_cut() {
        assert_eq!(cut_chars("abc", 3), "abc");
        assert_eq!(cut_chars("abcd", 3), "ab…");
        assert_eq!(cut_chars("ééé", 2), "é…");
        assert_eq!(cut_chars("", 0), "");
        assert_eq!(cut_chars("a", 0), "…");
    }
}
