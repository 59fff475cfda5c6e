//! `lmstudio-transport`'s integration tests in one binary (one link, not one per file): a module per
//! concern, shared helpers in `support`. See docs/testing.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod bodies;
mod endpoint;
mod errors;
mod json_calls;
mod limits;
mod logging;
mod pool_retry;
mod pool_sharing;
mod sse_decoder;
mod sse_streaming;
mod support;
mod timeouts;
