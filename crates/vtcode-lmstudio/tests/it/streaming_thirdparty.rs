//! Streaming chat through the facade, fed with other providers' captures (kept in
//! `lmstudio-proto`'s third-party corpus): Mistral's thinking parts, SGLang's null deltas.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use support::{config_for, unexpected_endpoint};
use vtcode_lmstudio::LMStudioClient;
use vtcode_lmstudio::proto::openai::{ChatCompletionRequest, ChatMessage, FinishReason};

const MISTRAL_THINKING: &str = include_str!(
    "../../../lmstudio-proto/tests/data/thirdparty/mistral/magistral_thinking_stream.sse"
);
const SGLANG_NULL_DELTAS: &str = include_str!(
    "../../../lmstudio-proto/tests/data/thirdparty/sglang/deepseek_v4_parallel_tool_calls.sse"
);

async fn summary_of(body: String) -> vtcode_lmstudio::ChatStreamSummary {
    let mut server = crate::support::server().await;
    server
        .mock("POST", "/v1/chat/completions")
        .with_header("content-type", "text/event-stream")
        .with_body(body)
        .create_async()
        .await;
    server
        .mock("GET", "/api/v1/models")
        .with_body(unexpected_endpoint("GET", "/api/v1/models"))
        .create_async()
        .await;
    let client = LMStudioClient::new(&config_for(&server.url())).unwrap();
    let request = ChatCompletionRequest::new("m", vec![ChatMessage::user("hi")]);
    client
        .chat_stream(request)
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap()
}

#[tokio::test]
async fn mistral_thinking_parts_land_in_the_reasoning_not_the_text() {
    let summary = summary_of(MISTRAL_THINKING.to_owned()).await;
    assert!(
        summary
            .reasoning
            .starts_with("Okay, the user is asking how to cross the street.")
    );
    assert_eq!(summary.reasoning.chars().count(), 421);
    assert!(
        summary
            .content
            .starts_with("To cross the street safely, follow these steps:")
    );
    assert_eq!(summary.content.chars().count(), 607);
    assert_eq!(summary.finish_reason, Some(FinishReason::Stop));
    assert_eq!(summary.usage.unwrap().total_tokens, 242);
}

#[tokio::test]
async fn sglang_null_deltas_still_assemble_two_tool_calls() {
    // The capture keeps one `data:` line per event without the blank line between events (a
    // spec-following reader would join them into one event): put the separators back.
    let summary = summary_of(SGLANG_NULL_DELTAS.replace('\n', "\n\n")).await;
    assert_eq!(summary.content, "I'll get the weather for both cities.\n\n");
    assert!(
        summary
            .reasoning
            .starts_with("The user wants weather in Paris and Tokyo.")
    );
    let names: Vec<&str> = summary
        .tool_calls
        .iter()
        .map(|c| c.function.name.as_str())
        .collect();
    assert_eq!(names, ["get_weather", "get_weather"]);
    assert_eq!(
        summary.tool_calls[1].function.arguments,
        r#"{"city": "Tokyo"}"#
    );
    assert_eq!(summary.finish_reason, Some(FinishReason::ToolCalls));
}
