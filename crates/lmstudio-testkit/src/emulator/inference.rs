//! `POST /v1/completions` and `/v1/embeddings`.

use std::time::SystemTime;

use serde_json::{Value, json};

use super::chat;
use super::clock;
use super::generate;
use super::reply::{self, Resp};
use super::resolve;
use super::sse;
use super::{Shared, lock};

/// Dimensions of the emulator's embedding vectors.
pub(crate) const EMBEDDING_DIMS: usize = 64;

/// Handles a legacy text completion (no chat template).
pub(crate) async fn completions(shared: &Shared, body: &str) -> Resp {
    let request = match reply::parse_object(body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    let prompt = match request.get("prompt") {
        Some(Value::String(prompt)) => prompt.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("\n"),
        _ => return reply::string_error(400, "'prompt' field is required"),
    };
    let served = match chat::serve_llm(shared, &request).await {
        Ok(served) => served,
        Err(response) => return response,
    };
    let (seed, delay, fault) = {
        let mut state = lock(shared);
        (state.next_counter(), state.chunk_delay, state.stream_fault)
    };
    let generation = generate::generate_text(
        &prompt,
        &generate::answer_for(&prompt),
        false,
        generate::token_budget(&request),
        request.get("stop"),
    );
    if let Some(response) = chat::context_overflow(generation.prompt_tokens, served.context_length)
    {
        return response;
    }
    let id = format!("cmpl-{}", clock::base36_id(seed, 21));
    let created = clock::unix_secs(SystemTime::now());
    let model = served.instance_id.clone();
    let choice = |text: &str, finish: Value| {
        json!({
            "id": id, "object": "text_completion", "created": created, "model": model,
            "choices": [{ "index": 0, "text": text, "logprobs": null, "finish_reason": finish }],
        })
    };
    let usage = chat::usage(&generation, super::builder::ReasoningField::None);
    if request.get("stream").and_then(Value::as_bool) == Some(true) {
        let mut chunks: Vec<Value> = generate::pieces(&generation.content)
            .iter()
            .map(|piece| choice(piece, Value::Null))
            .collect();
        chunks.push(choice("", json!(generation.finish_reason)));
        let include_usage = request
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            == Some(true);
        if include_usage {
            let mut last = choice("", Value::Null);
            last["choices"] = json!([]);
            last["usage"] = usage;
            chunks.push(last);
        }
        return sse::stream_chunks(chunks, delay, fault);
    }
    let mut body = choice(&generation.content, json!(generation.finish_reason));
    body["usage"] = usage;
    reply::json(200, &body)
}

/// Handles an embeddings request: one deterministic unit vector per input string.
pub(crate) async fn embeddings(shared: &Shared, body: &str) -> Resp {
    let request = match reply::parse_object(body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    let inputs: Vec<String> = match request.get("input") {
        Some(Value::String(text)) => vec![text.clone()],
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(_) => {
            return reply::string_error(400, "'input' must be a string or an array of strings");
        }
        None => return reply::string_error(400, "'input' field is required"),
    };
    let name = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let served = match resolve::resolve(shared, name, None).await {
        Ok(served) => served,
        Err(response) => return response,
    };
    let tokens: u64 = inputs.iter().map(|text| generate::count_tokens(text)).sum();
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| {
            json!({ "object": "embedding", "embedding": embedding_of(text), "index": index })
        })
        .collect();
    reply::json(
        200,
        &json!({
            "object": "list",
            "data": data,
            "model": served.instance_id,
            "usage": { "prompt_tokens": tokens, "total_tokens": tokens },
        }),
    )
}

/// A deterministic unit-norm vector derived from a hash of the text.
pub(crate) fn embedding_of(text: &str) -> Vec<f64> {
    let seed = clock::hash(text.as_bytes());
    let raw: Vec<f64> = (0..EMBEDDING_DIMS as u64)
        .map(|i| {
            let bits = clock::mix(seed ^ i.wrapping_mul(0x9E37_79B9)) >> 11;
            bits as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect();
    let norm = raw.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm == 0.0 {
        return raw;
    }
    raw.iter().map(|x| x / norm).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_are_deterministic_unit_vectors() {
        let a = embedding_of("hello");
        assert_eq!(a.len(), EMBEDDING_DIMS);
        assert_eq!(a, embedding_of("hello"));
        assert_ne!(a, embedding_of("hello!"));
        let norm: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-9);
    }
}
