//! The error envelope servers put in a body: `{"error": "text"}` or `{"error": {...}}`.
//!
//! LM Studio answers unknown routes with HTTP 200 and `{"error":"Unexpected endpoint or
//! method. (GET /x)"}`, uses the OpenAI object form for model errors, and the string form for
//! validation errors; llama.cpp's server uses the object form with a numeric `code`. Check
//! every body, whatever its status, with [`ErrorEnvelope::from_slice`].

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A response body whose top-level `error` field is present.
///
/// Any other top-level fields are kept in [`ErrorEnvelope::extra`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorEnvelope {
    /// The `error` field itself.
    pub error: ErrorField,
    /// Other top-level fields sent beside `error` (kept so nothing is lost).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ErrorEnvelope {
    /// Looks for a top-level `error` field in a JSON body.
    ///
    /// Returns `None` when the body is not a JSON object, has no `error` field, or its
    /// `error` is `null` (some servers send `"error": null` on success). A body whose `error`
    /// is neither a string nor an object is reported with its JSON text as the message.
    pub fn from_slice(body: &[u8]) -> Option<Self> {
        // Cheap pre-check: most successful bodies never mention the key at all.
        if !contains_error_key(body) {
            return None;
        }
        let probe: Probe = serde_json::from_slice(body).ok()?;
        let error = match probe.error? {
            Value::Null => return None,
            Value::String(text) => ErrorField::Text(text),
            value @ Value::Object(_) => {
                match serde_json::from_value::<ErrorObject>(value.clone()) {
                    Ok(object) => ErrorField::Object(object),
                    Err(_) => ErrorField::Text(value.to_string()),
                }
            }
            other => ErrorField::Text(other.to_string()),
        };
        Some(Self {
            error,
            extra: probe.extra,
        })
    }

    /// The human-readable message: the text, or the object's `message` (else its `type`).
    pub fn message(&self) -> &str {
        self.error.message()
    }
}

impl fmt::Display for ErrorEnvelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    error: Option<Value>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

fn contains_error_key(body: &[u8]) -> bool {
    const KEY: &[u8] = b"\"error\"";
    body.windows(KEY.len()).any(|window| window == KEY)
}

/// The `error` field: servers send either a plain string or a structured object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ErrorField {
    /// `{"error": "'messages' field is required"}`.
    Text(String),
    /// `{"error": {"message": ..., "type": ..., "param": ..., "code": ...}}`.
    Object(ErrorObject),
}

impl ErrorField {
    /// The human-readable message of this error.
    pub fn message(&self) -> &str {
        match self {
            Self::Text(text) => text,
            Self::Object(object) => object.message(),
        }
    }

    /// The error's `type` (object form only), e.g. `invalid_request_error`.
    pub fn kind(&self) -> Option<&str> {
        match self {
            Self::Text(_) => None,
            Self::Object(object) => object.kind.as_deref(),
        }
    }

    /// The error's `code` (object form only), e.g. `model_not_found` or `401`.
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            Self::Text(_) => None,
            Self::Object(object) => object.code.as_ref(),
        }
    }
}

impl fmt::Display for ErrorField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// The object form of an error. Every field is optional; unknown fields are kept.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorObject {
    /// What went wrong, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The error category, e.g. `invalid_request_error`, `model_not_found`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The request parameter at fault, e.g. `model`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// A machine-readable code: a string (`invalid_api_key`) or a number (llama.cpp: `401`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<ErrorCode>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ErrorObject {
    /// The message, else the type, else a fixed placeholder: never empty.
    pub fn message(&self) -> &str {
        self.message
            .as_deref()
            .filter(|m| !m.is_empty())
            .or(self.kind.as_deref())
            .unwrap_or("unspecified error")
    }
}

/// An error `code`: servers send strings or numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A numeric code (llama.cpp echoes the HTTP status here).
    Number(i64),
    /// A string code such as `model_not_found`.
    Text(String),
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Text(t) => f.write_str(t),
        }
    }
}

/// An `error` field's value as an error object, whatever it holds: a string is the message,
/// an object of the error shape is itself, anything else (`42`, an object whose `message` is
/// not a string) is reported with its JSON text as the message, as
/// [`ErrorEnvelope::from_slice`] does.
pub(crate) fn error_object_from_value(value: &Value) -> ErrorObject {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Object(_) => match ErrorObject::deserialize(value) {
            Ok(object) => return object,
            Err(_) => value.to_string(),
        },
        other => other.to_string(),
    };
    ErrorObject {
        message: Some(text),
        ..ErrorObject::default()
    }
}

/// Reads an optional `error` field leniently (see [`error_object_from_value`]): `null` or
/// absent is `None`, and no value is a parse error.
pub(crate) fn lenient_error<'de, D>(deserializer: D) -> Result<Option<ErrorObject>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(Option::<Value>::deserialize(deserializer)?
        .filter(|value| !value.is_null())
        .map(|value| error_object_from_value(&value)))
}

impl ErrorObject {
    /// Fills this error's missing `message` (absent or empty), `type`, `code` and `param`
    /// from `flat`: the fields an error event sends beside (or instead of) a nested `error`.
    pub(crate) fn fill_gaps(&mut self, flat: ErrorObject) {
        if self.message.as_deref().is_none_or(str::is_empty) {
            self.message = flat.message;
        }
        if self.kind.is_none() {
            self.kind = flat.kind;
        }
        if self.code.is_none() {
            self.code = flat.code;
        }
        if self.param.is_none() {
            self.param = flat.param;
        }
    }
}

/// The error a stream event's data reports when it is an error body rather than an event:
/// `{"error": ...}` (OpenAI's shape, which llama.cpp sends inside streams; an `error` value
/// that fits no error shape is reported with its JSON text), or a flat object
/// with a string `message` beside a `code` or an error `type` (the bare
/// `{"code":500,"message":"...","type":"server_error"}` LM Studio has sent mid-stream). A flat
/// object whose `type` starts with `event_prefix` is an event of the protocol, not an error.
pub(crate) fn error_in_event(
    map: &Map<String, Value>,
    event_prefix: Option<&str>,
) -> Option<ErrorObject> {
    if let Some(error) = map.get("error").filter(|e| !e.is_null()) {
        return Some(error_object_from_value(error));
    }
    let kind = map.get("type").and_then(Value::as_str);
    if let (Some(kind), Some(prefix)) = (kind, event_prefix)
        && kind.starts_with(prefix)
    {
        return None;
    }
    let message = map.get("message").and_then(Value::as_str)?;
    let looks_like_error = map.contains_key("code") || kind.is_some_and(|k| k.contains("error"));
    if !looks_like_error {
        return None;
    }
    serde_json::from_value::<ErrorObject>(Value::Object(map.clone()))
        .ok()
        .or_else(|| {
            Some(ErrorObject {
                message: Some(message.to_owned()),
                ..ErrorObject::default()
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_form_on_a_200_unknown_route() {
        let body = br#"{"error":"Unexpected endpoint or method. (GET /api/v1/models)"}"#;
        let envelope = ErrorEnvelope::from_slice(body).expect("an error");
        assert_eq!(
            envelope.message(),
            "Unexpected endpoint or method. (GET /api/v1/models)"
        );
        assert_eq!(envelope.error.kind(), None);
    }

    #[test]
    fn object_form_with_all_fields() {
        let body = br#"{"error":{"message":"Model \"x\" not found.","type":"invalid_request_error","param":"model","code":"model_not_found"}}"#;
        let envelope = ErrorEnvelope::from_slice(body).expect("an error");
        assert_eq!(envelope.message(), "Model \"x\" not found.");
        assert_eq!(envelope.error.kind(), Some("invalid_request_error"));
        assert_eq!(
            envelope.error.code(),
            Some(&ErrorCode::Text("model_not_found".into()))
        );
    }

    #[test]
    fn llama_cpp_numeric_code_and_missing_message() {
        let body = br#"{"error":{"code":401,"type":"authentication_error"}}"#;
        let envelope = ErrorEnvelope::from_slice(body).expect("an error");
        assert_eq!(envelope.error.code(), Some(&ErrorCode::Number(401)));
        assert_eq!(envelope.message(), "authentication_error");
    }

    #[test]
    fn success_bodies_and_null_errors_are_not_errors() {
        assert!(ErrorEnvelope::from_slice(br#"{"data":[],"object":"list"}"#).is_none());
        assert!(ErrorEnvelope::from_slice(br#"{"error":null,"ok":true}"#).is_none());
        assert!(ErrorEnvelope::from_slice(b"not json \"error\"").is_none());
        // A nested "error" key is not the envelope.
        assert!(ErrorEnvelope::from_slice(br#"{"data":{"error":"x"}}"#).is_none());
    }

    #[test]
    fn odd_error_values_keep_their_text_and_extra_fields() {
        let envelope =
            ErrorEnvelope::from_slice(br#"{"error":["a",1],"status":"failed"}"#).expect("error");
        assert_eq!(envelope.message(), r#"["a",1]"#);
        assert_eq!(envelope.extra.get("status"), Some(&Value::from("failed")));
    }

    #[test]
    fn object_form_round_trips_unknown_fields() {
        let body = r#"{"error":{"message":"m","type":"t","retry_after":3}}"#;
        let envelope: ErrorEnvelope = serde_json::from_str(body).expect("parse");
        let again: ErrorEnvelope =
            serde_json::from_str(&serde_json::to_string(&envelope).expect("serialize"))
                .expect("reparse");
        assert_eq!(envelope, again);
        match &again.error {
            ErrorField::Object(object) => {
                assert_eq!(object.extra.get("retry_after"), Some(&Value::from(3)))
            }
            ErrorField::Text(_) => panic!("expected the object form"),
        }
    }

    #[test]
    fn an_error_in_an_event_that_fits_no_shape_is_its_json_text() {
        for (data, text) in [
            (r#"{"error":42}"#, "42"),
            (r#"{"error":{"message":{"a":1}}}"#, r#"{"message":{"a":1}}"#),
            (r#"{"error":"plain"}"#, "plain"),
        ] {
            let map: Map<String, Value> = serde_json::from_str(data).expect("an object");
            let error = error_in_event(&map, None).expect("an error");
            assert_eq!(error.message(), text, "{data}");
        }
    }
}
