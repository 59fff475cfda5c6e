//! `cargo xtask real_server` (being written).
