//! Anthropic's own payloads: the Python SDK's stream fixtures, and the exchanges with the real
//! API its test suite recorded (requests, answers, streams, errors). Each parses, round-trips,
//! and streams are assembled from their deltas.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lmstudio_proto::anthropic::{
    ContentBlock, ErrorResponse, ErrorType, InputMessage, MessageContent, MessagesRequest,
    MessagesResponse, StopReason, StreamEvent, Tool,
};
use lmstudio_proto::error::ErrorEnvelope;
use serde_json::json;

use super::{assemble, assembled, data, delta_text, kinds, stream};
use crate::common::round_trip;

#[test]
fn basic_text_stream_with_a_ping() {
    let events = stream(data!("sdk/basic_response.txt"));
    assert_eq!(
        kinds(&events),
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let message = assembled("basic_response", &events);
    assert_eq!(message.id, "msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK");
    assert_eq!(message.model, "claude-3-opus-latest");
    assert_eq!(message.text(), "Hello there!");
    assert_eq!(message.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(
        (message.usage.input_tokens, message.usage.output_tokens),
        (11, 6)
    );
}

#[test]
fn streamed_tool_use_input_joined_from_input_json_deltas() {
    let events = stream(data!("sdk/tool_use_response.txt"));
    let message = assembled("tool_use_response", &events);
    let [ContentBlock::Text(text), ContentBlock::ToolUse(call)] = message.content.as_slice() else {
        panic!("text then tool_use: {:?}", message.content)
    };
    assert_eq!(
        text.text,
        "I'll check the current weather in Paris for you."
    );
    assert_eq!(call.id, "toolu_01NRLabsLyVHZPKxbKvkfSMn");
    assert_eq!(call.name, "get_weather");
    assert_eq!(call.input, json!({"location": "Paris"}));
    assert_eq!(call.extra["caller"], json!({"type": "direct"}));
    assert_eq!(message.stop_reason, Some(StopReason::ToolUse));
    let usage = &message.usage;
    assert_eq!((usage.input_tokens, usage.output_tokens), (377, 65));
    assert_eq!(usage.cache_creation_input_tokens, Some(0));
    assert_eq!(usage.cache_read_input_tokens, Some(0));
    assert_eq!(usage.extra["service_tier"], "standard");
}

#[test]
fn a_tool_input_cut_by_max_tokens_still_completes_the_message() {
    // The last block never stops and its JSON is cut: message_stop still completes the
    // message (the SDK returns it too). The cut call keeps the input it started with, its raw
    // text stays readable, and `stop_reason` says why.
    let events = stream(data!("sdk/incomplete_partial_json_response.txt"));
    let stops = kinds(&events)
        .iter()
        .filter(|kind| **kind == "content_block_stop")
        .count();
    assert_eq!(stops, 1, "only the text block stops");
    let (assembler, pushed) = assemble(&events);
    pushed.unwrap();
    assert!(assembler.is_complete());
    let partial = assembler.partial_json(1).unwrap().to_owned();
    assert!(partial.starts_with(r#"{"filename": "taxes.txt", "lines_of_text": ["#));
    assert!(partial.ends_with("\n\"Filing taxes"));
    let text = "I'll create a comprehensive tax guide for someone with multiple W2s and save it in \
                a file called taxes.txt. Let me do that for you now.";
    assert_eq!(assembler.text(), text);
    let message = assembler.finish().unwrap();
    let [ContentBlock::Text(block), ContentBlock::ToolUse(call)] = message.content.as_slice()
    else {
        panic!("text then tool_use: {:?}", message.content)
    };
    assert_eq!(block.text, text);
    assert_eq!(call.name, "make_file");
    assert_eq!(call.input, json!({}));
    assert_eq!(message.stop_reason, Some(StopReason::MaxTokens));
    assert_eq!(message.usage.output_tokens, 124);
}

#[test]
fn refusal_with_stop_details() {
    let events = stream(data!("sdk/refusal_response.txt"));
    let message = assembled("refusal_response", &events);
    assert_eq!(message.stop_reason, Some(StopReason::Refusal));
    assert_eq!(message.extra["stop_details"]["category"], "cyber");
    assert_eq!(
        message.extra["stop_details"]["explanation"],
        "This request was refused due to policy."
    );
    assert_eq!(message.text(), "");
    assert_eq!(message.content.len(), 1);
    assert_eq!(message.usage.output_tokens, 0);
}

#[test]
fn thinking_stream_with_a_signature_delta() {
    let events = stream(data!("sdk/fable_stream-a-refusal.sse"));
    let message = assembled("fable_stream-a-refusal", &events);
    let [ContentBlock::Thinking(thinking), ContentBlock::Text(text)] = message.content.as_slice()
    else {
        panic!("thinking then text: {:?}", message.content)
    };
    assert!(thinking.thinking.starts_with("Simple educational question"));
    assert!(thinking.thinking.ends_with("just roll with it politely."));
    assert_eq!(message.thinking(), thinking.thinking);
    assert_eq!(
        thinking.signature.as_deref(),
        Some("c3ludGhldGljLXNpZ25hdHVyZS1maXh0dXJlLWEtbm90LWEtcmVhbC1zaWduYXR1cmU=")
    );
    assert_eq!(text.text, "Hi");
    assert_eq!(message.stop_reason, Some(StopReason::Refusal));
    assert_eq!(
        message.extra["stop_details"]["fallback_credit_token"],
        "tok_synthetic_fixture_a"
    );
    let usage = &message.usage;
    assert_eq!((usage.input_tokens, usage.output_tokens), (28, 106));
    let cache = usage.cache_creation.as_ref().unwrap();
    assert_eq!(cache.ephemeral_5m_input_tokens, Some(0));
    assert_eq!(usage.extra["output_tokens_details"]["thinking_tokens"], 67);
    assert_eq!(usage.extra["inference_geo"], "global");
    // The thinking goes back with the next turn unchanged, signature included.
    let block = serde_json::to_value(&message.content[0]).unwrap();
    let turn = serde_json::to_value(InputMessage::from(message.clone())).unwrap();
    assert_eq!(turn["role"], "assistant");
    assert_eq!(turn["content"][0], block);
    assert_eq!(
        block["signature"],
        "c3ludGhldGljLXNpZ25hdHVyZS1maXh0dXJlLWEtbm90LWEtcmVhbC1zaWduYXR1cmU="
    );
}

#[test]
fn server_tool_blocks_stay_whole_and_their_input_is_assembled() {
    let events = stream(data!("sdk/fable_stream-a-toolrefusal.sse"));
    let message = assembled("fable_stream-a-toolrefusal", &events);
    let kinds: Vec<&str> = message.content.iter().map(ContentBlock::kind).collect();
    assert_eq!(kinds, ["server_tool_use", "web_search_tool_result", "text"]);
    let ContentBlock::Other(search) = &message.content[0] else {
        panic!("server_tool_use is not modelled")
    };
    assert_eq!(search["name"], "web_search");
    assert_eq!(
        search["input"],
        json!({"query": "solar eclipse viewing safety news 2026"})
    );
    let ContentBlock::Other(result) = &message.content[1] else {
        panic!("web_search_tool_result is not modelled")
    };
    assert_eq!(result["tool_use_id"], "srvtoolu_fixture_a_0001");
    assert_eq!(result["content"][0]["type"], "web_search_result");
    assert_eq!(
        message.text(),
        "Here's a summary of this year's solar eclipses and how"
    );
    assert_eq!(message.stop_reason, Some(StopReason::Refusal));
}

#[test]
fn recorded_tool_use_request_and_answer() {
    let (name, body) = data!("sdk/recorded_tool_use.request.json");
    let request: MessagesRequest = round_trip(name, body);
    assert_eq!(request.model, "claude-haiku-4-5");
    assert_eq!(request.max_tokens, Some(1024));
    let Tool::Custom(tool) = &request.tools.as_deref().unwrap()[0] else {
        panic!("a client tool")
    };
    assert_eq!(tool.name, "get_weather");
    assert_eq!(tool.input_schema["additionalProperties"], false);
    assert_eq!(tool.input_schema["required"], json!(["location", "units"]));

    let (name, body) = data!("sdk/recorded_tool_use.json");
    let message: MessagesResponse = round_trip(name, body);
    assert_eq!(message.model, "claude-haiku-4-5-20251001");
    assert_eq!(message.stop_reason, Some(StopReason::ToolUse));
    let calls: Vec<_> = message.tool_uses().collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, "toolu_01A9HHF5Ezy3oBrKmSgfASm9");
    assert_eq!(
        calls[0].input,
        json!({"location": "San Francisco, CA", "units": "f"})
    );
    let usage = &message.usage;
    assert_eq!((usage.input_tokens, usage.output_tokens), (656, 74));
    let cache = usage.cache_creation.as_ref().unwrap();
    assert_eq!(
        (
            cache.ephemeral_5m_input_tokens,
            cache.ephemeral_1h_input_tokens
        ),
        (Some(0), Some(0))
    );
    assert_eq!(usage.extra["inference_geo"], "not_available");

    // The next request carries the call back and its (failed) result.
    let (name, body) = data!("sdk/recorded_tool_result.request.json");
    let next: MessagesRequest = round_trip(name, body);
    let [ContentBlock::ToolUse(replayed)] = next.messages[1].content.blocks() else {
        panic!("the call, replayed")
    };
    assert_eq!(replayed, calls[0]);
    let [ContentBlock::ToolResult(result)] = next.messages[2].content.blocks() else {
        panic!("the result")
    };
    assert_eq!(result.tool_use_id, calls[0].id);
    assert_eq!(result.is_error, Some(true));
    assert_eq!(
        result.content.as_ref().and_then(MessageContent::as_str),
        Some("RuntimeError('Unexpected error, try again')")
    );
    // The answer we would build from the first reply replays it the same way.
    let ours = serde_json::to_value(InputMessage::from(message)).unwrap();
    let theirs: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(ours["content"], theirs["messages"][1]["content"]);

    let (name, body) = data!("sdk/recorded_tool_result_answer.json");
    let answer: MessagesResponse = round_trip(name, body);
    assert_eq!(answer.stop_reason, Some(StopReason::EndTurn));
    assert!(
        answer
            .text()
            .starts_with("I apologize, but I'm getting an error")
    );
}

#[test]
fn recorded_tool_use_stream_builds_the_same_call() {
    let (name, body) = data!("sdk/recorded_tool_use_stream.request.json");
    let request: MessagesRequest = round_trip(name, body);
    assert_eq!(request.stream, Some(true));
    let events = stream(data!("sdk/recorded_tool_use_stream.sse"));
    let pieces: String = events
        .iter()
        .filter_map(|event| match event {
            StreamEvent::ContentBlockDelta(delta) => match &delta.delta {
                lmstudio_proto::anthropic::ContentDelta::InputJsonDelta(piece) => {
                    Some(piece.partial_json.as_str())
                }
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(pieces, r#"{"location": "San Francisco, CA", "units": "f"}"#);
    let message = assembled("recorded_tool_use_stream", &events);
    let call = message.tool_uses().next().unwrap();
    assert_eq!(call.id, "toolu_018acGYLtfR52q9yDbWaEdQZ");
    assert_eq!(
        call.input,
        json!({"location": "San Francisco, CA", "units": "f"})
    );
    assert_eq!(message.stop_reason, Some(StopReason::ToolUse));
    // message_start said 26 output tokens, message_delta 74.
    assert_eq!(
        (message.usage.input_tokens, message.usage.output_tokens),
        (656, 74)
    );

    let events = stream(data!("sdk/recorded_tool_result_answer_stream.sse"));
    let answer = assembled("recorded_tool_result_answer_stream", &events);
    assert_eq!(answer.text(), delta_text(&events));
    assert_eq!(answer.stop_reason, Some(StopReason::EndTurn));
}

#[test]
fn recorded_code_execution_calls_a_client_tool_from_a_server_tool() {
    let (name, body) = data!("sdk/recorded_code_execution.json");
    let message: MessagesResponse = round_trip(name, body);
    let kinds: Vec<&str> = message.content.iter().map(ContentBlock::kind).collect();
    assert_eq!(kinds, ["text", "server_tool_use", "tool_use"]);
    let call = message.tool_uses().next().unwrap();
    assert_eq!(call.extra["caller"]["type"], "code_execution_20260120");
    assert_eq!(
        message.extra["container"]["id"],
        "container_011CYVPF4iP8oD6Vsz1NhVih"
    );
    assert_eq!(
        message.usage.extra["server_tool_use"]["web_search_requests"],
        0
    );
}

#[test]
fn recorded_web_search_with_a_server_tool_and_citations() {
    let (name, body) = data!("sdk/recorded_web_search.request.json");
    let request: MessagesRequest = round_trip(name, body);
    let tool = &request.tools.as_deref().unwrap()[0];
    assert!(matches!(tool, Tool::Other(_)), "a server tool: {tool:?}");
    assert_eq!(tool.name(), "web_search");

    let (name, body) = data!("sdk/recorded_web_search.json");
    let message: MessagesResponse = round_trip(name, body);
    let kinds: Vec<&str> = message.content.iter().map(ContentBlock::kind).collect();
    assert_eq!(
        kinds,
        [
            "server_tool_use",
            "web_search_tool_result",
            "text",
            "text",
            "text"
        ]
    );
    let cited = message
        .content
        .iter()
        .filter(|block| matches!(block, ContentBlock::Text(text) if text.extra.get("citations").is_some_and(|c| !c.is_null())))
        .count();
    assert_eq!(cited, 2);
    assert_eq!(message.usage.input_tokens, 11306);
    assert_eq!(
        message.usage.extra["server_tool_use"]["web_search_requests"],
        1
    );
}

#[test]
fn recorded_errors() {
    for (file, kind, status_text, request_id) in [
        (
            data!("sdk/recorded_error_400.json"),
            ErrorType::InvalidRequest,
            "messages.0.content.1: unexpected `tool_use_id` found in `tool_result` blocks",
            "req_011CYHyk9NPsBYeGbC9LuDNK",
        ),
        (
            data!("sdk/recorded_error_429.json"),
            ErrorType::RateLimit,
            "This request would exceed your organization's rate limit",
            "req_011CYK5mje9HkutJtmfPzzNC",
        ),
    ] {
        let (name, body) = file;
        let error: ErrorResponse = round_trip(name, body);
        assert_eq!(
            ErrorResponse::from_slice(body.as_bytes()),
            Some(error.clone())
        );
        assert_eq!(error.error_type(), Some(&kind), "{name}");
        assert!(error.message().starts_with(status_text), "{name}");
        assert_eq!(error.request_id.as_deref(), Some(request_id));
        assert!(
            error.to_string().starts_with(kind.as_str()),
            "{name}: {error}"
        );
        // The crate's generic envelope reads the same message.
        let envelope = ErrorEnvelope::from_slice(body.as_bytes()).unwrap();
        assert_eq!(envelope.message(), error.message());
        assert!(
            serde_json::from_str::<MessagesResponse>(body).is_err(),
            "{name}"
        );
    }
}
