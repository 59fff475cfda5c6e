//! The Anthropic Messages API (`POST /v1/messages`) as LM Studio (0.4.1+), llama.cpp's server
//! and Anthropic's own API speak it.
//!
//! - [`MessagesRequest`] -> [`MessagesResponse`] (content [`ContentBlock`]s, [`StopReason`],
//!   [`Usage`] with the cache counts); `POST /v1/messages/count_tokens` -> [`CountTokensResponse`];
//! - with `stream: true`, a series of [`StreamEvent`]s, from which [`MessageAssembler`] builds
//!   the final message (tool inputs joined from their `input_json_delta` pieces);
//! - errors: [`ErrorResponse`] (`{"type":"error","error":{"type":...,"message":...}}`), and
//!   [`StreamEvent::Error`] mid-stream.
//!
//! The same rules as the rest of the crate: unknown fields are kept in `extra`, unknown block,
//! event, delta, tool and tool-choice types are kept whole in `Other`, `null` in an answer
//! reads as absent, and unset request fields are not sent.
//!
//! ```
//! use lmstudio_proto::anthropic::{ContentBlock, InputMessage, MessagesRequest, Tool, ToolChoice};
//! use serde_json::json;
//!
//! let weather = Tool::custom(
//!     "get_weather",
//!     "The weather in a city",
//!     json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
//! );
//! let request = MessagesRequest::new(
//!     "qwen/qwen3-4b",
//!     vec![
//!         InputMessage::user("Weather in Paris?"),
//!         InputMessage::assistant(vec![ContentBlock::tool_use("toolu_1", "get_weather", json!({"city": "Paris"}))]),
//!         InputMessage::user(vec![ContentBlock::tool_result("toolu_1", "18 °C, sunny")]),
//!     ],
//! )
//! .with_max_tokens(512)
//! .with_tools(vec![weather])
//! .with_tool_choice(ToolChoice::auto());
//! let body = serde_json::to_value(&request).unwrap();
//! assert_eq!(body["messages"][2]["content"][0]["type"], "tool_result");
//! assert_eq!(body["tool_choice"], json!({"type": "auto"}));
//! ```

mod assembler;
mod content;
mod error;
mod request;
mod response;
mod stream;

pub use assembler::{AssembleError, MessageAssembler};
pub use content::{
    Base64Source, CacheControl, CacheControlType, ContentBlock, ImageBlock, ImageSource,
    MessageContent, RedactedThinkingBlock, TextBlock, ThinkingBlock, ToolResultBlock, ToolUseBlock,
    UrlSource,
};
pub use error::{ErrorDetail, ErrorResponse, ErrorType};
pub use request::{
    CustomTool, InputMessage, MessagesRequest, Metadata, NamedToolChoice, Role, ThinkingConfig,
    ThinkingDisabled, ThinkingEnabled, Tool, ToolChoice, ToolChoiceOptions,
};
pub use response::{CacheCreation, CountTokensResponse, MessagesResponse, StopReason, Usage};
pub use stream::{
    BareEvent, ContentBlockDeltaEvent, ContentBlockStartEvent, ContentBlockStopEvent, ContentDelta,
    DeltaUsage, ErrorEvent, InputJsonDelta, MessageDelta, MessageDeltaEvent, MessageStartEvent,
    SignatureDelta, StreamEvent, TextDelta, ThinkingDelta,
};
