//! Test support: an LM Studio emulator, a raw fault server and a fake `lms` CLI.
//!
//! - [`emulator`]: an in-process HTTP/1.1 server that behaves like LM Studio's local server
//!   (0.3.x and 0.4.x profiles, JIT on/off, auth, downloads, loads, chat, streaming,
//!   embeddings, the error quirks). Start one with [`Emulator::builder`].
//! - [`fake_lms`]: the logic of the `fake-lms` binary, which behaves like `lms get/ls/ps/load/
//!   unload/server status|start` against an emulator (`--port` included); [`write_lms_wrapper`]
//!   writes an `lms` script that runs it, [`ServerStartWatcher`] brings a server up when it
//!   runs `server start`, [`recorded_calls`] reads the calls it recorded.
//! - [`fault`]: a raw TCP server that misbehaves on purpose, for transport fault tests.
//! - [`closed_port`]: a port nothing listens on that no concurrent test's server can take.

pub mod emulator;
pub mod fake_lms;
pub mod fault;
mod ports;

pub use emulator::{
    CatalogModel, Emulator, EmulatorBuilder, ModelKind, Profile, ReasoningField, RecordedRequest,
    StreamFault,
};
pub use fake_lms::{
    FakeLmsOptions, ServerStartWatcher, StartAnswer, StartRequest, find_fake_lms_binary,
    recorded_calls, write_lms_wrapper, write_lms_wrapper_with,
};
pub use ports::closed_port;
