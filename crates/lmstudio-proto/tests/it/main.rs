//! `lmstudio-proto`'s integration tests in one binary (one link, not one per file): a module per
//! concern, shared helpers in `common`. See docs/testing.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod anthropic;
mod common;
mod completions_embeddings;
mod content_parts;
mod errors;
mod lms_json;
mod lms_survey;
mod native_v0;
mod native_v1;
mod native_v1_stream;
mod nulls;
mod openai_chat;
mod openai_models;
mod openai_stream;
mod responses_llama;
mod responses_openai;
mod thirdparty;
mod tool_calls;
