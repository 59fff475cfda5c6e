//! The OpenAI-compatible API (`/v1/*`) as LM Studio, llama.cpp's server and others speak it.
//!
//! - `GET /v1/models`: [`ModelList`];
//! - `POST /v1/chat/completions`: [`ChatCompletionRequest`] -> [`ChatCompletionResponse`], or
//!   with `stream: true` a series of [`ChatCompletionChunk`] (tool-call fragments assembled by
//!   [`ToolCallAssembler`]);
//! - `POST /v1/completions`: [`CompletionRequest`] -> [`CompletionResponse`];
//! - `POST /v1/embeddings`: [`EmbeddingRequest`] -> [`EmbeddingResponse`].

mod assembler;
mod chunk;
mod completions;
mod embeddings;
mod message;
mod models;
mod object;
mod request;
mod response;
mod tools;
mod usage;

pub use assembler::ToolCallAssembler;
pub use chunk::{ChatCompletionChunk, ChatDelta, ChunkChoice, FunctionCallDelta, ToolCallDelta};
pub use completions::{CompletionChoice, CompletionRequest, CompletionResponse, Prompt};
pub use embeddings::{
    Embedding, EmbeddingInput, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage,
};
pub use message::{
    ChatMessage, ContentPart, ImageUrl, MessageContent, ReasoningPart, Role, ThinkingPart,
};
pub use models::{ModelList, ModelObject};
pub use object::ObjectKind;
pub use request::{
    ChatCompletionRequest, JsonSchemaFormat, ResponseFormat, StopSequences, StreamOptions,
};
pub use response::{AssistantMessage, ChatChoice, ChatCompletionResponse, FinishReason};
pub use tools::{
    FunctionCall, FunctionDefinition, FunctionName, NamedToolChoice, Tool, ToolCall, ToolChoice,
    ToolChoiceMode, ToolType,
};
pub use usage::{CompletionTokensDetails, PromptTokensDetails, Stats, Usage};

// Shared with the Responses API types.
pub(crate) use message::join as join_text;
pub(crate) use tools::string_or_json;
