//! `/v1/chat/completions` requests and (non-streamed) responses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::round_trip;
use lmstudio_proto::openai::{
    AssistantMessage, ChatCompletionRequest, ChatCompletionResponse, ChatMessage, ContentPart,
    FinishReason, MessageContent, ObjectKind, ResponseFormat, Role, StopSequences, StreamOptions,
    Tool, ToolCall, ToolChoice, ToolType,
};
use serde_json::json;

#[test]
fn minimal_request_is_minimal_json() {
    let request = ChatCompletionRequest::new("m", vec![ChatMessage::user("hi")]);
    assert_eq!(
        serde_json::to_string(&request).unwrap(),
        r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#
    );
    let parsed: ChatCompletionRequest =
        serde_json::from_str(r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#)
            .unwrap();
    assert_eq!(parsed, request);
}

#[test]
fn full_request_round_trips() {
    let request: ChatCompletionRequest = round_trip(
        "full request",
        &json!({
            "model": "granite-3.0-2b-instruct",
            "messages": [
                {"role": "developer", "content": "Always answer in rhymes."},
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}}
                ]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "365174485", "type": "function",
                     "function": {"name": "search", "arguments": "{\"q\":\"x\"}"}}
                ]},
                {"role": "tool", "tool_call_id": "365174485", "content": "[]"}
            ],
            "temperature": 0.7, "top_p": 0.9, "top_k": 40, "min_p": 0.05,
            "max_tokens": -1, "stream": true, "stream_options": {"include_usage": true},
            "stop": ["\n\n", "END"], "presence_penalty": 0.1, "frequency_penalty": 0.2,
            "repeat_penalty": 1.1, "logit_bias": {"50256": -100.0}, "seed": 42,
            "tools": [{"type": "function", "function": {"name": "search", "description": "Search",
                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}],
            "tool_choice": "required", "parallel_tool_calls": false,
            "response_format": {"type": "json_schema", "json_schema": {"name": "joke_response",
                "strict": "true", "schema": {"type": "object"}}},
            "reasoning_effort": "low", "ttl": 300, "draft_model": "qwen2.5-0.5b-instruct",
            "n_probs": 3
        })
        .to_string(),
    );
    assert_eq!(request.max_tokens, Some(-1));
    assert_eq!(request.messages[0].role, Role::Developer);
    assert_eq!(request.messages[2].text(), "What is this?");
    assert_eq!(request.messages[3].content, None);
    assert_eq!(
        request.messages[4].tool_call_id.as_deref(),
        Some("365174485")
    );
    assert_eq!(request.stream_options, Some(StreamOptions::with_usage()));
    assert_eq!(
        request.stop,
        Some(StopSequences::Many(vec!["\n\n".into(), "END".into()]))
    );
    assert_eq!(request.tool_choice, Some(ToolChoice::required()));
    assert!(matches!(
        request.response_format,
        Some(ResponseFormat::JsonSchema { .. })
    ));
    assert_eq!(request.ttl, Some(300));
    assert_eq!(
        request.extra["n_probs"], 3,
        "unknown request fields are kept"
    );
}

#[test]
fn builders_and_constructors() {
    let request = ChatCompletionRequest::new(
        "m",
        vec![
            ChatMessage::system("s"),
            ChatMessage::user(vec![
                ContentPart::text("look"),
                ContentPart::image_url("https://x/y.png"),
            ]),
            ChatMessage::assistant_tool_calls(vec![ToolCall::function("1", "f", "{}")]),
            ChatMessage::tool("1", "ok"),
        ],
    )
    .with_max_tokens(16)
    .with_tools(vec![Tool::function(
        "f",
        "does f",
        json!({"type": "object"}),
    )])
    .with_tool_choice(ToolChoice::function("f"))
    .with_response_format(ResponseFormat::Text)
    .streaming();
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "s"},
                {"role": "user", "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]},
                {"role": "assistant", "tool_calls": [
                    {"id": "1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                {"role": "tool", "content": "ok", "tool_call_id": "1"}
            ],
            "max_tokens": 16,
            "stream": true,
            "stream_options": {"include_usage": true},
            "tools": [{"type": "function", "function": {"name": "f", "description": "does f",
                "parameters": {"type": "object"}}}],
            "tool_choice": {"type": "function", "function": {"name": "f"}},
            "response_format": {"type": "text"}
        })
    );
}

#[test]
fn tool_call_response() {
    let response: ChatCompletionResponse = round_trip(
        "docs_v1_chat_completions_tool_call_response",
        include_str!("../data/lmstudio/docs_v1_chat_completions_tool_call_response.json"),
    );
    assert_eq!(response.object, Some(ObjectKind::ChatCompletion));
    assert_eq!(response.finish_reason(), Some(&FinishReason::ToolCalls));
    assert_eq!(response.text(), None);
    let calls = response.tool_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, "365174485");
    assert_eq!(calls[0].kind, ToolType::Function);
    assert_eq!(calls[0].function.name, "search_products");
    assert_eq!(calls[0].arguments_json().unwrap()["max_price"], 50);
    assert_eq!(
        response.system_fingerprint.as_deref(),
        Some("lmstudio-community/qwen2.5-7b-instruct")
    );

    // The answer goes back into the history as an assistant message with its calls.
    let message: ChatMessage = response.choices[0].message.clone().into();
    assert_eq!(message.role, Role::Assistant);
    assert_eq!(message.tool_calls.as_deref(), Some(calls));
}

#[test]
fn reasoning_content_response_with_empty_stats() {
    let response: ChatCompletionResponse = round_trip(
        "thirdparty_chat_completion_reasoning_content",
        include_str!("../data/lmstudio/thirdparty_chat_completion_reasoning_content.json"),
    );
    assert_eq!(
        response.text().as_deref(),
        Some("Hello! How can I help you today?")
    );
    let message = &response.choices[0].message;
    assert_eq!(message.reasoning_content.as_deref(), Some(""));
    assert_eq!(
        message.reasoning_text(),
        None,
        "empty reasoning is no reasoning"
    );
    assert!(message.tool_calls.is_empty());
    assert_eq!(response.stats, Some(Default::default()));
    let usage = response.usage.as_ref().unwrap();
    assert_eq!(usage.reasoning_tokens(), Some(0));
    assert_eq!(usage.total_tokens, 20);
}

#[test]
fn gpt_oss_reasoning_field() {
    let message: AssistantMessage = round_trip(
        "gpt-oss message",
        r#"{"role":"assistant","content":"4","reasoning":"2+2 is 4."}"#,
    );
    assert_eq!(message.reasoning_text(), Some("2+2 is 4."));
    let message: AssistantMessage = round_trip(
        "no role",
        r#"{"content":"x","refusal":null,"annotations":[1]}"#,
    );
    assert_eq!(message.role, Role::Assistant);
    assert_eq!(message.extra["annotations"], json!([1]));
}

#[test]
fn llama_server_responses_keep_timings() {
    for (name, body, finish) in [
        (
            "chat",
            include_str!("../data/llama-server/chat.body"),
            FinishReason::Length,
        ),
        (
            "chat_finish_stop",
            include_str!("../data/llama-server/chat_finish_stop.body"),
            FinishReason::Stop,
        ),
        (
            "chat_gemma_template",
            include_str!("../data/llama-server/chat_gemma_template.body"),
            FinishReason::Length,
        ),
        (
            "embeddings_server_chat",
            include_str!("../data/llama-server/embeddings_server_chat.body"),
            FinishReason::Length,
        ),
        (
            "router_chat",
            include_str!("../data/llama-server/router_chat.body"),
            FinishReason::Length,
        ),
        (
            "router_chat_autoload",
            include_str!("../data/llama-server/router_chat_autoload.body"),
            FinishReason::Length,
        ),
        (
            "unknown_model",
            include_str!("../data/llama-server/unknown_model.body"),
            FinishReason::Length,
        ),
        (
            "xllamacpp/bad_role",
            include_str!("../data/llama-server/xllamacpp/bad_role.body"),
            FinishReason::Length,
        ),
        (
            "xllamacpp/chat",
            include_str!("../data/llama-server/xllamacpp/chat.body"),
            FinishReason::Length,
        ),
        (
            "xllamacpp/chat_finish_stop",
            include_str!("../data/llama-server/xllamacpp/chat_finish_stop.body"),
            FinishReason::Stop,
        ),
        (
            "xllamacpp/empty_messages",
            include_str!("../data/llama-server/xllamacpp/empty_messages.body"),
            FinishReason::Length,
        ),
        (
            "xllamacpp/unknown_model",
            include_str!("../data/llama-server/xllamacpp/unknown_model.body"),
            FinishReason::Length,
        ),
    ] {
        let response: ChatCompletionResponse = round_trip(name, body);
        assert!(response.id.starts_with("chatcmpl-"), "{name}");
        assert_eq!(response.finish_reason(), Some(&finish), "{name}");
        assert!(!response.text().unwrap().is_empty(), "{name}");
        assert!(
            response.extra["timings"]["predicted_n"].is_u64(),
            "{name}: timings kept"
        );
        let usage = response.usage.as_ref().unwrap();
        assert_eq!(
            usage.prompt_tokens + usage.completion_tokens,
            usage.total_tokens,
            "{name}"
        );
        assert!(usage.cached_tokens().is_some(), "{name}");
    }
}

#[test]
fn message_content_forms() {
    let text: MessageContent = serde_json::from_str(r#""hi""#).unwrap();
    assert_eq!(text, MessageContent::from("hi"));
    let parts: MessageContent =
        serde_json::from_str(r#"[{"type":"text","text":"a"},{"type":"text","text":"b"}]"#).unwrap();
    assert_eq!(parts.text(), "ab");
}
