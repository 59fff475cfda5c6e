//! Wire types for OpenAI-compatible servers and LM Studio's native API.
//!
//! This crate is serde types only: no I/O, no HTTP, no policy. Other OpenAI-compatible
//! providers (llama.cpp's server, vLLM, Ollama's `/v1`) can reuse it.
//!
//! - [`openai`]: the OpenAI-compatible `/v1` API (models, chat, streaming chunks, tool-call
//!   assembly, completions, embeddings).
//! - [`anthropic`]: the Anthropic Messages API (`/v1/messages`: requests, answers, stream
//!   events and a message assembler), served by LM Studio 0.4.1+ and llama.cpp.
//! - [`native`]: LM Studio's own REST API, [`native::v0`] (`/api/v0`, 0.3.6+) and
//!   [`native::v1`] (`/api/v1`, 0.4+).
//! - [`responses`]: the OpenAI Responses API (`/v1/responses`): request, items, the
//!   response, stream events and their assembly.
//! - [`lms`]: the JSON the `lms` CLI prints (`ls`, `ps`, `server status`, `runtime survey`).
//! - [`error`]: the `{"error": ...}` envelope any body may carry.
//! - [`numbers`]: reading server numbers safely (seconds as floats into a `Duration`).
//!
//! Conventions every type follows:
//! - enums that servers extend carry an `Other(String)` fallback that round-trips;
//! - unknown fields never fail a parse; requests and main responses keep them in `extra`;
//! - `null` in a response reads as if the key were absent (`None`, empty, zero), so the
//!   `"tool_calls": null` or `"role": null` other servers send never fail a parse;
//! - assistant content (`message.content`, `delta.content`) is a string or an array of parts
//!   (text, thinking, refusal, ...): read it with `text()` and `reasoning()`;
//! - optional request fields are skipped when unset, so minimal requests stay minimal.
//!
//! ```
//! use lmstudio_proto::openai::{ChatCompletionRequest, ChatMessage};
//!
//! let request = ChatCompletionRequest::new("m", vec![ChatMessage::user("hi")]);
//! assert_eq!(
//!     serde_json::to_string(&request).unwrap(),
//!     r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#
//! );
//! ```

#[macro_use]
mod macros;
#[macro_use]
mod extra;
mod nullable;
mod tagged;

pub mod anthropic;
pub mod error;
pub mod lms;
pub mod native;
pub mod numbers;
pub mod openai;
pub mod responses;

// The crate's README examples compile as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadmeExamples;
