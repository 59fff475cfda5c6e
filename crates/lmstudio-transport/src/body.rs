//! Reading a response body into memory without ever exceeding the body limit.

use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_LENGTH;
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::error::{Error, chain_message};

/// Never reserve more than this up front, whatever `Content-Length` claims.
const MAX_INITIAL_RESERVE: usize = 1024 * 1024;

/// The declared `Content-Length`, if present and a number.
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
        let frame = frame.map_err(|e| Error::Transport {
            url: url.to_owned(),
            message: chain_message(&e),
        })?;
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
                    let hint = declared.map_or(0, |n| n as usize).max(total);
                    joined.reserve(hint.min(MAX_INITIAL_RESERVE).max(total));
                    joined.extend_from_slice(&previous);
                }
                joined.extend_from_slice(&data);
            }
        }
    }
    Ok(first.unwrap_or_else(|| Bytes::from(joined)))
}
