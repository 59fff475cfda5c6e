//! LM Studio's native REST API: [`v0`] (`/api/v0/*`, 0.3.6+) and [`v1`] (`/api/v1/*`, 0.4+).

pub mod v0;
pub mod v1;
