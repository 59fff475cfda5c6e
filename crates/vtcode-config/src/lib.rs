//! VT Code configuration: `vtcode.toml` plus the environment, resolved into [`VTCodeConfig`].
