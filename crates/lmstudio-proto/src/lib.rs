//! Wire types for OpenAI-compatible servers and LM Studio's native API.
//!
//! This crate is serde types only: no I/O, no HTTP, no policy. Other OpenAI-compatible
//! providers (llama.cpp's server, vLLM, Ollama's `/v1`) can reuse it.
//!
//! Conventions every type follows:
//! - enums that servers extend carry an `Other(String)` fallback that round-trips;
//! - unknown fields never fail a parse; requests and main responses keep them in `extra`;
//! - optional request fields are skipped when unset, so minimal requests stay minimal.

pub mod error;
