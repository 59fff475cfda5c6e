//! The OpenAI Responses API (`POST /v1/responses`), as OpenAI, LM Studio (0.3.29+) and
//! llama.cpp's server speak it.
//!
//! - the request: [`ResponsesRequest`] with its [`ResponsesInput`] (text, or [`Item`]s),
//!   [`ResponsesTool`]s (function tools, remote MCP servers, unknown types kept),
//!   [`ResponsesToolChoice`], [`ReasoningConfig`] and [`TextConfig`];
//! - the answer: [`Response`], whose `output` is a list of [`Item`]s (messages, reasoning,
//!   function calls, MCP calls, unknown types kept);
//! - streamed (`stream: true`): named SSE events, each a [`ResponseStreamEvent`], collected
//!   by a [`ResponseAssembler`] (from the deltas) into the answer, or
//!   [`StreamEndedEarly`] when no terminal event came.
//!
//! ```
//! use lmstudio_proto::responses::{Item, Response, ResponsesRequest, ResponsesTool};
//! use serde_json::json;
//!
//! let request = ResponsesRequest::new("m", vec![Item::user("Weather in Paris?")])
//!     .with_tools(vec![ResponsesTool::function(
//!         "get_weather",
//!         "Get the weather for a city",
//!         json!({"type": "object", "properties": {"city": {"type": "string"}}}),
//!     )]);
//! assert_eq!(serde_json::to_value(&request).unwrap()["tools"][0]["name"], "get_weather");
//!
//! let answer: Response = serde_json::from_str(
//!     r#"{"id":"resp_1","status":"completed","output":[{"type":"function_call","id":"fc_1","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"}]}"#,
//! )
//! .unwrap();
//! let call = answer.function_calls()[0];
//! assert_eq!(call.arguments_json().unwrap(), json!({"city": "Paris"}));
//! let next = Item::function_call_output(&call.call_id, "sunny");
//! assert_eq!(serde_json::to_value(&next).unwrap()["type"], "function_call_output");
//! ```

mod assembler;
mod event_types;
mod events;
mod items;
mod parts;
mod request;
mod response;
mod tools;

pub use assembler::{MAX_ITEMS, ResponseAssembler, StreamEndedEarly, TooManyItems};
pub use event_types::{
    ArgumentsDoneEvent, DeltaEvent, ErrorEvent, ItemEvent, PartEvent, ResponseEvent, TextDoneEvent,
};
pub use events::ResponseStreamEvent;
pub use items::{
    FunctionCallItem, FunctionCallOutputItem, Item, ItemStatus, McpCallItem, MessageItem,
    ReasoningItem,
};
pub use parts::{Content, ContentPart, InputImage, OutputText, RefusalPart, TextPart};
pub use request::{
    PlainFormat, ReasoningConfig, ReasoningEffort, ReasoningSummary, ResponsesInput,
    ResponsesRequest, TextConfig, TextFormat,
};
pub use response::{
    IncompleteDetails, InputTokensDetails, OutputTokensDetails, Response, ResponseStatus,
    ResponseUsage, Timestamp,
};
pub use tools::{FunctionTool, McpTool, ResponsesTool, ResponsesToolChoice};
