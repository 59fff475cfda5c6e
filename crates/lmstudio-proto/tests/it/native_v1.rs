//! `/api/v1/*` fixtures from LM Studio's docs (models, load, unload, download, chat) parse and
//! round-trip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::round_trip;
use lmstudio_proto::native::v1::{
    ChatRequest, ChatResponse, DownloadRequest, DownloadState, DownloadStatus, IntegrationType,
    LoadRequest, LoadResponse, LoadStatus, ModelType, ModelsResponse, OutputItem, ReasoningSetting,
    UnloadRequest, UnloadResponse,
};
use serde_json::json;

#[test]
fn model_list() {
    let list: ModelsResponse = round_trip(
        "docs_v1_list_0",
        include_str!("../data/lmstudio/docs_v1_list_0.json"),
    );
    assert_eq!(list.models.len(), 3);

    let gemma = list.find("google/gemma-4-26b-a4b").unwrap();
    assert!(gemma.is_loaded());
    assert_eq!(
        gemma.instance_ids().collect::<Vec<_>>(),
        ["google/gemma-4-26b-a4b"]
    );
    assert_eq!(gemma.loaded_context_length(), Some(4096));
    let config = &gemma.loaded_instances[0].config;
    assert_eq!(config.parallel, Some(4));
    assert_eq!(config.flash_attention, Some(true));
    assert_eq!(gemma.max_context_length, Some(262_144));
    assert_eq!(gemma.format.as_deref(), Some("gguf"));
    assert_eq!(gemma.variants, ["google/gemma-4-26b-a4b@q4_k_m"]);
    let capabilities = gemma.capabilities.as_ref().unwrap();
    assert!(capabilities.vision && capabilities.trained_for_tool_use);
    let reasoning = capabilities.reasoning.as_ref().unwrap();
    assert_eq!(
        reasoning.allowed_options,
        [ReasoningSetting::Off, ReasoningSetting::On]
    );
    assert_eq!(reasoning.default, Some(ReasoningSetting::On));
    assert_eq!(
        gemma.quantization.as_ref().unwrap().bits_per_weight,
        Some(4.0)
    );

    let deepseek = list.find("deepseek-r1").unwrap();
    assert!(!deepseek.is_loaded());
    assert_eq!(deepseek.instance_ids().count(), 0);
    assert!(deepseek.variants.is_empty());

    let embedding = &list.models[2];
    assert!(embedding.is_embedding());
    assert_eq!(embedding.model_type, Some(ModelType::Embedding));
    assert_eq!(embedding.architecture, None);
    assert_eq!(embedding.params_string, None);
    assert_eq!(embedding.capabilities, None);
}

#[test]
fn an_error_body_is_not_an_empty_model_list() {
    let body = r#"{"error":"Unexpected endpoint or method. (GET /api/v1/models)"}"#;
    assert!(serde_json::from_str::<ModelsResponse>(body).is_err());
}

#[test]
fn load() {
    let request = LoadRequest::new("openai/gpt-oss-20b");
    assert_eq!(
        serde_json::to_string(&request).unwrap(),
        r#"{"model":"openai/gpt-oss-20b"}"#
    );
    let mut request = LoadRequest::new("openai/gpt-oss-20b").with_context_length(16384);
    request.flash_attention = Some(true);
    request.echo_load_config = Some(true);
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({"model":"openai/gpt-oss-20b","context_length":16384,"flash_attention":true,"echo_load_config":true})
    );

    let response: LoadResponse = round_trip(
        "docs_v1_load_0",
        include_str!("../data/lmstudio/docs_v1_load_0.json"),
    );
    assert_eq!(response.instance_id.as_deref(), Some("openai/gpt-oss-20b"));
    assert_eq!(response.status, Some(LoadStatus::Loaded));
    assert_eq!(response.load_time_seconds, Some(9.099));
    assert_eq!(response.model_type, Some(ModelType::Llm));
    let config = response.load_config.as_ref().unwrap();
    assert_eq!(config.context_length, Some(16384));
    assert_eq!(config.num_experts, Some(4));
}

#[test]
fn unload() {
    assert_eq!(
        serde_json::to_string(&UnloadRequest::new("openai/gpt-oss-20b")).unwrap(),
        r#"{"instance_id":"openai/gpt-oss-20b"}"#
    );
    let response: UnloadResponse = round_trip(
        "docs_v1_unload_0",
        include_str!("../data/lmstudio/docs_v1_unload_0.json"),
    );
    assert_eq!(response.instance_id, "openai/gpt-oss-20b");
    let request: UnloadRequest = round_trip(
        "unload request",
        include_str!("../data/lmstudio/docs_v1_unload_0.json"),
    );
    assert_eq!(request.instance_id, "openai/gpt-oss-20b");
}

#[test]
fn download_and_status() {
    assert_eq!(
        serde_json::to_string(&DownloadRequest::new("ibm/granite-4-micro")).unwrap(),
        r#"{"model":"ibm/granite-4-micro"}"#
    );
    let started: DownloadStatus = round_trip(
        "docs_v1_download_0",
        include_str!("../data/lmstudio/docs_v1_download_0.json"),
    );
    assert_eq!(started.job_id.as_deref(), Some("job_493c7c9ded"));
    assert_eq!(started.status, DownloadState::Downloading);
    assert!(!started.status.is_finished());
    assert_eq!(started.total_size_bytes, Some(2_279_145_003));
    assert_eq!(started.fraction(), None);

    let done: DownloadStatus = round_trip(
        "docs_v1_download_status_0",
        include_str!("../data/lmstudio/docs_v1_download_status_0.json"),
    );
    assert_eq!(done.status, DownloadState::Completed);
    assert_eq!(done.fraction(), Some(1.0));
    assert_eq!(
        done.completed_at.as_deref(),
        Some("2025-10-03T15:43:12.102Z")
    );

    let polling: DownloadStatus = round_trip(
        "downloading",
        r#"{"job_id":"j","status":"downloading","total_size_bytes":1000,"downloaded_bytes":250,
            "bytes_per_second":125.5,"estimated_completion":"2025-10-03T15:43:12.102Z"}"#,
    );
    assert_eq!(polling.fraction(), Some(0.25));
    assert_eq!(polling.bytes_per_second, Some(125.5));
    let already: DownloadStatus = round_trip("already", r#"{"status":"already_downloaded"}"#);
    assert_eq!(already.status, DownloadState::AlreadyDownloaded);
}

#[test]
fn chat_with_tool_calls() {
    let response: ChatResponse = round_trip(
        "docs_v1_chat_0",
        include_str!("../data/lmstudio/docs_v1_chat_0.json"),
    );
    assert_eq!(response.model_instance_id, "ibm/granite-4-micro");
    let kinds: Vec<&str> = response.output.iter().map(OutputItem::kind).collect();
    assert_eq!(kinds, ["tool_call", "message", "tool_call", "message"]);
    let OutputItem::ToolCall(call) = &response.output[0] else {
        panic!("expected a tool call")
    };
    assert_eq!(call.tool.as_deref(), Some("model_search"));
    assert_eq!(call.arguments.as_ref().unwrap()["sort"], "trendingScore");
    let provider = call.provider_info.as_ref().unwrap();
    assert_eq!(provider.kind, Some(IntegrationType::EphemeralMcp));
    assert_eq!(provider.server_label.as_deref(), Some("huggingface"));
    let OutputItem::ToolCall(call) = &response.output[2] else {
        panic!("expected a tool call")
    };
    let provider = call.provider_info.as_ref().unwrap();
    assert_eq!(provider.kind, Some(IntegrationType::Plugin));
    assert_eq!(provider.plugin_id.as_deref(), Some("mcp/playwright"));
    let stats = response.stats.as_ref().unwrap();
    assert_eq!(stats.input_tokens, Some(646));
    assert_eq!(stats.model_load_time_seconds, Some(2.656));
    assert!(response.text().starts_with("...**Top Trending Model"));
}

#[test]
fn chat_plain_and_stateful() {
    let response: ChatResponse = round_trip(
        "docs_v1_chat_1",
        include_str!("../data/lmstudio/docs_v1_chat_1.json"),
    );
    assert!(
        response
            .text()
            .starts_with("This image is a solid, vibrant red square")
    );
    assert_eq!(
        response.stats.as_ref().unwrap().model_load_time_seconds,
        None
    );
    assert!(
        response
            .response_id
            .as_deref()
            .unwrap()
            .starts_with("resp_")
    );

    let stateful: ChatResponse = round_trip(
        "docs_stateful_0",
        include_str!("../data/lmstudio/docs_stateful_0.json"),
    );
    assert_eq!(stateful.stats, None);
    assert_eq!(
        stateful.text(),
        "That's great! Blue is a beautiful color..."
    );
}

#[test]
fn chat_request_round_trips() {
    let request: ChatRequest = round_trip(
        "chat request",
        r#"{"model":"qwen/qwen3-vl-4b","input":[{"type":"text","content":"Describe"},
            {"type":"image","data_url":"data:image/png;base64,AAAA"}],
            "integrations":["mcp/playwright",{"type":"ephemeral_mcp","server_label":"huggingface",
            "server_url":"https://huggingface.co/mcp","allowed_tools":["model_search"]}],
            "stream":true,"reasoning":"low","context_length":8000,"store":false,
            "previous_response_id":"resp_1","temperature":0}"#,
    );
    assert_eq!(request.reasoning, Some(ReasoningSetting::Low));
    assert_eq!(request.integrations.as_ref().unwrap().len(), 2);
}
