//! Fuzz target: arbitrary bytes into every response type of `lmstudio-proto` never panic, and
//! whatever parses serializes and parses back; error envelopes and tool-call assembly too.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lmstudio_proto::error::ErrorEnvelope;
use lmstudio_proto::lms::{LmsLoadedModel, LmsModel, LmsServerStatus};
use lmstudio_proto::native::{v0, v1};
use lmstudio_proto::openai::{
    ChatCompletionChunk, ChatCompletionResponse, CompletionResponse, EmbeddingResponse, ModelList,
    ToolCallAssembler,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

fuzz_target!(|data: &[u8]| {
    round_trip::<ModelList>(data);
    round_trip::<ChatCompletionResponse>(data);
    round_trip::<ChatCompletionChunk>(data);
    round_trip::<CompletionResponse>(data);
    round_trip::<EmbeddingResponse>(data);
    round_trip::<v0::ModelsResponse>(data);
    round_trip::<v1::ModelsResponse>(data);
    round_trip::<v1::LoadResponse>(data);
    round_trip::<v1::UnloadResponse>(data);
    round_trip::<v1::DownloadStatus>(data);
    round_trip::<v1::ChatResponse>(data);
    round_trip::<v1::ChatStreamEvent>(data);
    round_trip::<Vec<LmsModel>>(data);
    round_trip::<Vec<LmsLoadedModel>>(data);
    round_trip::<LmsServerStatus>(data);
    round_trip::<ErrorEnvelope>(data);

    envelope(data);
    if let Ok(text) = std::str::from_utf8(data) {
        for name in [None, Some("message.delta"), Some("chat.end")] {
            if let Ok(event) = v1::ChatStreamEvent::from_sse(name, text) {
                let _ = event.is_end();
                let _ = serde_json::to_vec(&event);
            }
        }
        assemble(text);
    }
});

/// Parses `T`; what parses must serialize, and the serialized form must parse again.
fn round_trip<T: DeserializeOwned + Serialize>(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<T>(data) else {
        return;
    };
    let bytes = match serde_json::to_vec(&value) {
        Ok(bytes) => bytes,
        Err(e) => panic!(
            "{} parsed but does not serialize: {e}",
            std::any::type_name::<T>()
        ),
    };
    if let Err(e) = serde_json::from_slice::<T>(&bytes) {
        panic!(
            "{} does not parse its own output: {e}\n{}",
            std::any::type_name::<T>(),
            String::from_utf8_lossy(&bytes)
        );
    }
}

/// `ErrorEnvelope::from_slice` never panics, and what it finds is really there.
fn envelope(data: &[u8]) {
    let Some(envelope) = ErrorEnvelope::from_slice(data) else {
        return;
    };
    let _ = envelope.message();
    let _ = envelope.to_string();
    let value: serde_json::Value = match serde_json::from_slice(data) {
        Ok(value) => value,
        Err(e) => panic!("an envelope was found in a body that is not JSON: {e}"),
    };
    assert!(
        value.get("error").is_some_and(|e| !e.is_null()),
        "an envelope without a non-null top-level `error`"
    );
}

/// Each line a chunk: the assembled calls hold no more text than the input gave.
fn assemble(text: &str) {
    let mut assembler = ToolCallAssembler::new();
    for line in text.lines() {
        if let Ok(chunk) = serde_json::from_str::<ChatCompletionChunk>(line) {
            assembler.push_chunk(&chunk);
            assembler.push_delta(&Default::default());
        }
    }
    let started = assembler.len();
    let calls = assembler.into_calls();
    assert_eq!(calls.len(), started);
    let total: usize = calls
        .iter()
        .map(|c| c.id.len() + c.function.name.len() + c.function.arguments.len())
        .sum();
    assert!(
        total <= text.len(),
        "{total} bytes of calls from {} bytes",
        text.len()
    );
}
