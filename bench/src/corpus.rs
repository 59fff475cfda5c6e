//! Large SSE streams built from real chunk shapes (the fixtures copied into `bench/data`).

/// The fixture streams, embedded at build time (nothing outside the crate is read at run time).
const FIXTURES: [&str; 4] = [
    include_str!("../data/thirdparty_sse_chat_basic_0.3.x.txt"),
    include_str!("../data/reference_sse_tool_call_stream.txt"),
    include_str!("../data/thirdparty_sse_usage_chunk.txt"),
    include_str!("../data/llama_server_chat_stream_usage.txt"),
];

/// The `data:` payloads of every fixture event, in order, without `[DONE]`.
pub(crate) fn fixture_payloads() -> Vec<&'static str> {
    FIXTURES
        .iter()
        .flat_map(|text| text.lines())
        .filter_map(|line| line.strip_prefix("data: "))
        .map(str::trim_end)
        .filter(|data| *data != "[DONE]")
        .collect()
}

/// Payloads of plain answer chunks only (a `content` delta, no tool call, no usage): what a
/// long chat answer is made of.
pub(crate) fn content_payloads() -> Vec<&'static str> {
    fixture_payloads()
        .into_iter()
        .filter(|data| {
            data.contains("\"content\":\"")
                && !data.contains("tool_calls")
                && !data.contains("usage")
        })
        .collect()
}

/// `data: <payload>\n\n` for each payload, cycled until at least `min_bytes` long.
pub(crate) fn cycle_events(payloads: &[&str], min_bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(min_bytes + 4096);
    if payloads.is_empty() {
        return out;
    }
    while out.len() < min_bytes {
        for data in payloads {
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(data.as_bytes());
            out.extend_from_slice(b"\n\n");
        }
    }
    out
}

/// A whole stream of at least `min_bytes`: every fixture chunk shape, cycled, then
/// `data: [DONE]`. Returns the bytes and the number of JSON chunks in it.
pub(crate) fn decode_corpus(min_bytes: usize) -> (Vec<u8>, usize) {
    let payloads = fixture_payloads();
    let mut bytes = cycle_events(&payloads, min_bytes);
    let chunks = count_events(&bytes);
    bytes.extend_from_slice(b"data: [DONE]\n\n");
    (bytes, chunks)
}

/// How many `data: ` lines a stream has.
pub(crate) fn count_events(bytes: &[u8]) -> usize {
    bytes
        .split(|b| *b == b'\n')
        .filter(|line| line.starts_with(b"data: "))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lmstudio_proto::openai::ChatCompletionChunk;

    #[test]
    fn every_fixture_payload_is_a_chat_chunk() {
        let payloads = fixture_payloads();
        assert!(payloads.len() >= 20, "{}", payloads.len());
        for data in payloads {
            serde_json::from_str::<ChatCompletionChunk>(data).unwrap();
        }
    }

    #[test]
    fn content_payloads_carry_content_only() {
        let payloads = content_payloads();
        assert!(!payloads.is_empty());
        for data in payloads {
            let chunk: ChatCompletionChunk = serde_json::from_str(data).unwrap();
            assert!(chunk.content().is_some());
            assert!(chunk.usage.is_none());
        }
    }

    #[test]
    fn the_corpus_ends_with_done_and_counts_its_chunks() {
        let (bytes, chunks) = decode_corpus(10_000);
        assert!(bytes.len() >= 10_000);
        assert!(bytes.ends_with(b"data: [DONE]\n\n"));
        assert_eq!(count_events(&bytes), chunks + 1);
    }
}
