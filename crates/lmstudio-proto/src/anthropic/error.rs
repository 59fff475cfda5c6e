//! Anthropic's error shape: `{"type":"error","error":{"type":...,"message":...}}`, as a body
//! and as a stream's `error` event.
//!
//! llama.cpp's `/v1/messages` answers errors in the OpenAI shape instead
//! (`{"error":{"code":500,"message":...,"type":"server_error"}}`); both shapes have a
//! top-level `error` object, so [`ErrorEnvelope`](crate::error::ErrorEnvelope) reads either.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ErrorObject;
use crate::nullable::null_as_default;

open_enum! {
    /// The error's category (`error.type`).
    pub enum ErrorType {
        /// The request is malformed or invalid, HTTP 400 (`"invalid_request_error"`).
        InvalidRequest = "invalid_request_error",
        /// A missing or wrong API key, HTTP 401 (`"authentication_error"`).
        Authentication = "authentication_error",
        /// Billing trouble, HTTP 402 (`"billing_error"`).
        Billing = "billing_error",
        /// The key may not do this, HTTP 403 (`"permission_error"`).
        Permission = "permission_error",
        /// No such resource, HTTP 404 (`"not_found_error"`).
        NotFound = "not_found_error",
        /// The request body is too large, HTTP 413 (`"request_too_large"`).
        RequestTooLarge = "request_too_large",
        /// Rate limited, HTTP 429 (`"rate_limit_error"`).
        RateLimit = "rate_limit_error",
        /// The server failed, HTTP 500 (`"api_error"`).
        Api = "api_error",
        /// The request timed out, HTTP 504 (`"timeout_error"`).
        Timeout = "timeout_error",
        /// The server is overloaded, HTTP 529 (`"overloaded_error"`).
        Overloaded = "overloaded_error",
    }
}

/// The `error` object: its category and message.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorDetail {
    /// The category.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ErrorType>,
    /// What went wrong, for people.
    #[serde(default, deserialize_with = "null_as_default")]
    pub message: String,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ErrorDetail {
    /// The message, else the type, else a fixed placeholder: never empty.
    pub fn message(&self) -> &str {
        Some(self.message.as_str())
            .filter(|m| !m.is_empty())
            .or(self.kind.as_ref().map(ErrorType::as_str))
            .filter(|m| !m.is_empty())
            .unwrap_or("unspecified error")
    }

    /// The category, when given.
    pub fn error_type(&self) -> Option<&ErrorType> {
        self.kind.as_ref()
    }
}

impl From<&ErrorDetail> for ErrorObject {
    /// The error in the shape the other APIs use: `message`, `type` as `kind`, the other
    /// fields in `extra`.
    fn from(detail: &ErrorDetail) -> Self {
        let mut object = ErrorObject {
            message: Some(detail.message.clone()).filter(|m| !m.is_empty()),
            kind: detail.kind.as_ref().map(|kind| kind.as_str().to_owned()),
            ..ErrorObject::default()
        };
        object.extra.clone_from(&detail.extra);
        object
    }
}

impl fmt::Display for ErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Some(kind) if !self.message.is_empty() => write!(f, "{kind}: {}", self.message),
            _ => f.write_str(self.message()),
        }
    }
}

/// An error body: `{"type":"error","error":{...},"request_id"?:...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorResponse {
    /// `error`.
    #[serde(rename = "type", default, deserialize_with = "null_as_default")]
    pub kind: String,
    /// The error.
    pub error: ErrorDetail,
    /// The id of the failed request, for support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ErrorResponse {
    /// An error body of `kind` saying `message`.
    pub fn new(kind: ErrorType, message: impl Into<String>) -> Self {
        Self {
            kind: "error".to_owned(),
            error: ErrorDetail {
                kind: Some(kind),
                message: message.into(),
                extra: Map::new(),
            },
            request_id: None,
            extra: Map::new(),
        }
    }

    /// Reads a body in Anthropic's error shape: `None` unless it is a JSON object whose `type`
    /// is `error` and whose `error` is an object.
    pub fn from_slice(body: &[u8]) -> Option<Self> {
        serde_json::from_slice::<Self>(body)
            .ok()
            .filter(|response| response.kind == "error")
    }

    /// The error's message (never empty, see [`ErrorDetail::message`]).
    pub fn message(&self) -> &str {
        self.error.message()
    }

    /// The error's category, when given.
    pub fn error_type(&self) -> Option<&ErrorType> {
        self.error.error_type()
    }
}

impl fmt::Display for ErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}
