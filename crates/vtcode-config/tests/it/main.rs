//! `vtcode-config`'s integration tests in one binary (one link, not one per file): a module per
//! concern, shared helpers in `support`. See docs/testing.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod env_precedence;
mod errors;
mod load;
mod secrets;
mod support;
