//! `lmstudio-testkit`'s integration tests in one binary (one link, not one per file): a module per
//! concern, shared helpers in `support`. See docs/testing.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod chat;
mod downloads;
mod fake_lms;
mod fake_lms_resources;
mod fake_lms_start;
mod fixtures_native;
mod fixtures_openai;
mod inference;
mod jit;
mod load;
mod messages;
mod profiles;
mod responses;
mod streaming;
mod support;
