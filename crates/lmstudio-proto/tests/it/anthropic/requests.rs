//! Requests: a fully populated body round-trips field by field, constructors write minimal
//! JSON, and every tool choice, thinking mode, image source and tool kind reads back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lmstudio_proto::anthropic::{
    CacheControl, CacheControlType, ContentBlock, ImageSource, InputMessage, MessageContent,
    MessagesRequest, Role, ThinkingConfig, Tool, ToolChoice, ToolUseBlock,
};
use serde_json::{Value, json};

use super::data;
use crate::common::nulls::{assert_populated, populated};
use crate::common::round_trip;

#[test]
fn a_fully_populated_request_round_trips() {
    let (name, body) = data!("populated/messages_request.json");
    let (request, serialized) = populated::<MessagesRequest>(name, body);
    assert_populated(name, &request, &serialized);
    round_trip::<MessagesRequest>(name, body);

    assert_eq!(request.max_tokens, Some(1024));
    assert_eq!(
        request.stop_sequences.as_deref(),
        Some(&["\n\nHuman:".to_owned()][..])
    );
    assert_eq!(
        (request.temperature, request.top_p, request.top_k),
        (Some(0.5), Some(0.9), Some(40))
    );
    assert_eq!(request.stream, Some(true));
    assert_eq!(request.extra["service_tier"], "auto");
    let system = request.system.as_ref().unwrap();
    assert_eq!(system.text(), "You are terse.");
    let ContentBlock::Text(system_block) = &system.blocks()[0] else {
        panic!("a text block")
    };
    let cache = system_block.cache_control.as_ref().unwrap();
    assert_eq!(cache.kind, CacheControlType::Ephemeral);
    assert_eq!(cache.ttl.as_deref(), Some("1h"));

    let blocks = request.messages[2].content.blocks();
    let kinds: Vec<&str> = blocks.iter().map(ContentBlock::kind).collect();
    assert_eq!(
        kinds,
        ["tool_result", "image", "image", "image", "document", "text"]
    );
    let sources: Vec<&str> = blocks
        .iter()
        .filter_map(|block| match block {
            ContentBlock::Image(image) => Some(image.source.kind()),
            _ => None,
        })
        .collect();
    assert_eq!(sources, ["base64", "url", "file"]);
    let ContentBlock::Image(url) = &blocks[2] else {
        panic!("an image")
    };
    let ImageSource::Url(url) = &url.source else {
        panic!("a url source")
    };
    assert_eq!(url.url, "https://example.com/a.png");

    let tools = request.tools.as_deref().unwrap();
    let Tool::Custom(custom) = &tools[0] else {
        panic!("a client tool")
    };
    assert_eq!(custom.kind.as_deref(), Some("custom"));
    assert_eq!(custom.extra["strict"], true);
    assert!(matches!(&tools[1], Tool::Other(map) if map["max_uses"] == 5));
    assert_eq!(tools[1].name(), "web_search");
    let Some(ToolChoice::Tool(choice)) = &request.tool_choice else {
        panic!("a named tool choice")
    };
    assert_eq!(choice.name, "get_weather");
    assert_eq!(choice.disable_parallel_tool_use, Some(true));
    let Some(ThinkingConfig::Enabled(thinking)) = &request.thinking else {
        panic!("thinking on")
    };
    assert_eq!(thinking.budget_tokens, 2048);
    assert_eq!(thinking.extra["display"], "summarized");
    assert_eq!(
        request.metadata.as_ref().unwrap().user_id.as_deref(),
        Some("13803d75-b4b5-4c3e-b2a2-6f21399b021b")
    );
}

#[test]
fn constructors_write_minimal_json() {
    let request = MessagesRequest::new(
        "m",
        vec![
            InputMessage::user("hi"),
            InputMessage::assistant(ContentBlock::tool_use("t1", "f", json!({"a": 1}))),
            InputMessage::user(vec![
                ContentBlock::tool_result("t1", "ok"),
                ContentBlock::tool_error("t2", vec![ContentBlock::text("boom")]),
                ContentBlock::image_base64("image/png", "AAAA"),
                ContentBlock::image_url("https://x/y.png"),
            ]),
        ],
    )
    .with_max_tokens(64)
    .with_temperature(0.0)
    .with_stop_sequences(vec!["END".into()])
    .with_tools(vec![Tool::custom("f", "does f", json!({"type": "object"}))])
    .with_tool_choice(ToolChoice::any())
    .with_thinking_budget(1024)
    .with_stream(true);
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({
            "model": "m",
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [
                    {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "ok"},
                    {"type": "tool_result", "tool_use_id": "t2",
                        "content": [{"type": "text", "text": "boom"}], "is_error": true},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
                    {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}]}
            ],
            "max_tokens": 64,
            "stop_sequences": ["END"],
            "temperature": 0.0,
            "tools": [{"name": "f", "description": "does f", "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "any"},
            "thinking": {"type": "enabled", "budget_tokens": 1024},
            "stream": true
        })
    );
    let again: MessagesRequest =
        serde_json::from_str(&serde_json::to_string(&request).unwrap()).unwrap();
    assert_eq!(again, request);
    assert_eq!(
        serde_json::to_string(&MessagesRequest::new("m", vec![])).unwrap(),
        r#"{"model":"m","messages":[]}"#
    );
}

#[test]
fn every_tool_choice_and_thinking_mode_reads_back() {
    for (choice, wire) in [
        (ToolChoice::auto(), json!({"type": "auto"})),
        (ToolChoice::any(), json!({"type": "any"})),
        (ToolChoice::none(), json!({"type": "none"})),
        (
            ToolChoice::tool("get_weather"),
            json!({"type": "tool", "name": "get_weather"}),
        ),
    ] {
        assert_eq!(serde_json::to_value(&choice).unwrap(), wire);
        assert_eq!(serde_json::from_value::<ToolChoice>(wire).unwrap(), choice);
    }
    let choice: ToolChoice =
        serde_json::from_value(json!({"type": "auto", "disable_parallel_tool_use": true})).unwrap();
    let ToolChoice::Auto(options) = &choice else {
        panic!("auto")
    };
    assert_eq!(options.disable_parallel_tool_use, Some(true));
    let unknown: ToolChoice = serde_json::from_value(json!({"type": "required", "x": 1})).unwrap();
    assert_eq!(unknown.kind(), "required");
    assert_eq!(
        serde_json::to_value(&unknown).unwrap(),
        json!({"type": "required", "x": 1})
    );

    for (thinking, wire) in [
        (
            ThinkingConfig::enabled(4096),
            json!({"type": "enabled", "budget_tokens": 4096}),
        ),
        (ThinkingConfig::disabled(), json!({"type": "disabled"})),
    ] {
        assert_eq!(serde_json::to_value(&thinking).unwrap(), wire);
        assert_eq!(
            serde_json::from_value::<ThinkingConfig>(wire).unwrap(),
            thinking
        );
    }
    let adaptive: ThinkingConfig = serde_json::from_value(json!({"type": "adaptive"})).unwrap();
    assert!(matches!(adaptive, ThinkingConfig::Other(_)));
}

#[test]
fn tools_custom_or_typed() {
    let custom: Tool = serde_json::from_value(
        json!({"name": "f", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}}),
    )
    .unwrap();
    let Tool::Custom(tool) = &custom else {
        panic!("a client tool")
    };
    assert_eq!(tool.cache_control, Some(CacheControl::ephemeral()));
    assert_eq!(tool.description, None);
    // A client tool needs its schema; a server tool does not.
    let err = serde_json::from_value::<Tool>(json!({"name": "f"})).unwrap_err();
    assert!(err.to_string().contains("input_schema"), "{err}");
    let bash: Tool =
        serde_json::from_value(json!({"type": "bash_20250124", "name": "bash"})).unwrap();
    assert!(matches!(bash, Tool::Other(_)));
    assert_eq!(
        serde_json::to_value(&bash).unwrap(),
        json!({"type": "bash_20250124", "name": "bash"})
    );
}

#[test]
fn message_content_is_a_string_or_blocks() {
    let text: MessageContent = serde_json::from_value(json!("hello")).unwrap();
    assert_eq!(text.as_str(), Some("hello"));
    assert!(text.blocks().is_empty());
    assert_eq!(text.text(), "hello");
    let blocks: MessageContent = serde_json::from_value(json!([
        {"type": "text", "text": "a"},
        {"type": "image", "source": {"type": "url", "url": "u"}},
        {"type": "text", "text": "b"}
    ]))
    .unwrap();
    assert_eq!(blocks.as_str(), None);
    assert_eq!(blocks.text(), "ab");
    assert_eq!(blocks.blocks().len(), 3);
    for wrong in [json!(7), json!({"type": "text"}), json!(true)] {
        let err = serde_json::from_value::<MessageContent>(wrong).unwrap_err();
        assert!(
            err.to_string()
                .contains("a string or an array of content blocks"),
            "{err}"
        );
    }
    // Roles: `system` carries mid-conversation system instructions (the SDK's
    // `MessageParam.role`); an unknown role is kept.
    for (wire, role) in [
        ("user", Role::User),
        ("assistant", Role::Assistant),
        ("system", Role::System),
        ("developer", Role::Other("developer".into())),
    ] {
        let message: InputMessage =
            serde_json::from_value(json!({"role": wire, "content": "x"})).unwrap();
        assert_eq!(message.role, role);
        assert_eq!(
            serde_json::to_value(&message).unwrap()["role"],
            Value::from(wire)
        );
    }
    assert_eq!(
        serde_json::to_value(InputMessage::new(Role::System, "Be brief.")).unwrap(),
        json!({"role": "system", "content": "Be brief."})
    );
}

#[test]
fn a_tool_use_without_input_reads_as_an_empty_object() {
    for text in [
        r#"{"type":"tool_use","id":"t","name":"now"}"#,
        r#"{"type":"tool_use","id":"t","name":"now","input":null}"#,
        r#"{"id":"t","input":null,"name":"now","type":"tool_use"}"#,
    ] {
        let block: ContentBlock = serde_json::from_str(text).unwrap();
        let call = block.as_tool_use().unwrap();
        assert_eq!(call.input, json!({}), "{text}");
        assert_eq!(
            serde_json::to_value(&block).unwrap(),
            json!({"type": "tool_use", "id": "t", "name": "now", "input": {}}),
            "{text}"
        );
    }
    assert_eq!(ToolUseBlock::default().input, json!({}));
    // Any other input is kept as it came.
    let block: ContentBlock =
        serde_json::from_str(r#"{"type":"tool_use","id":"t","name":"n","input":[1]}"#).unwrap();
    assert_eq!(block.as_tool_use().unwrap().input, json!([1]));
}
