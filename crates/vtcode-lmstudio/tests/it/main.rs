//! `vtcode-lmstudio`'s integration tests in one binary (one link, not one per file): a module per
//! concern, shared helpers in `support`. See docs/testing.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auto_start;
mod downloads;
mod emulator;
mod errors;
mod faults;
mod loaded_context;
mod matrix;
mod messages;
mod messages_emulator;
mod native_chat;
mod readiness;
mod resources;
mod responses;
mod responses_emulator;
mod shared_engine;
mod streaming;
mod streaming_thirdparty;
mod support;
