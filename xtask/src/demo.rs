//! `cargo xtask demo` (being written).
