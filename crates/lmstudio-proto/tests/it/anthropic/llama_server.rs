//! llama.cpp's `/v1/messages` (the xllamacpp build the real-server suite runs, Gemma 3 270M),
//! captured byte for byte: each request parses and round-trips, each answer too, and says what
//! it said. Streams are assembled from their deltas.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lmstudio_proto::anthropic::{
    ContentBlock, CountTokensResponse, ErrorResponse, ImageSource, MessageContent, MessagesRequest,
    MessagesResponse, Role, StopReason, ThinkingConfig, Tool, ToolChoice,
};
use lmstudio_proto::error::{ErrorCode, ErrorEnvelope};

use super::{assembled, data, delta_text, kinds, stream};
use crate::common::round_trip;

fn request((name, body): (&str, &str)) -> MessagesRequest {
    round_trip(name, body)
}

fn response((name, body): (&str, &str)) -> MessagesResponse {
    round_trip(name, body)
}

#[test]
fn text_answer() {
    let request = request(data!("llama-server/messages.request.json"));
    assert_eq!(request.model, "gemma-3-270m");
    assert_eq!(request.max_tokens, Some(8));
    assert_eq!(request.messages.len(), 1);
    assert_eq!(request.messages[0].role, Role::User);
    assert_eq!(request.messages[0].content.as_str(), Some("Say hello."));

    let message = response(data!("llama-server/messages.json"));
    assert!(message.id.starts_with("chatcmpl-"), "{}", message.id);
    assert_eq!(message.kind.as_deref(), Some("message"));
    assert_eq!(message.role, Role::Assistant);
    assert_eq!(message.model, "gemma-3-270m");
    assert_eq!(message.content.len(), 1);
    assert_eq!(message.text(), "Say hi.<|im_end|>");
    assert_eq!(message.stop_reason, Some(StopReason::MaxTokens));
    assert_eq!(message.stop_sequence, None);
    let usage = &message.usage;
    assert_eq!((usage.input_tokens, usage.output_tokens), (26, 8));
    assert_eq!(usage.cache_read_input_tokens, Some(0));
    assert_eq!(usage.cache_creation_input_tokens, None);
    assert_eq!(usage.total_input_tokens(), 26);
    assert!(message.extra.is_empty(), "{:?}", message.extra);
}

#[test]
fn text_stream_assembled_from_its_deltas() {
    let events = stream(data!("llama-server/messages_stream.sse"));
    let mut expected = vec!["message_start", "content_block_start"];
    expected.extend(["content_block_delta"; 8]);
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(kinds(&events), expected);
    assert_eq!(delta_text(&events), "Say hello.\n<|im_");

    let message = assembled("messages_stream", &events);
    assert!(message.id.starts_with("chatcmpl-"));
    assert_eq!(message.model, "gemma-3-270m");
    assert_eq!(message.text(), "Say hello.\n<|im_");
    assert_eq!(message.stop_reason, Some(StopReason::MaxTokens));
    assert_eq!(message.stop_sequence, None);
    // Input from message_start, output from message_delta.
    let usage = &message.usage;
    assert_eq!((usage.input_tokens, usage.output_tokens), (5, 8));
    assert_eq!(usage.cache_read_input_tokens, Some(21));
    assert_eq!(usage.total_input_tokens(), 26);
}

#[test]
fn stop_sequence_is_reported_as_end_turn_with_the_sequence() {
    let request = request(data!("llama-server/messages_stop_sequence.request.json"));
    assert_eq!(
        request.stop_sequences.as_deref(),
        Some(&["<|im_end|>".to_owned(), ".".to_owned()][..])
    );
    let system = request.system.as_ref().unwrap();
    let [ContentBlock::Text(block)] = system.blocks() else {
        panic!("one text block: {system:?}")
    };
    assert_eq!(block.text, "You repeat what the user says.");
    assert!(block.cache_control.is_some());
    assert!(matches!(
        request.messages[0].content,
        MessageContent::Blocks(_)
    ));

    let message = response(data!("llama-server/messages_stop_sequence.json"));
    assert_eq!(message.text(), "Say hello");
    // Anthropic says `stop_sequence` here; llama.cpp says `end_turn` and names the sequence.
    assert_eq!(message.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(message.stop_sequence.as_deref(), Some("."));
    assert_eq!(
        (message.usage.input_tokens, message.usage.output_tokens),
        (5, 3)
    );
    assert_eq!(message.usage.cache_read_input_tokens, Some(42));
}

#[test]
fn streamed_stop_sequence() {
    let request = request(data!(
        "llama-server/messages_stream_stop_sequence.request.json"
    ));
    assert_eq!(
        request.system.as_ref().and_then(MessageContent::as_str),
        Some("You repeat what the user says.")
    );
    assert_eq!(request.stream, Some(true));
    let events = stream(data!("llama-server/messages_stream_stop_sequence.sse"));
    let message = assembled("messages_stream_stop_sequence", &events);
    assert_eq!(message.text(), "Say hi");
    assert_eq!(message.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(message.stop_sequence.as_deref(), Some("."));
    assert_eq!(
        (message.usage.input_tokens, message.usage.output_tokens),
        (5, 3)
    );
}

#[test]
fn tools_are_accepted_but_this_model_answers_text() {
    let request = request(data!("llama-server/messages_tools.request.json"));
    let tools = request.tools.as_deref().unwrap();
    let Tool::Custom(tool) = &tools[0] else {
        panic!("a client tool: {tools:?}")
    };
    assert_eq!(tool.name, "get_weather");
    assert_eq!(tool.kind, None);
    assert_eq!(tool.input_schema["required"][0], "location");
    assert_eq!(request.tool_choice, Some(ToolChoice::any()));

    // Gemma 3 270M (base) does not call tools, even with `tool_choice: any`.
    let message = response(data!("llama-server/messages_tools.json"));
    assert_eq!(message.tool_uses().count(), 0);
    assert_eq!(message.stop_reason, Some(StopReason::MaxTokens));
    assert_eq!(message.usage.output_tokens, 64);
    assert!(message.text().starts_with("<|im_end|>\n<|im_start|>"));
}

#[test]
fn tool_choice_tool_stream_answers_text_too() {
    let request = request(data!("llama-server/messages_tools_stream.request.json"));
    assert_eq!(request.tool_choice, Some(ToolChoice::tool("get_weather")));
    let events = stream(data!("llama-server/messages_tools_stream.sse"));
    assert_eq!(events.len(), 69);
    let message = assembled("messages_tools_stream", &events);
    assert_eq!(message.content.len(), 1);
    assert_eq!(message.text(), delta_text(&events));
    assert!(
        message
            .text()
            .starts_with("What is the weather in Paris?<|im_end|>")
    );
    assert_eq!(message.stop_reason, Some(StopReason::MaxTokens));
    assert_eq!(message.usage.output_tokens, 64);
}

#[test]
fn tool_result_turn_with_sampling_thinking_and_metadata() {
    let request = request(data!("llama-server/messages_tool_result.request.json"));
    assert_eq!(request.messages.len(), 3);
    let assistant = &request.messages[1];
    assert_eq!(assistant.role, Role::Assistant);
    let [ContentBlock::Text(text), ContentBlock::ToolUse(call)] = assistant.content.blocks() else {
        panic!("text then tool_use: {assistant:?}")
    };
    assert_eq!(text.text, "Let me check.");
    assert_eq!(
        (call.id.as_str(), call.name.as_str()),
        ("toolu_01", "get_weather")
    );
    assert_eq!(call.input["location"], "Paris");
    let [ContentBlock::ToolResult(result)] = request.messages[2].content.blocks() else {
        panic!("a tool_result: {:?}", request.messages[2])
    };
    assert_eq!(result.tool_use_id, "toolu_01");
    assert_eq!(
        result.content.as_ref().and_then(MessageContent::as_str),
        Some("18 degrees, sunny")
    );
    assert_eq!(result.is_error, None);
    assert_eq!(request.thinking, Some(ThinkingConfig::enabled(1024)));
    assert_eq!(
        (request.temperature, request.top_k, request.top_p),
        (Some(0.2), Some(20), Some(0.9))
    );
    assert_eq!(
        request.metadata.as_ref().and_then(|m| m.user_id.as_deref()),
        Some("u-1")
    );

    let message = response(data!("llama-server/messages_tool_result.json"));
    assert_eq!(message.text(), "19 degrees, sunny<|im_end|>\n");
    assert_eq!(
        (message.usage.input_tokens, message.usage.output_tokens),
        (43, 12)
    );
}

#[test]
fn a_role_llama_cpp_does_not_check() {
    // llama.cpp answers a `robot` turn (LM Studio validates roles strictly).
    let request = request(data!("llama-server/messages_bad_role.request.json"));
    assert_eq!(request.messages[0].role, Role::Other("robot".into()));
    let message = response(data!("llama-server/messages_bad_role.json"));
    assert_eq!(message.stop_reason, Some(StopReason::MaxTokens));
}

#[test]
fn count_tokens() {
    let request = request(data!("llama-server/count_tokens.request.json"));
    assert_eq!(request.max_tokens, None);
    let (name, body) = data!("llama-server/count_tokens.json");
    let count: CountTokensResponse = round_trip(name, body);
    assert_eq!(count.input_tokens, 26);
    // LM Studio's answer to a route it lacks is not a count.
    let unexpected =
        r#"{"error":"Unexpected endpoint or method. (POST /v1/messages/count_tokens)"}"#;
    assert!(serde_json::from_str::<CountTokensResponse>(unexpected).is_err());
}

/// llama.cpp's errors on `/v1/messages` are in the OpenAI shape, not Anthropic's.
fn openai_shaped_error((name, body): (&str, &str)) -> ErrorEnvelope {
    assert!(
        ErrorResponse::from_slice(body.as_bytes()).is_none(),
        "{name}: not Anthropic's shape"
    );
    assert!(
        serde_json::from_str::<MessagesResponse>(body).is_err(),
        "{name}: an error body is not a message"
    );
    ErrorEnvelope::from_slice(body.as_bytes()).unwrap_or_else(|| panic!("{name}: no error"))
}

#[test]
fn errors() {
    let (_, sent) = data!("llama-server/error_missing_messages_500.request.json");
    assert!(serde_json::from_str::<MessagesRequest>(sent).is_err());
    let error = openai_shaped_error(data!("llama-server/error_missing_messages_500.json"));
    assert_eq!(error.message(), "'messages' is required");
    assert_eq!(error.error.kind(), Some("server_error"));
    assert_eq!(error.error.code(), Some(&ErrorCode::Number(500)));

    let (_, sent) = data!("llama-server/error_malformed_400.request.txt");
    assert!(serde_json::from_str::<MessagesRequest>(sent).is_err());
    let error = openai_shaped_error(data!("llama-server/error_malformed_400.json"));
    assert!(
        error
            .message()
            .starts_with("[json.exception.parse_error.101]")
    );
    assert_eq!(error.error.kind(), Some("invalid_request_error"));
    assert_eq!(error.error.code(), Some(&ErrorCode::Number(400)));

    let request = request(data!(
        "llama-server/error_image_unsupported_500.request.json"
    ));
    let [ContentBlock::Image(image), ContentBlock::Text(_)] = request.messages[0].content.blocks()
    else {
        panic!("an image then text: {:?}", request.messages[0])
    };
    let ImageSource::Base64(source) = &image.source else {
        panic!("base64: {:?}", image.source)
    };
    assert_eq!(source.media_type, "image/png");
    assert!(source.data.starts_with("iVBORw0KGgo"));
    let error = openai_shaped_error(data!("llama-server/error_image_unsupported_500.json"));
    assert!(error.message().starts_with("image input is not supported"));
}
