//! Real-server checks of the Anthropic Messages API through the facade: the whole answer's
//! shape, stop reasons (`max_tokens`, a stop sequence) and usage; the stream's event order
//! and its assembly (equal to the whole answer at temperature 0); a tool offered and a
//! `tool_use`/`tool_result` history; `count_message_tokens` against the answer's own prompt
//! count; an overflow and llama.cpp's own error message; with an API key, the key as Bearer
//! and as `x-api-key`; and time to the first text delta and tokens/s through
//! `messages_stream` beside `chat_stream`, on one prompt.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use vtcode_lmstudio::proto::anthropic::{
    ContentBlock, InputMessage, MessagesRequest, MessagesResponse, StopReason, StreamEvent, Tool,
    ToolChoice,
};
use vtcode_lmstudio::transport::http::{HeaderName, HeaderValue};
use vtcode_lmstudio::{LMStudioClient, LmStudioError};

use super::metrics::{Metrics, StreamRun, Tally, timed_stream};
use super::responses::{PAIRS, PROMPT, TOKENS, chat_request};
use super::server::ALIAS;
use super::{QUICK, SLOW, client, config};
use crate::checks::{CheckResult, Suite, ensure, ensure_event_order, millis};

/// Runs the checks against the plain server at `url`.
pub(crate) async fn run(suite: &mut Suite, tally: &mut Tally, metrics: &mut Metrics, url: &str) {
    let client = match client(&config(url, Some(ALIAS), None)) {
        Ok(client) => client,
        Err(err) => {
            tally
                .check(suite, "messages: build the client", QUICK, async {
                    Err(err)
                })
                .await;
            return;
        }
    };
    tally
        .check(
            suite,
            "messages, not streamed: shape, max_tokens and stop-sequence stops, usage",
            QUICK,
            whole(&client),
        )
        .await;
    tally
        .check(
            suite,
            "messages streamed: event order, usage, equals the whole answer",
            SLOW,
            streamed(&client),
        )
        .await;
    tally
        .check(
            suite,
            "messages with a tool offered, and a tool_use/tool_result history",
            QUICK,
            with_tools(&client),
        )
        .await;
    tally
        .check(
            suite,
            "count_message_tokens equals the answer's prompt tokens",
            QUICK,
            count_tokens(&client),
        )
        .await;
    tally
        .check(
            suite,
            "messages: an overflow is ContextOverflow, other errors keep llama.cpp's message",
            QUICK,
            errors(&client),
        )
        .await;
    tally
        .check(
            suite,
            "messages_stream vs chat_stream: time to first text and tokens/s",
            SLOW,
            compare(&client, metrics),
        )
        .await;
}

/// Runs the checks against the server at `url` that requires `key`.
pub(crate) async fn run_keyed(suite: &mut Suite, tally: &mut Tally, url: &str, key: &str) {
    tally
        .check(
            suite,
            "api key: messages with the key as Bearer and as x-api-key, refused without",
            QUICK,
            keyed(url, key),
        )
        .await;
}

/// A deterministic request: temperature 0, a fixed seed (passed through to llama.cpp).
fn request(text: &str, max_tokens: u64, seed: u64) -> MessagesRequest {
    let mut request = MessagesRequest::new(ALIAS, vec![InputMessage::user(text)])
        .with_max_tokens(max_tokens)
        .with_temperature(0.0);
    request.extra.insert("seed".to_owned(), json!(seed));
    request
}

/// A message from llama.cpp: its id, type, role, model, one text block, and usage within
/// `max` output tokens.
fn check_message(message: &MessagesResponse, max: u64) -> CheckResult {
    ensure(message.id.starts_with("chatcmpl-"), || {
        format!("id {:?}", message.id)
    })?;
    ensure(message.kind.as_deref() == Some("message"), || {
        format!("type {:?}", message.kind)
    })?;
    ensure(message.model == ALIAS, || {
        format!("model {:?}", message.model)
    })?;
    let kinds: Vec<&str> = message.content.iter().map(ContentBlock::kind).collect();
    ensure(kinds == ["text"], || format!("content blocks {kinds:?}"))?;
    let usage = &message.usage;
    ensure(usage.total_input_tokens() > 0, || {
        format!("no prompt tokens: {usage:?}")
    })?;
    ensure(usage.cache_read_input_tokens.is_some(), || {
        format!("no cache_read_input_tokens: {usage:?}")
    })?;
    ensure((1..=max).contains(&usage.output_tokens), || {
        format!("output_tokens {} not in 1..={max}", usage.output_tokens)
    })
}

async fn whole(client: &LMStudioClient) -> CheckResult {
    let cut = client
        .messages(request("Write a long story about the sea.", 4, 42))
        .await
        .map_err(|e| format!("messages: {e}"))?;
    check_message(&cut, 4)?;
    ensure(cut.stop_reason == Some(StopReason::MaxTokens), || {
        format!("stop_reason {:?} at max_tokens 4", cut.stop_reason)
    })?;
    ensure(cut.usage.output_tokens == 4, || {
        format!("output_tokens {} at max_tokens 4", cut.usage.output_tokens)
    })?;
    ensure(cut.stop_sequence.is_none(), || {
        format!("stop_sequence {:?}", cut.stop_sequence)
    })?;
    // The captured request: the model repeats "Say hello." and stops at the ".".
    let stops = vec!["<|im_end|>".to_owned(), ".".to_owned()];
    let repeat = request("Say hello.", 16, 42)
        .with_system("You repeat what the user says.")
        .with_stop_sequences(stops.clone());
    let stopped = client
        .messages(repeat)
        .await
        .map_err(|e| format!("messages with stop_sequences: {e}"))?;
    check_message(&stopped, 16)?;
    let sequence = stopped.stop_sequence.as_deref().unwrap_or_default();
    ensure(stops.iter().any(|s| s == sequence), || {
        format!(
            "stop_sequence {:?} (text {:?})",
            stopped.stop_sequence,
            stopped.text()
        )
    })?;
    // llama.cpp says `end_turn` where Anthropic says `stop_sequence`.
    ensure(
        matches!(
            stopped.stop_reason,
            Some(StopReason::EndTurn | StopReason::StopSequence)
        ),
        || format!("stop_reason {:?}", stopped.stop_reason),
    )?;
    ensure(!stopped.text().contains(sequence), || {
        format!("the stop sequence is in the text {:?}", stopped.text())
    })
}

/// The event order llama.cpp sends for a text answer (no `ping`).
fn check_order(kinds: &[&str]) -> CheckResult {
    const HEAD: [&str; 2] = ["message_start", "content_block_start"];
    const TAIL: [&str; 3] = ["content_block_stop", "message_delta", "message_stop"];
    ensure_event_order(kinds, &HEAD, "content_block_delta", &TAIL)
}

async fn streamed(client: &LMStudioClient) -> CheckResult {
    const MAX: u64 = 24;
    let request = request("Write a short poem about the sea.", MAX, 7);
    let mut stream = client
        .messages_stream(request.clone())
        .await
        .map_err(|e| format!("messages_stream: {e}"))?;
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        events.push(item.map_err(|e| format!("event {}: {e}", events.len()))?);
    }
    let kinds: Vec<&str> = events.iter().map(StreamEvent::kind).collect();
    check_order(&kinds)?;
    let summary = stream.summary();
    ensure(summary.complete && summary.events == events.len(), || {
        format!(
            "summary complete {} events {}",
            summary.complete, summary.events
        )
    })?;
    let deltas: String = events.iter().filter_map(StreamEvent::text_delta).collect();
    ensure(deltas == summary.text, || {
        format!("deltas {deltas:?} vs summary {:?}", summary.text)
    })?;
    let assembled = summary.message.as_ref().ok_or("no assembled message")?;
    check_message(assembled, MAX)?;
    let StreamEvent::MessageStart(start) = &events[0] else {
        return Err("no message_start".to_owned());
    };
    ensure(start.message.usage.output_tokens == 0, || {
        format!("message_start usage {:?}", start.message.usage)
    })?;
    let StreamEvent::MessageDelta(delta) = &events[events.len() - 2] else {
        return Err("no message_delta".to_owned());
    };
    let last_count = delta.usage.as_ref().and_then(|u| u.output_tokens);
    ensure(last_count == Some(assembled.usage.output_tokens), || {
        format!(
            "message_delta output_tokens {last_count:?}, assembled {:?}",
            assembled.usage
        )
    })?;
    let whole = client
        .messages(request)
        .await
        .map_err(|e| format!("messages: {e}"))?;
    ensure(whole.text() == summary.text, || {
        format!(
            "streamed {:?} differs from the whole answer {:?} (same seed, temperature 0)",
            summary.text,
            whole.text()
        )
    })?;
    ensure(
        whole.stop_reason == assembled.stop_reason
            && whole.usage.output_tokens == assembled.usage.output_tokens
            && whole.usage.total_input_tokens() == assembled.usage.total_input_tokens(),
        || {
            format!(
                "whole {:?} {:?}, streamed {:?} {:?}",
                whole.stop_reason, whole.usage, assembled.stop_reason, assembled.usage
            )
        },
    )
}

async fn with_tools(client: &LMStudioClient) -> CheckResult {
    let weather = Tool::custom(
        "get_weather",
        "Get the weather for a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    );
    let offered = request("What is the weather in Paris?", 16, 3)
        .with_system("You can look up the weather.")
        .with_tools(vec![weather.clone()])
        .with_tool_choice(ToolChoice::auto());
    let summary = client
        .messages_stream(offered)
        .await
        .map_err(|e| format!("messages_stream: {e}"))?
        .into_summary()
        .await
        .map_err(|e| format!("stream: {e}"))?;
    ensure(summary.complete, || "not complete".to_owned())?;
    // The base model answers in text; a call, if one comes, must be whole.
    ensure(summary.tool_input_errors.is_empty(), || {
        format!("broken tool input {:?}", summary.tool_input_errors)
    })?;
    for call in &summary.tool_uses {
        ensure(call.name == "get_weather" && call.input.is_object(), || {
            format!("call {call:?}")
        })?;
    }
    ensure(
        !summary.text.is_empty() || !summary.tool_uses.is_empty(),
        || "neither text nor a call".to_owned(),
    )?;
    let history = MessagesRequest::new(
        ALIAS,
        vec![
            InputMessage::user("What is the weather in Paris?"),
            InputMessage::assistant(vec![ContentBlock::tool_use(
                "toolu_1",
                "get_weather",
                json!({"city": "Paris"}),
            )]),
            InputMessage::user(vec![ContentBlock::tool_result("toolu_1", "18 °C, sunny")]),
        ],
    )
    .with_tools(vec![weather])
    .with_max_tokens(8)
    .with_temperature(0.0);
    let answer = client
        .messages(history)
        .await
        .map_err(|e| format!("messages with a tool result: {e}"))?;
    check_message(&answer, 8)
}

async fn count_tokens(client: &LMStudioClient) -> CheckResult {
    let request = request("Say hello.", 4, 1).with_system("Be brief.");
    let count = client
        .count_message_tokens(request.clone())
        .await
        .map_err(|e| format!("count_message_tokens: {e}"))?;
    let answer = client
        .messages(request)
        .await
        .map_err(|e| format!("messages: {e}"))?;
    ensure(count.input_tokens > 0, || format!("count {count:?}"))?;
    ensure(
        count.input_tokens == answer.usage.total_input_tokens(),
        || {
            format!(
                "count_tokens says {}, the answer's usage {:?}",
                count.input_tokens, answer.usage
            )
        },
    )
}

async fn errors(client: &LMStudioClient) -> CheckResult {
    // The context is 4096 over two slots: 2048 each.
    let long = request(&"word ".repeat(3000), 4, 1);
    for streamed in [false, true] {
        let err = if streamed {
            client.messages_stream(long.clone()).await.err()
        } else {
            client.messages(long.clone()).await.err()
        };
        match err {
            Some(LmStudioError::ContextOverflow {
                prompt_tokens: Some(prompt),
                context_length: Some(2048),
                ref message,
                ..
            }) if prompt > 2048 => {
                ensure(
                    message.contains("exceeds the available context size"),
                    || format!("message {message:?}"),
                )?;
            }
            other => return Err(format!("streamed {streamed}: {other:?}")),
        }
    }
    // An image for a model without a vision projector: llama.cpp's 500 keeps its message.
    const PIXEL: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    let image = MessagesRequest::new(
        ALIAS,
        vec![InputMessage::user(vec![
            ContentBlock::image_base64("image/png", PIXEL),
            ContentBlock::text("What is this?"),
        ])],
    )
    .with_max_tokens(4);
    match client.messages(image).await {
        Err(LmStudioError::Server {
            status, message, ..
        }) if status == 500 && message.contains("image input is not supported") => Ok(()),
        other => Err(format!("an image: {other:?}")),
    }
}

async fn keyed(url: &str, key: &str) -> CheckResult {
    let ask = || request("Say hi.", 4, 1);
    let bearer = client(&config(url, Some(ALIAS), Some(key)))?;
    let answer = bearer
        .messages(ask())
        .await
        .map_err(|e| format!("messages with the key as Bearer: {e}"))?;
    check_message(&answer, 4)?;
    // Anthropic's SDKs send the key as `x-api-key`; llama.cpp takes that too.
    let anonymous = client(&config(url, Some(ALIAS), None))?;
    let value = HeaderValue::from_str(key).map_err(|e| format!("the key as a header: {e}"))?;
    let keyed: MessagesResponse = anonymous
        .http()
        .post("/v1/messages")
        .header(HeaderName::from_static("x-api-key"), value)
        .json(&ask())
        .send_json()
        .await
        .map_err(|e| format!("messages with x-api-key: {e}"))?;
    check_message(&keyed, 4)?;
    match anonymous.messages(ask()).await {
        Err(err) if err.is_auth() => Ok(()),
        other => Err(format!("without a key: {other:?}")),
    }
}

/// One Messages stream, timed like [`timed_stream`] times a chat stream: time to the first
/// non-empty text delta, and output tokens over first-to-last event.
async fn timed_messages(client: &LMStudioClient, seed: u64) -> Result<StreamRun, String> {
    let started = Instant::now();
    let mut stream = client
        .messages_stream(request(PROMPT, TOKENS, seed))
        .await
        .map_err(|e| format!("messages_stream: {e}"))?;
    let mut first = None;
    let mut last = Duration::ZERO;
    let mut ttft = None;
    while let Some(item) = stream.next().await {
        let event = item.map_err(|e| format!("messages event: {e}"))?;
        let at = started.elapsed();
        first.get_or_insert(at);
        last = at;
        if event.text_delta().is_some_and(|t| !t.is_empty()) {
            ttft.get_or_insert(at);
        }
    }
    let total = started.elapsed();
    let summary = stream.summary();
    Ok(StreamRun {
        completion_tokens: summary.usage.as_ref().map_or(0, |u| u.output_tokens),
        ttft: ttft.unwrap_or(total),
        first_to_last: last.saturating_sub(first.unwrap_or_default()),
        total,
        // llama.cpp's Messages events carry no `timings`.
        server_tokens_per_second: None,
    })
}

async fn compare(client: &LMStudioClient, metrics: &mut Metrics) -> CheckResult {
    // One warm-up of each: the first request pays for the prompt, later ones hit the cache.
    timed_messages(client, 1).await?;
    timed_stream(client, chat_request(1)).await?;
    for pair in 0..PAIRS {
        let messages = timed_messages(client, 1).await?;
        let chat = timed_stream(client, chat_request(1)).await?.run;
        for (label, run) in [("messages_stream", &messages), ("chat_stream", &chat)] {
            ensure(
                run.completion_tokens > 0 && run.first_to_last > Duration::ZERO,
                || format!("{label} run {pair}: {run:?}"),
            )?;
        }
        println!(
            "        pair {}: messages_stream {:.1} tokens/s, first text after {}; chat_stream {:.1} tokens/s, first text after {}",
            pair + 1,
            messages.tokens_per_second(),
            millis(messages.ttft),
            chat.tokens_per_second(),
            millis(chat.ttft)
        );
        metrics.messages_vs_chat.push((messages, chat));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_order_check_accepts_llama_cpps_order_only() {
        let mut kinds = vec![
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ];
        assert!(check_order(&kinds).is_ok());
        kinds.swap(0, 1);
        assert!(check_order(&kinds).is_err());
        assert!(check_order(&kinds[..5]).is_err());
        assert!(check_order(&["message_start", "content_block_start", "message_stop"]).is_err());
    }
}
