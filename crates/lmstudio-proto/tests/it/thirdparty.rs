//! Payloads other projects' test suites captured from real OpenAI-compatible providers
//! (Mistral, DeepSeek, Groq, OpenRouter, Ollama, OpenAI, Z.ai, Cerebras, Crusoe, Hugging Face,
//! Google, SGLang): each parses, round-trips, and says what it said. Sources and licences are
//! in `data/thirdparty/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::round_trip;
use lmstudio_proto::error::{ErrorCode, ErrorEnvelope};
use lmstudio_proto::openai::{
    ChatCompletionChunk, ChatCompletionResponse, FinishReason, MessageContent, Role, ToolCall,
    ToolCallAssembler, Usage,
};

macro_rules! payload {
    ($path:literal) => {
        ($path, include_str!(concat!("../data/thirdparty/", $path)))
    };
}

/// A whole (non-streamed) answer, round-tripped.
fn response((name, body): (&str, &str)) -> ChatCompletionResponse {
    round_trip(name, body)
}

/// What a stream said: its chunks (each round-tripped) assembled, and the error events.
struct Stream {
    chunks: Vec<ChatCompletionChunk>,
    assembler: ToolCallAssembler,
    errors: Vec<ErrorEnvelope>,
    done: bool,
}

impl Stream {
    fn finish_reasons(&self) -> Vec<FinishReason> {
        self.chunks
            .iter()
            .flat_map(|c| &c.choices)
            .filter_map(|c| c.finish_reason.clone())
            .collect()
    }

    /// The last `usage` the stream reported.
    fn usage(&self) -> &Usage {
        self.chunks
            .iter()
            .rev()
            .find_map(|c| c.usage.as_ref())
            .expect("the stream reports usage")
    }

    fn calls(&self) -> Vec<ToolCall> {
        self.assembler.calls()
    }
}

/// Reads an SSE body: every `data:` payload until `[DONE]` (other fields and comments are
/// skipped); a payload carrying an `error` is kept as an error, and parsed as a chunk too
/// when it is one.
fn stream((name, body): (&str, &str)) -> Stream {
    let mut out = Stream {
        chunks: Vec::new(),
        assembler: ToolCallAssembler::new(),
        errors: Vec::new(),
        done: false,
    };
    for (i, line) in body.lines().enumerate() {
        let Some(data) = line.strip_prefix("data:") else {
            continue;
        };
        let data = data.trim_start();
        if data == "[DONE]" {
            out.done = true;
            break;
        }
        let error = ErrorEnvelope::from_slice(data.as_bytes());
        let is_chunk = serde_json::from_str::<ChatCompletionChunk>(data).is_ok();
        match (error, is_chunk) {
            (error, true) => {
                out.errors.extend(error);
                let chunk: ChatCompletionChunk = round_trip(&format!("{name}:{}", i + 1), data);
                out.assembler.push_chunk(&chunk);
                out.chunks.push(chunk);
            }
            (Some(error), false) => out.errors.push(error),
            (None, false) => panic!("{name}:{}: neither a chunk nor an error: {data}", i + 1),
        }
    }
    assert!(!out.chunks.is_empty(), "{name}: no chunks");
    out
}

fn call(call: &ToolCall) -> (&str, &str, serde_json::Value) {
    (
        call.id.as_str(),
        call.function.name.as_str(),
        call.arguments_json().expect("arguments are JSON"),
    )
}

// --- Mistral -------------------------------------------------------------------------------

#[test]
fn mistral_magistral_answers_with_thinking_parts_and_null_tool_calls() {
    let response = response(payload!("mistral/magistral_thinking_response.json"));
    let message = &response.choices[0].message;
    assert!(matches!(message.content, Some(MessageContent::Parts(_))));
    assert!(message.tool_calls.is_empty(), "tool_calls: null");
    let text = response.text().unwrap();
    assert!(text.starts_with("Crossing a river is quite different from crossing a street"));
    assert!(text.ends_with("river's conditions. Stay safe!"));
    assert_eq!(text.chars().count(), 1282);
    let reasoning = response.reasoning().unwrap();
    assert!(reasoning.starts_with("**Analogizing crossing a river**\n\nThe user is ask"));
    assert!(reasoning.ends_with("unsure about the conditions."));
    assert_eq!(reasoning.chars().count(), 2379);
    assert_eq!(response.finish_reason(), Some(&FinishReason::Stop));
    let usage = response.usage.as_ref().unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (664, 747, 1411)
    );
}

#[test]
fn mistral_magistral_streams_thinking_parts() {
    let stream = stream(payload!("mistral/magistral_thinking_stream.sse"));
    assert!(stream.done);
    assert_eq!(stream.chunks.len(), 158);
    let reasoning = stream.assembler.reasoning();
    assert!(reasoning.starts_with("Okay, the user is asking how to cross the street."));
    assert!(reasoning.ends_with("a clear and concise response."));
    assert_eq!(reasoning.chars().count(), 421);
    let text = stream.assembler.text();
    assert!(
        text.starts_with("To cross the street safely, follow these steps:\n\n1. Look both ways")
    );
    assert!(text.ends_with("you can ensure a safe crossing."));
    assert_eq!(text.chars().count(), 607);
    assert!(!text.contains("Okay, the user"), "no thinking in the text");
    assert_eq!(stream.finish_reasons(), [FinishReason::Stop]);
    let usage = stream.usage();
    assert_eq!((usage.prompt_tokens, usage.total_tokens), (10, 242));
}

#[test]
fn mistral_pixtral_tool_call() {
    let response = response(payload!("mistral/pixtral_tool_call.json"));
    assert_eq!(response.text().as_deref(), Some(""));
    assert_eq!(response.finish_reason(), Some(&FinishReason::ToolCalls));
    let calls = response.tool_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        call(&calls[0]),
        ("FI5qQGzDE", "get_image", serde_json::json!({}))
    );
    assert_eq!(response.usage.as_ref().unwrap().total_tokens, 81);
}

// --- DeepSeek ------------------------------------------------------------------------------

#[test]
fn deepseek_reasoner_reasoning_content_and_cache_usage() {
    let response = response(payload!("deepseek/reasoner_response.json"));
    let text = response.text().unwrap();
    assert!(text.starts_with("Crossing the street safely involves careful observation"));
    assert_eq!(text.chars().count(), 1568);
    let message = &response.choices[0].message;
    assert_eq!(message.reasoning, None);
    let reasoning = response.reasoning().unwrap();
    assert!(reasoning.starts_with("Okay, the user is asking how to cross the street."));
    assert_eq!(reasoning.chars().count(), 1997);
    let usage = response.usage.as_ref().unwrap();
    assert_eq!(usage.total_tokens, 801);
    assert_eq!(usage.reasoning_tokens(), Some(415));
    assert_eq!(usage.cached_tokens(), Some(0));
    assert_eq!(usage.extra["prompt_cache_miss_tokens"], 12);
}

#[test]
fn deepseek_reasoner_stream() {
    let stream = stream(payload!("deepseek/reasoner_stream.sse"));
    assert_eq!(stream.chunks.len(), 211);
    assert_eq!(
        stream.assembler.text(),
        "Hello there! 😊 How can I help you today?"
    );
    let reasoning = stream.assembler.reasoning();
    assert!(reasoning.starts_with("Hmm, the user just said \"Hello\"."));
    assert!(reasoning.ends_with("further - and that's okay too."));
    assert_eq!(reasoning.chars().count(), 882);
    assert_eq!(stream.finish_reasons(), [FinishReason::Stop]);
    let usage = stream.usage();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (6, 212));
    assert_eq!(usage.reasoning_tokens(), Some(198));
}

#[test]
fn deepseek_v4_tool_call_with_reasoning() {
    let response = response(payload!("deepseek/v4_tool_call_with_reasoning.json"));
    assert_eq!(
        response.text().as_deref(),
        Some("Let me load the dice rolling capability!")
    );
    assert!(
        response
            .reasoning()
            .unwrap()
            .starts_with("The user wants to play a dice game.")
    );
    assert_eq!(response.finish_reason(), Some(&FinishReason::ToolCalls));
    let calls = response.tool_calls();
    assert_eq!(
        call(&calls[0]),
        (
            "call_00_sXqYgMESDht75NCLLZtt9804",
            "load_capability",
            serde_json::json!({"id": "DICE_ROLL"})
        )
    );
    let usage = response.usage.as_ref().unwrap();
    assert_eq!(usage.cached_tokens(), Some(512));
    assert_eq!(usage.reasoning_tokens(), Some(60));
    assert_eq!(usage.total_tokens, 679);
}

// --- Groq ----------------------------------------------------------------------------------

#[test]
fn groq_tool_use_failed_error_keeps_the_failed_generation() {
    let (_, body) = payload!("groq/tool_use_failed_error.json");
    let envelope = ErrorEnvelope::from_slice(body.as_bytes()).expect("an error body");
    assert!(
        envelope
            .message()
            .starts_with("Tool call validation failed: tool call validation failed")
    );
    assert_eq!(envelope.error.kind(), Some("invalid_request_error"));
    assert_eq!(
        envelope.error.code(),
        Some(&ErrorCode::Text("tool_use_failed".into()))
    );
    let again: ErrorEnvelope = round_trip("groq error", body);
    assert_eq!(again.message(), envelope.message());
    assert!(serde_json::from_str::<ChatCompletionResponse>(body).is_err());
}

#[test]
fn groq_gpt_oss_tool_call_with_reasoning_and_timings() {
    let response = response(payload!("groq/gpt_oss_tool_call.json"));
    assert_eq!(response.text(), None);
    assert_eq!(
        response.reasoning().as_deref(),
        Some("We need to call with correct param: name field. Use some name, e.g., \"test\".")
    );
    let calls = response.tool_calls();
    assert_eq!(
        call(&calls[0]),
        (
            "fc_311ba17b-89f9-48d3-8fd9-7e74a1264855",
            "get_something_by_name",
            serde_json::json!({"name": "test"})
        )
    );
    let usage = response.usage.as_ref().unwrap();
    assert_eq!((usage.prompt_tokens, usage.total_tokens), (301, 353));
    assert_eq!(usage.reasoning_tokens(), Some(22));
    assert!(usage.extra["completion_time"].is_f64());
}

#[test]
fn groq_streamed_tool_call() {
    let stream = stream(payload!("groq/gpt_oss_tool_call_stream.sse"));
    assert_eq!(stream.chunks.len(), 25);
    assert_eq!(stream.assembler.text(), "");
    assert!(
        stream
            .assembler
            .reasoning()
            .starts_with("We need to call the function with correct paramete")
    );
    let calls = stream.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        call(&calls[0]),
        (
            "fc_bfb39741-3748-4def-9886-a93fc9c64a90",
            "get_something_by_name",
            serde_json::json!({"name": "example"})
        )
    );
    assert_eq!(stream.finish_reasons(), [FinishReason::ToolCalls]);
    let usage = stream.usage();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (304, 49));
    assert_eq!(usage.reasoning_tokens(), Some(23));
}

#[test]
fn groq_error_event_inside_a_200_stream() {
    let stream = stream(payload!("groq/stream_with_error_event.sse"));
    assert!(
        !stream.done,
        "the stream ends after the error, without [DONE]"
    );
    assert_eq!(stream.errors.len(), 1);
    let error = &stream.errors[0];
    assert_eq!(
        error.error.code(),
        Some(&ErrorCode::Text("tool_use_failed".into()))
    );
    assert!(error.message().contains("did not match schema"));
    assert_eq!(stream.chunks.len(), 94);
    assert!(stream.finish_reasons().is_empty());
    assert_eq!(stream.assembler.reasoning().chars().count(), 412);
    // gpt-oss's harmony channel rides along in each delta.
    assert_eq!(
        stream.chunks[1].choices[0].delta.extra["channel"],
        "analysis"
    );
}

// --- OpenRouter ----------------------------------------------------------------------------

#[test]
fn openrouter_usage_with_cost_and_reasoning_details() {
    let response = response(payload!("openrouter/usage_cost.json"));
    let text = response.text().unwrap();
    assert!(text.starts_with("Here’s a concise but thorough overview of Mars"));
    assert_eq!(text.chars().count(), 5380);
    let reasoning = response.reasoning().unwrap();
    assert!(reasoning.starts_with("**Exploring Mars Overview**"));
    assert_eq!(reasoning.chars().count(), 2509);
    assert!(response.choices[0].message.extra["reasoning_details"].is_array());
    let usage = response.usage.as_ref().unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (17, 2177));
    assert_eq!(usage.reasoning_tokens(), Some(960));
    assert_eq!(usage.cached_tokens(), Some(0));
    assert_eq!(usage.extra["cost"], 0.00435825);
    assert!(usage.extra["cost_details"]["upstream_inference_cost"].is_null());
}

#[test]
fn openrouter_reasoning_stream() {
    let stream = stream(payload!("openrouter/reasoning_stream.sse"));
    assert_eq!(stream.assembler.text(), "2 + 2 = 4");
    assert_eq!(
        stream.assembler.reasoning(),
        "This is a simple arithmetic question. 2+2 equals 4."
    );
    assert_eq!(stream.finish_reasons(), [FinishReason::Stop]);
    let usage = stream.usage();
    assert_eq!(usage.total_tokens, 79);
    assert_eq!(usage.reasoning_tokens(), Some(13));
    assert_eq!(usage.extra["cost"], 0.000669);
}

#[test]
fn openrouter_tool_call_with_null_reasoning_and_refusal() {
    let response = response(payload!("openrouter/tool_call.json"));
    let message = &response.choices[0].message;
    assert_eq!(message.reasoning, None);
    assert_eq!(response.reasoning(), None);
    assert_eq!(response.finish_reason(), Some(&FinishReason::ToolCalls));
    assert_eq!(
        call(&response.tool_calls()[0]),
        (
            "3sniiMddS",
            "divide",
            serde_json::json!({"numerator": 123, "denominator": 456, "on_inf": "infinity"})
        )
    );
    assert_eq!(response.usage.as_ref().unwrap().total_tokens, 177);
}

#[test]
fn openrouter_error_inside_a_chunk() {
    let stream = stream(payload!("openrouter/stream_error.sse"));
    assert!(stream.done);
    assert_eq!(stream.errors.len(), 1);
    assert_eq!(stream.errors[0].message(), "Token limit reached");
    assert_eq!(stream.errors[0].error.code(), Some(&ErrorCode::Number(400)));
    assert_eq!(
        stream.assembler.reasoning(),
        "We need to respond to a greeting. The user"
    );
    assert_eq!(
        stream.finish_reasons(),
        [FinishReason::Length, FinishReason::Length]
    );
    assert_eq!(stream.usage().reasoning_tokens(), Some(11));
}

#[test]
fn openrouter_upstream_rate_limit_error() {
    let (name, body) = payload!("openrouter/provider_error_429.json");
    let envelope: ErrorEnvelope = round_trip(name, body);
    assert_eq!(envelope.message(), "Provider returned error");
    assert_eq!(envelope.error.code(), Some(&ErrorCode::Number(429)));
    let from_slice = ErrorEnvelope::from_slice(body.as_bytes()).unwrap();
    assert_eq!(from_slice, envelope);
}

// --- Ollama --------------------------------------------------------------------------------

#[test]
fn ollama_cloud_tool_call_with_reasoning() {
    let response = response(payload!("ollama/cloud_tool_call.json"));
    assert_eq!(response.text().as_deref(), Some(""));
    let reasoning = response.reasoning().unwrap();
    assert!(reasoning.starts_with("The conversation: user asked \"What is the capital"));
    assert_eq!(reasoning.chars().count(), 763);
    assert_eq!(
        call(&response.tool_calls()[0]),
        (
            "call_o2vnpxrw",
            "final_result",
            serde_json::json!({"city": "Paris", "country": "France"})
        )
    );
    assert_eq!(response.finish_reason(), Some(&FinishReason::ToolCalls));
    assert_eq!(response.usage.as_ref().unwrap().total_tokens, 400);
}

#[test]
fn ollama_local_reasoning_and_json_content() {
    let response = response(payload!("ollama/local_reasoning.json"));
    let content: serde_json::Value = serde_json::from_str(&response.text().unwrap()).unwrap();
    assert_eq!(content["city"], "Paris");
    assert!(
        response
            .reasoning()
            .unwrap()
            .starts_with("Okay, the user is asking for the capital of France")
    );
    let usage = response.usage.as_ref().unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (136, 15, 151)
    );
}

// --- OpenAI --------------------------------------------------------------------------------

#[test]
fn openai_o3_mini_usage_details_and_null_refusal() {
    let response = response(payload!("openai/o3_mini_usage_details.json"));
    assert_eq!(
        response.text().as_deref(),
        Some("Hello there! How can I help you today?")
    );
    assert_eq!(response.reasoning(), None);
    let message = &response.choices[0].message;
    assert_eq!(message.role, Role::Assistant);
    assert!(message.extra["refusal"].is_null());
    let usage = response.usage.as_ref().unwrap();
    assert_eq!(usage.reasoning_tokens(), Some(64));
    let details = usage.completion_tokens_details.as_ref().unwrap();
    assert_eq!(details.extra["accepted_prediction_tokens"], 0);
    assert_eq!(usage.total_tokens, 94);
}

#[test]
fn openai_streamed_tool_call_and_usage_chunk() {
    let stream = stream(payload!("openai/tool_call_stream.sse"));
    let calls = stream.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        call(&calls[0]),
        (
            "call_ZR5UUuTt3pf61kjwAJIYdVMj",
            "get_capital",
            serde_json::json!({"country": "UK"})
        )
    );
    assert_eq!(stream.finish_reasons(), [FinishReason::ToolCalls]);
    assert!(stream.chunks.last().unwrap().is_usage_only());
    assert_eq!(stream.usage().total_tokens, 68);
}

#[test]
fn openai_text_stream() {
    let stream = stream(payload!("openai/text_stream.sse"));
    assert_eq!(stream.assembler.text(), "The capital of the UK is London.");
    assert_eq!(stream.assembler.reasoning(), "");
    assert!(stream.assembler.is_empty());
    assert_eq!(stream.finish_reasons(), [FinishReason::Stop]);
    let usage = stream.usage();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (78, 9));
    assert_eq!(usage.cached_tokens(), Some(0));
}

// --- Z.ai, Cerebras, Crusoe, Hugging Face, Google ------------------------------------------

#[test]
fn zai_glm_thinking() {
    let response = response(payload!("zai/glm_thinking.json"));
    assert_eq!(response.text().as_deref(), Some("2 + 2 is 4."));
    let reasoning = response.reasoning().unwrap();
    assert!(reasoning.starts_with("\n1.  **Identify the user's question:**"));
    assert_eq!(reasoning.chars().count(), 863);
    let usage = response.usage.as_ref().unwrap();
    assert_eq!(usage.reasoning_tokens(), Some(237));
    assert_eq!(usage.total_tokens, 260);
}

#[test]
fn zai_glm_thinking_stream() {
    let stream = stream(payload!("zai/glm_thinking_stream.sse"));
    assert_eq!(stream.assembler.text(), "4");
    let reasoning = stream.assembler.reasoning();
    assert!(reasoning.starts_with("\n1.  **Analyze the User's Request:**"));
    assert!(reasoning.ends_with("the final response:** \"4\"."));
    assert_eq!(reasoning.chars().count(), 2173);
    assert_eq!(stream.finish_reasons(), [FinishReason::Stop]);
    assert_eq!(stream.usage().reasoning_tokens(), Some(561));
}

#[test]
fn cerebras_gpt_oss_reasoning_field() {
    let response = response(payload!("cerebras/gpt_oss_reasoning.json"));
    assert_eq!(response.text().as_deref(), Some("4."));
    let reasoning = response.reasoning().unwrap();
    assert!(reasoning.starts_with("User asks simple: \"What is 2 + 2?"));
    assert_eq!(reasoning.chars().count(), 92);
    let usage = response.usage.as_ref().unwrap();
    assert_eq!(usage.reasoning_tokens(), Some(25));
    assert_eq!(usage.total_tokens, 116);
}

#[test]
fn crusoe_tool_call_with_null_fields() {
    let response = response(payload!("crusoe/glm_tool_call.json"));
    let message = &response.choices[0].message;
    assert_eq!(message.content, None, "content: null");
    assert!(message.extra["function_call"].is_null());
    assert!(
        response
            .reasoning()
            .unwrap()
            .starts_with("The user wants to know the weather in Paris.")
    );
    assert_eq!(
        call(&response.tool_calls()[0]),
        (
            "chatcmpl-tool-bbb91941bf76335c",
            "get_weather",
            serde_json::json!({"city": "Paris"})
        )
    );
    let usage = response.usage.as_ref().unwrap();
    assert_eq!(usage.cached_tokens(), Some(0));
    assert!(usage.prompt_tokens_details.as_ref().unwrap().extra["multimodal_tokens"].is_null());
}

#[test]
fn crusoe_stream_with_usage() {
    let stream = stream(payload!("crusoe/stream.sse"));
    assert_eq!(stream.assembler.text(), "1, 2, 3, 4, 5");
    assert_eq!(stream.finish_reasons(), [FinishReason::Stop]);
    let usage = stream.usage();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (46, 14, 60)
    );
}

#[test]
fn huggingface_together_r1_think_tags_and_empty_tool_calls() {
    let response = response(payload!("huggingface/together_deepseek_r1.json"));
    let text = response.text().unwrap();
    assert!(text.starts_with("<think>\nOkay, the user just said \"Hello\"."));
    assert_eq!(text.chars().count(), 1108);
    assert_eq!(
        response.reasoning(),
        None,
        "reasoning inline in <think> tags"
    );
    assert!(response.tool_calls().is_empty());
    let usage = response.usage.as_ref().unwrap();
    assert_eq!(usage.total_tokens, 262);
    assert_eq!(usage.extra["cached_tokens"], 0);
}

#[test]
fn google_openai_compat_tool_call_without_an_id() {
    let response = response(payload!("google/openai_compat_tool_call_without_id.json"));
    assert_eq!(response.text(), None);
    assert_eq!(
        call(&response.tool_calls()[0]),
        ("", "get_current_time", serde_json::json!({}))
    );
    assert!(response.choices[0].message.extra["extra_content"]["google"]["thought"] == true);
    assert_eq!(response.usage.as_ref().unwrap().total_tokens, 109);
}

// --- SGLang --------------------------------------------------------------------------------

#[test]
fn sglang_deepseek_v4_parallel_tool_calls_with_null_deltas() {
    let stream = stream(payload!("sglang/deepseek_v4_parallel_tool_calls.sse"));
    assert_eq!(stream.chunks.len(), 20);
    // role, content, reasoning_content, tool_calls, and a fragment's id and name: all null.
    let delta = &stream.chunks[10].choices[0].delta;
    assert_eq!(delta.role, None);
    assert!(delta.tool_calls.is_empty());
    assert_eq!(
        stream.assembler.text(),
        "I'll get the weather for both cities.\n\n"
    );
    assert_eq!(
        stream.assembler.reasoning(),
        "The user wants weather in Paris and Tokyo. The instructions say to call the tool once \
         per city, and these are independent calls, so I should make them in the same block."
    );
    let calls = stream.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        call(&calls[0]),
        (
            "call_361011ce08d84cc6971c6d8a",
            "get_weather",
            serde_json::json!({"city": "Paris"})
        )
    );
    assert_eq!(
        call(&calls[1]),
        (
            "call_3aaf5236eecc4614aba70f6b",
            "get_weather",
            serde_json::json!({"city": "Tokyo"})
        )
    );
    assert_eq!(stream.finish_reasons(), [FinishReason::ToolCalls]);
    assert_eq!(stream.chunks[19].choices[0].extra["matched_stop"], 1);
}

#[test]
fn sglang_qwen_usage_chunk_with_null_details() {
    let stream = stream(payload!("sglang/qwen_usage_stream.sse"));
    assert_eq!(stream.assembler.text(), "\n\nOK");
    assert_eq!(
        stream.assembler.reasoning(),
        "We need to respond to user: \"Reply with exactly: OK\". Need final exactly OK. Ensure \
         no extra.\n"
    );
    assert_eq!(stream.finish_reasons(), [FinishReason::Stop]);
    let last = stream.chunks.last().unwrap();
    assert!(last.is_usage_only());
    let usage = stream.usage();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (57, 28, 85)
    );
    assert_eq!(
        usage.prompt_tokens_details, None,
        "prompt_tokens_details: null"
    );
    assert_eq!(usage.extra["reasoning_tokens"], 25);
}
