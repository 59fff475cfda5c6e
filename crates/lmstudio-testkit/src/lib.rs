//! Test support: an LM Studio emulator, a raw fault server and a fake `lms` CLI.
