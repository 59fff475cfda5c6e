//! `/api/v1/*` (LM Studio 0.4+): models with loaded instances, load, unload, download with
//! status polling, and the stateful chat with its named stream events.

mod chat;
mod chat_stream;
mod download;
mod load;
mod models;

pub use chat::{
    ChatInput, ChatRequest, ChatResponse, ChatStats, InputItem, InputItemType, Integration,
    IntegrationSpec, IntegrationType, OutputItem, ProviderInfo, TextContent, ToolCallFailure,
    ToolCallInfo,
};
pub use chat_stream::{
    BareEvent, ChatEndEvent, ChatStreamEvent, ErrorEvent, ModelInstanceEvent, ModelLoadEndEvent,
    ProgressEvent,
};
pub use download::{DownloadRequest, DownloadState, DownloadStatus};
pub use load::{LoadRequest, LoadResponse, LoadStatus, UnloadRequest, UnloadResponse};
pub use models::{
    Capabilities, InstanceConfig, LoadedInstance, Model, ModelType, ModelsResponse, Quantization,
    ReasoningCapability, ReasoningSetting,
};
