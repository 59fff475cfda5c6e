//! Reading a response body into memory without ever exceeding the body limit.

use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_LENGTH;
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::error::Error;

/// Never reserve more than this up front, whatever `Content-Length` claims.
const MAX_INITIAL_RESERVE: usize = 1024 * 1024;

/// The declared `Content-Length`, if present and a number that fits a `u64` (a bigger one,
/// a negative or fractional one, or text is `None`: unknown). It only ever bounds a body or
/// refuses one; it never sizes an allocation past [`MAX_INITIAL_RESERVE`].
pub(crate) fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Reads the whole body, refusing more than `limit` bytes: the declared length is checked
/// before reading, then the bytes are counted as they arrive. A one-frame body is returned
/// without copying.
pub(crate) async fn read_limited(
    body: &mut Incoming,
    headers: &HeaderMap,
    limit: usize,
    url: &str,
) -> Result<Bytes, Error> {
    let declared = content_length(headers);
    let too_large = || Error::BodyTooLarge {
        url: url.to_owned(),
        limit,
        declared,
    };
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut first: Option<Bytes> = None;
    let mut joined: Vec<u8> = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Error::broken(url, e))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        if data.is_empty() {
            continue;
        }
        total = total.saturating_add(data.len());
        if total > limit {
            return Err(too_large());
        }
        match first.take() {
            None if joined.is_empty() => first = Some(data),
            previous => {
                if let Some(previous) = previous {
                    // `declared <= limit` here, so it fits a usize; saturate all the same.
                    let hint = declared
                        .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX))
                        .max(total);
                    joined.reserve(hint.min(MAX_INITIAL_RESERVE).max(total));
                    joined.extend_from_slice(&previous);
                }
                joined.extend_from_slice(&data);
            }
        }
    }
    Ok(first.unwrap_or_else(|| Bytes::from(joined)))
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn declared(value: &[u8]) -> Option<u64> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_LENGTH, HeaderValue::from_bytes(value).unwrap());
        content_length(&headers)
    }

    #[test]
    fn hostile_content_lengths_are_unknown_or_exact() {
        assert_eq!(declared(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(declared(b" 12 "), Some(12));
        assert_eq!(declared(b"0"), Some(0));
        for bad in [
            &b"18446744073709551616"[..],
            b"99999999999999999999999999",
            b"-1",
            b"1e3",
            b"1.5",
            b"NaN",
            b"",
            b"12, 12",
            b"\xff\xfe",
        ] {
            assert_eq!(declared(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(content_length(&HeaderMap::new()), None);
    }
}
