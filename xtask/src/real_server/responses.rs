//! Real-server checks of the Responses API through the facade: the whole answer's shape and
//! usage, the stream's event order and its assembly (equal to the whole answer at
//! temperature 0), a function tool offered, and time to the first text delta and tokens/s
//! through `responses_stream` beside the same figures through `chat_stream`, on one prompt.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use vtcode_lmstudio::LMStudioClient;
use vtcode_lmstudio::proto::openai::{ChatCompletionRequest, ChatMessage};
use vtcode_lmstudio::proto::responses::{
    Item, Response, ResponseStatus, ResponseStreamEvent, ResponsesRequest, ResponsesTool,
};

use super::metrics::{Metrics, StreamRun, Tally, timed_stream};
use super::server::ALIAS;
use super::{QUICK, SLOW, client, config};
use crate::checks::{CheckResult, Suite, ensure, ensure_event_order, millis};

/// The prompt and length every API is timed on beside `chat_stream` (the chat throughput
/// runs' own; the Messages checks time theirs on it too).
pub(super) const PROMPT: &str = "Tell a long story about a ship.";
pub(super) const TOKENS: u64 = 48;
/// Timed pairs (one stream of the API, one chat stream), after one warm-up of each.
pub(super) const PAIRS: usize = 3;

/// Runs the checks against the plain server at `url`.
pub(crate) async fn run(suite: &mut Suite, tally: &mut Tally, metrics: &mut Metrics, url: &str) {
    let client = match client(&config(url, Some(ALIAS), None)) {
        Ok(client) => client,
        Err(err) => {
            tally
                .check(suite, "responses: build the client", QUICK, async {
                    Err(err)
                })
                .await;
            return;
        }
    };
    tally
        .check(
            suite,
            "responses, not streamed: shape and usage",
            QUICK,
            whole(&client),
        )
        .await;
    tally
        .check(
            suite,
            "responses streamed: event order, usage, equals the whole answer",
            SLOW,
            streamed(&client),
        )
        .await;
    tally
        .check(
            suite,
            "responses with a function tool offered and input items",
            QUICK,
            with_a_tool(&client),
        )
        .await;
    tally
        .check(
            suite,
            "responses_stream vs chat_stream: time to first text and tokens/s",
            SLOW,
            compare(&client, metrics),
        )
        .await;
}

/// A deterministic request: temperature 0, a fixed seed (passed through to llama.cpp).
fn request(input: &str, max_output_tokens: u64, seed: u64) -> ResponsesRequest {
    let mut request = ResponsesRequest::new(ALIAS, input)
        .with_max_output_tokens(max_output_tokens)
        .with_temperature(0.0);
    request.extra.insert("seed".to_owned(), json!(seed));
    request
}

/// Status completed (or incomplete at the limit), one message, usage that adds up.
fn check_response(response: &Response, max: u64) -> CheckResult {
    ensure(response.id.starts_with("resp_"), || {
        format!("id {:?}", response.id)
    })?;
    ensure(response.object.as_deref() == Some("response"), || {
        format!("object {:?}", response.object)
    })?;
    ensure(response.model == ALIAS, || {
        format!("model {:?}", response.model)
    })?;
    ensure(
        matches!(
            response.status,
            Some(ResponseStatus::Completed | ResponseStatus::Incomplete)
        ),
        || format!("status {:?}", response.status),
    )?;
    let kinds: Vec<&str> = response.output.iter().map(Item::kind).collect();
    ensure(kinds == ["message"], || format!("output items {kinds:?}"))?;
    ensure(!response.output_text().is_empty(), || {
        "empty text".to_owned()
    })?;
    let usage = response.usage.as_ref().ok_or("no usage")?;
    ensure(usage.input_tokens > 0, || {
        format!("input_tokens 0: {usage:?}")
    })?;
    ensure((1..=max).contains(&usage.output_tokens), || {
        format!("output_tokens {} not in 1..={max}", usage.output_tokens)
    })?;
    ensure(
        usage.total_tokens == usage.input_tokens + usage.output_tokens,
        || format!("total_tokens does not add up: {usage:?}"),
    )?;
    ensure(usage.cached_tokens().is_some(), || {
        format!("no input_tokens_details.cached_tokens: {usage:?}")
    })
}

async fn whole(client: &LMStudioClient) -> CheckResult {
    let response = client
        .responses(request("Write one sentence about the sea.", 16, 42))
        .await
        .map_err(|e| format!("responses: {e}"))?;
    check_response(&response, 16)
}

/// The event order llama.cpp sends for a text answer.
fn check_order(kinds: &[&str]) -> CheckResult {
    const HEAD: [&str; 4] = [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ];
    const TAIL: [&str; 4] = [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ];
    ensure_event_order(kinds, &HEAD, "response.output_text.delta", &TAIL)
}

async fn streamed(client: &LMStudioClient) -> CheckResult {
    const MAX: u64 = 24;
    let request = request("Write a short poem about the sea.", MAX, 7);
    let mut stream = client
        .responses_stream(request.clone())
        .await
        .map_err(|e| format!("responses_stream: {e}"))?;
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        events.push(item.map_err(|e| format!("event {}: {e}", events.len()))?);
    }
    let kinds: Vec<&str> = events.iter().map(ResponseStreamEvent::kind).collect();
    check_order(&kinds)?;
    let summary = stream.summary();
    ensure(summary.complete && summary.events == events.len(), || {
        format!(
            "summary complete {} events {}",
            summary.complete, summary.events
        )
    })?;
    let deltas: String = events
        .iter()
        .filter_map(|e| match e {
            ResponseStreamEvent::OutputTextDelta(d) => Some(d.delta.as_str()),
            _ => None,
        })
        .collect();
    ensure(deltas == summary.text, || {
        format!("deltas {deltas:?} vs summary {:?}", summary.text)
    })?;
    let completed = events
        .last()
        .and_then(ResponseStreamEvent::response)
        .ok_or("no final response")?;
    check_response(completed, MAX)?;
    ensure(completed.output_text() == summary.text, || {
        format!(
            "response.completed says {:?}, the deltas {:?}",
            completed.output_text(),
            summary.text
        )
    })?;
    ensure(summary.usage == completed.usage, || {
        "summary usage differs".to_owned()
    })?;
    let whole = client
        .responses(request)
        .await
        .map_err(|e| format!("responses: {e}"))?;
    ensure(whole.output_text() == summary.text, || {
        format!(
            "streamed {:?} differs from the whole answer {:?} (same seed, temperature 0)",
            summary.text,
            whole.output_text()
        )
    })?;
    let tokens = |r: &Response| r.usage.as_ref().map(|u| u.output_tokens);
    ensure(tokens(&whole) == tokens(completed), || {
        format!(
            "usage differs: whole {:?}, streamed {:?}",
            whole.usage, completed.usage
        )
    })
}

async fn with_a_tool(client: &LMStudioClient) -> CheckResult {
    let tool = ResponsesTool::function(
        "get_weather",
        "Get the weather for a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    );
    let request = ResponsesRequest::new(
        ALIAS,
        vec![
            Item::system("You can look up the weather."),
            Item::user("What is the weather in Paris?"),
        ],
    )
    .with_tools(vec![tool])
    .with_max_output_tokens(16);
    let summary = client
        .responses_stream(request)
        .await
        .map_err(|e| format!("responses_stream: {e}"))?
        .into_summary()
        .await
        .map_err(|e| format!("stream: {e}"))?;
    ensure(summary.complete, || "not complete".to_owned())?;
    // The base model answers in text; a call, if one comes, must be whole.
    for call in &summary.function_calls {
        ensure(call.name == "get_weather", || {
            format!("call of {:?}", call.name)
        })?;
        call.arguments_json()
            .map_err(|e| format!("arguments {:?}: {e}", call.arguments))?;
    }
    ensure(
        !summary.text.is_empty() || !summary.function_calls.is_empty(),
        || "neither text nor a call".to_owned(),
    )
}

/// One Responses stream, timed like [`timed_stream`] times a chat stream: time to the first
/// non-empty text delta, and output tokens over first-to-last event.
async fn timed_responses(client: &LMStudioClient, seed: u64) -> Result<StreamRun, String> {
    let started = Instant::now();
    let mut stream = client
        .responses_stream(request(PROMPT, TOKENS, seed))
        .await
        .map_err(|e| format!("responses_stream: {e}"))?;
    let mut first = None;
    let mut last = Duration::ZERO;
    let mut ttft = None;
    let mut server = None;
    while let Some(item) = stream.next().await {
        let event = item.map_err(|e| format!("responses event: {e}"))?;
        let at = started.elapsed();
        first.get_or_insert(at);
        last = at;
        match &event {
            ResponseStreamEvent::OutputTextDelta(d) if !d.delta.is_empty() => {
                ttft.get_or_insert(at);
            }
            ResponseStreamEvent::Completed(done) => {
                server = done
                    .extra
                    .get("timings")
                    .and_then(|t| t.get("predicted_per_second"))
                    .and_then(Value::as_f64);
            }
            _ => {}
        }
    }
    let total = started.elapsed();
    let summary = stream.summary();
    Ok(StreamRun {
        completion_tokens: summary.usage.as_ref().map_or(0, |u| u.output_tokens),
        ttft: ttft.unwrap_or(total),
        first_to_last: last.saturating_sub(first.unwrap_or_default()),
        total,
        server_tokens_per_second: server,
    })
}

/// The chat request the other APIs are timed beside: [`PROMPT`], [`TOKENS`], temperature 0.
pub(super) fn chat_request(seed: i64) -> ChatCompletionRequest {
    let mut request = ChatCompletionRequest::new(ALIAS, vec![ChatMessage::user(PROMPT)])
        .with_temperature(0.0)
        .with_max_tokens(i64::try_from(TOKENS).unwrap_or(i64::MAX));
    request.seed = Some(seed);
    request
}

async fn compare(client: &LMStudioClient, metrics: &mut Metrics) -> CheckResult {
    // One warm-up of each: the first request pays for the prompt, later ones hit the cache.
    timed_responses(client, 1).await?;
    timed_stream(client, chat_request(1)).await?;
    for pair in 0..PAIRS {
        let responses = timed_responses(client, 1).await?;
        let chat = timed_stream(client, chat_request(1)).await?.run;
        for (label, run) in [("responses_stream", &responses), ("chat_stream", &chat)] {
            ensure(
                run.completion_tokens > 0 && run.first_to_last > Duration::ZERO,
                || format!("{label} run {pair}: {run:?}"),
            )?;
        }
        println!(
            "        pair {}: responses_stream {:.1} tokens/s, first text after {}; chat_stream {:.1} tokens/s, first text after {}",
            pair + 1,
            responses.tokens_per_second(),
            millis(responses.ttft),
            chat.tokens_per_second(),
            millis(chat.ttft)
        );
        metrics.responses_vs_chat.push((responses, chat));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_order_check_accepts_llama_cpps_order_only() {
        let mut kinds = vec![
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ];
        assert!(check_order(&kinds).is_ok());
        kinds.swap(0, 1);
        assert!(check_order(&kinds).is_err());
        assert!(check_order(&kinds[..8]).is_err());
    }
}
