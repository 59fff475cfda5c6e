//! `POST /api/v1/chat` (LM Studio 0.4+): the native chat, whole or streamed as named events
//! (`chat.start`, `model_load.*` when it loads the model just in time, `prompt_processing.*`,
//! `reasoning.*`, `message.*`, `error`, `chat.end`), shaped like the documented examples.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::builder::ReasoningField;
use super::clock;
use super::generate::{self, Generation};
use super::reply::{self, Resp};
use super::resolve::{self, JitFailure, NativeTarget, Served};
use super::sse::{self, SseWriter};
use super::{Shared, lock};

/// Generation speed the stats report.
const TOKENS_PER_SECOND: f64 = 50.0;
/// Time to first token the stats report.
const TIME_TO_FIRST_TOKEN: f64 = 0.05;
/// Progress events sent while a model loads (the last one is `1.0`).
const LOAD_STEPS: u32 = 4;

/// What one native chat asks for, read from the request.
struct Ask {
    model: String,
    chat_request: Map<String, Value>,
    with_reasoning: bool,
    ttl: Option<u64>,
}

/// Turns the native request into the chat request the generator understands.
fn as_chat_request(request: &Map<String, Value>) -> Map<String, Value> {
    let mut messages = Vec::new();
    if let Some(system) = request.get("system_prompt").and_then(Value::as_str) {
        messages.push(json!({ "role": "system", "content": system }));
    }
    let text = match request.get("input") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| item.get("content").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    };
    messages.push(json!({ "role": "user", "content": text }));
    let mut chat = Map::new();
    chat.insert("messages".into(), Value::Array(messages));
    if let Some(limit) = request.get("max_output_tokens") {
        chat.insert("max_output_tokens".into(), limit.clone());
    }
    chat
}

/// Handles `POST /api/v1/chat`.
pub(crate) async fn native_chat(shared: &Shared, body: &str) -> Resp {
    let request = match reply::parse_object(body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if model.trim().is_empty() {
        return reply::native_missing("model");
    }
    if !request.contains_key("input") {
        return reply::native_missing("input");
    }
    let reasoning_off = request.get("reasoning").and_then(Value::as_str) == Some("off");
    let (target, field) = {
        let mut state = lock(shared);
        (resolve::decide_native(&mut state, model), state.reasoning)
    };
    let ask = Ask {
        model: model.to_owned(),
        chat_request: as_chat_request(&request),
        with_reasoning: field != ReasoningField::None && !reasoning_off,
        ttl: request.get("ttl").and_then(Value::as_u64),
    };
    let target = match target {
        NativeTarget::Missing(message) => {
            return reply::native_error(404, "model_not_found", &message);
        }
        other => other,
    };
    if request.get("stream").and_then(Value::as_bool) == Some(true) {
        let (delay, fault, seed) = {
            let mut state = lock(shared);
            (state.chunk_delay, state.stream_fault, state.next_counter())
        };
        let (response, writer) = sse::native_sse_response(delay, fault, &ask.model);
        tokio::spawn(stream(shared.clone(), writer, ask, target, seed));
        return response;
    }
    let (served, load_time) = match target {
        NativeTarget::Ready(served) => (*served, None),
        NativeTarget::Load { key, delay } => {
            super::load_pause(shared, delay).await;
            match resolve::finish_jit_load(&mut lock(shared), &key, ask.ttl) {
                Ok(served) => (served, Some(delay)),
                Err(failure) => return load_error(&failure),
            }
        }
        NativeTarget::Missing(message) => {
            return reply::native_error(404, "model_not_found", &message);
        }
    };
    let seed = lock(shared).next_counter();
    let generation = generate::generate_chat(&ask.chat_request, ask.with_reasoning, seed);
    if let Some(message) = overflow_message(&generation, &served) {
        return reply::native_error(400, "invalid_request", &message);
    }
    reply::json(200, &result(&served, &generation, load_time, seed))
}

fn load_error(failure: &JitFailure) -> Resp {
    match failure {
        JitFailure::Vanished => reply::native_error(
            500,
            "internal_error",
            "The model was unloaded while loading",
        ),
        JitFailure::Refused(message) => reply::native_error(404, "model_not_found", message),
    }
}

/// The context-overflow message, when the prompt does not fit the loaded context.
fn overflow_message(generation: &Generation, served: &Served) -> Option<String> {
    (generation.prompt_tokens > u64::from(served.context_length)).then(|| {
        format!(
            "The number of tokens to keep from the initial prompt is greater than the context length (n_keep: {}>= n_ctx: {}). Try to load the model with a larger context length, or provide a shorter input.",
            generation.prompt_tokens, served.context_length
        )
    })
}

/// The whole answer: the non-streamed body, and the `result` of `chat.end`.
fn result(
    served: &Served,
    generation: &Generation,
    load_time: Option<Duration>,
    seed: u64,
) -> Value {
    let mut output = Vec::new();
    if !generation.reasoning.is_empty() {
        output.push(json!({ "type": "reasoning", "content": generation.reasoning }));
    }
    output.push(json!({ "type": "message", "content": generation.content }));
    let mut stats = json!({
        "input_tokens": generation.prompt_tokens,
        "total_output_tokens": generation.completion_tokens,
        "reasoning_output_tokens": generation.reasoning_tokens,
        "tokens_per_second": TOKENS_PER_SECOND,
        "time_to_first_token_seconds": TIME_TO_FIRST_TOKEN,
    });
    if let Some(load_time) = load_time {
        stats["model_load_time_seconds"] = json!(load_time.as_secs_f64());
    }
    json!({
        "model_instance_id": served.instance_id,
        "output": output,
        "stats": stats,
        "response_id": format!("resp_{}{}", clock::hex_id(seed), clock::hex_id(seed + 1)),
    })
}

/// Sends one named event whose data repeats its name in `type`.
async fn emit(writer: &mut SseWriter, name: &str, mut data: Value) -> bool {
    data["type"] = json!(name);
    writer.event(name, &data).await
}

async fn stream(shared: Shared, mut writer: SseWriter, ask: Ask, target: NativeTarget, seed: u64) {
    let start_id = match &target {
        NativeTarget::Ready(served) => served.instance_id.clone(),
        NativeTarget::Load { key, .. } => key.clone(),
        NativeTarget::Missing(_) => ask.model.clone(),
    };
    if !emit(
        &mut writer,
        "chat.start",
        json!({ "model_instance_id": start_id }),
    )
    .await
    {
        return;
    }
    let (served, load_time) = match target {
        NativeTarget::Ready(served) => (*served, None),
        NativeTarget::Load { key, delay } => {
            match load_with_progress(&shared, &mut writer, &key, delay, ask.ttl).await {
                Some(Ok(served)) => (served, Some(delay)),
                Some(Err(message)) => {
                    fail(&mut writer, &start_id, "model_not_found", &message).await;
                    return;
                }
                None => return,
            }
        }
        NativeTarget::Missing(message) => {
            fail(&mut writer, &start_id, "model_not_found", &message).await;
            return;
        }
    };
    let generation = generate::generate_chat(&ask.chat_request, ask.with_reasoning, seed);
    for (name, data) in [
        ("prompt_processing.start", json!({})),
        ("prompt_processing.progress", json!({ "progress": 0.5 })),
    ] {
        if !emit(&mut writer, name, data).await {
            return;
        }
    }
    if let Some(message) = overflow_message(&generation, &served) {
        fail(
            &mut writer,
            &served.instance_id,
            "invalid_request",
            &message,
        )
        .await;
        return;
    }
    for (name, data) in [
        ("prompt_processing.progress", json!({ "progress": 1.0 })),
        ("prompt_processing.end", json!({})),
    ] {
        if !emit(&mut writer, name, data).await {
            return;
        }
    }
    if !generation.reasoning.is_empty()
        && !pieces(&mut writer, "reasoning", &generation.reasoning).await
    {
        return;
    }
    if !pieces(&mut writer, "message", &generation.content).await {
        return;
    }
    let full = result(&served, &generation, load_time, seed);
    // Like LM Studio's, this stream ends after `chat.end`, without `data: [DONE]`.
    let _ = emit(&mut writer, "chat.end", json!({ "result": full })).await;
}

/// `<kind>.start`, one `<kind>.delta` per token, `<kind>.end`.
async fn pieces(writer: &mut SseWriter, kind: &str, text: &str) -> bool {
    if !emit(writer, &format!("{kind}.start"), json!({})).await {
        return false;
    }
    for piece in generate::pieces(text) {
        if !emit(
            writer,
            &format!("{kind}.delta"),
            json!({ "content": piece }),
        )
        .await
        {
            return false;
        }
    }
    emit(writer, &format!("{kind}.end"), json!({})).await
}

/// Loads `key` just in time, reporting `model_load.start`, progress and `model_load.end`.
/// `None` when the client went away; `Some(Err)` when the load failed.
async fn load_with_progress(
    shared: &Shared,
    writer: &mut SseWriter,
    key: &str,
    delay: Duration,
    ttl: Option<u64>,
) -> Option<Result<Served, String>> {
    if !emit(
        writer,
        "model_load.start",
        json!({ "model_instance_id": key }),
    )
    .await
    {
        return None;
    }
    super::load_pause(shared, Duration::ZERO).await;
    for step in 1..LOAD_STEPS {
        if !delay.is_zero() {
            tokio::time::sleep(delay / LOAD_STEPS).await;
        }
        let progress = f64::from(step) / f64::from(LOAD_STEPS);
        let data = json!({ "model_instance_id": key, "progress": progress });
        if !emit(writer, "model_load.progress", data).await {
            return None;
        }
    }
    if !delay.is_zero() {
        tokio::time::sleep(delay / LOAD_STEPS).await;
    }
    let served = match resolve::finish_jit_load(&mut lock(shared), key, ttl) {
        Ok(served) => served,
        Err(JitFailure::Refused(message)) => return Some(Err(message)),
        Err(JitFailure::Vanished) => {
            return Some(Err("The model was unloaded while loading".to_owned()));
        }
    };
    let data = json!({ "model_instance_id": served.instance_id, "progress": 1.0 });
    if !emit(writer, "model_load.progress", data).await {
        return None;
    }
    let data = json!({
        "model_instance_id": served.instance_id,
        "load_time_seconds": delay.as_secs_f64(),
    });
    if !emit(writer, "model_load.end", data).await {
        return None;
    }
    Some(Ok(served))
}

/// An `error` event, then the `chat.end` LM Studio still sends after it.
async fn fail(writer: &mut SseWriter, instance: &str, kind: &str, message: &str) {
    let error = json!({ "error": { "type": kind, "message": message } });
    if emit(writer, "error", error).await {
        let end = json!({ "result": { "model_instance_id": instance, "output": [] } });
        let _ = emit(writer, "chat.end", end).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_items_and_system_prompt_become_messages() {
        let request = json!({
            "model": "m",
            "system_prompt": "be brief",
            "input": [{"type": "message", "content": "hello"}, {"type": "image", "data_url": "data:x"},
                      {"type": "text", "content": "there"}],
            "max_output_tokens": 3,
        });
        let chat = as_chat_request(request.as_object().unwrap());
        assert_eq!(
            Value::Object(chat),
            json!({
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": "hello there"},
                ],
                "max_output_tokens": 3,
            })
        );
    }

    #[test]
    fn only_a_jit_load_reports_its_load_time() {
        let served = Served {
            instance_id: "m".into(),
            context_length: 4096,
            model: super::super::catalog::CatalogModel::llm("m"),
        };
        let generation = generate::generate_text("hi", "Hello there", false, None, None);
        let body = result(&served, &generation, None, 1);
        assert!(body["stats"].get("model_load_time_seconds").is_none());
        assert_eq!(
            body["output"],
            json!([{"type": "message", "content": "Hello there"}])
        );
        let body = result(&served, &generation, Some(Duration::from_millis(250)), 1);
        assert_eq!(body["stats"]["model_load_time_seconds"], 0.25);
    }
}
