//! `lmstudio-lms`'s integration tests in one binary (one link, not one per file): a module per
//! concern, shared helpers in `common`. See docs/testing.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cancel;
mod common;
mod discovery;
mod estimate_survey;
mod faults_output;
mod get;
mod json_commands;
mod load_unload;
mod port;
mod progress_parse;
mod validation;
