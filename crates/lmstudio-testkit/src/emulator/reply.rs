//! Building responses: JSON bodies and LM Studio's error bodies (string and object forms).

use std::io;

use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use serde_json::{Value, json};

/// The body type every route answers with.
pub(crate) type Body = BoxBody<Bytes, io::Error>;
/// A response from a route.
pub(crate) type Resp = Response<Body>;

/// The LM Studio documentation link the auth error points at.
const AUTH_DOCS: &str = "https://lmstudio.ai/docs/developer/core/authentication";

/// A JSON response with this status.
pub(crate) fn json(status: u16, value: &Value) -> Resp {
    let bytes = Bytes::from(value.to_string());
    let body = Full::new(bytes).map_err(|never| match never {}).boxed();
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// `{"error": "<message>"}` (the string form LM Studio uses for validation errors).
pub(crate) fn string_error(status: u16, message: &str) -> Resp {
    json(status, &json!({ "error": message }))
}

/// `200 {"error":"Unexpected endpoint or method. (GET /x)"}` (LM Studio answers 200 anyway).
pub(crate) fn unexpected(method: &str, path: &str) -> Resp {
    string_error(
        200,
        &format!("Unexpected endpoint or method. ({method} {path})"),
    )
}

/// The native `/api/v1` error object: `{"error":{"type": kind, "message": message}}`.
pub(crate) fn native_error(status: u16, kind: &str, message: &str) -> Resp {
    json(
        status,
        &json!({ "error": { "type": kind, "message": message } }),
    )
}

/// The native error for a missing required field.
pub(crate) fn native_missing(param: &str) -> Resp {
    json(
        400,
        &json!({ "error": {
            "type": "invalid_request",
            "message": format!("\"{param}\" is required"),
            "code": "missing_required_parameter",
            "param": param,
        }}),
    )
}

/// The OpenAI-style 404 for an unknown model (LM Studio 0.3.5 shape).
pub(crate) fn model_not_found(name: &str, known: &[String]) -> Resp {
    let listing = known.join("\n");
    json(
        404,
        &json!({ "error": {
            "message": format!(
                "Model \"{name}\" not found. Please specify a valid model.\n\nYour models:\n\n{listing}"
            ),
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }}),
    )
}

/// The 404 LM Studio sends when nothing is loaded and JIT cannot help.
pub(crate) fn no_models_loaded() -> Resp {
    json(
        404,
        &json!({ "error": {
            "message": "No models loaded. Please load a model in the developer page or use the 'lms load' command.",
            "type": "invalid_request_error",
            "param": "model",
            "code": null,
        }}),
    )
}

/// The 401 for a missing or wrong API token (documented `invalid_api_key` object).
pub(crate) fn auth_error(had_header: bool) -> Resp {
    let message = if had_header {
        format!(
            "The API token provided in the Authorization header is invalid. Learn more at: {AUTH_DOCS}."
        )
    } else {
        format!(
            "An LM Studio API token is required to make requests to this server, but none was provided using the Authorization header using the 'Bearer' scheme (i.e., 'Authorization: Bearer $LM_API_TOKEN'). Learn more at: {AUTH_DOCS}."
        )
    };
    json(
        401,
        &json!({ "error": {
            "type": "invalid_request",
            "code": "invalid_api_key",
            "message": message,
        }}),
    )
}

/// The body a route got, parsed as a JSON object, or the string error LM Studio sends.
pub(crate) fn parse_object(body: &str) -> Result<serde_json::Map<String, Value>, Box<Resp>> {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Box::new(string_error(
            400,
            "Request body must be a JSON object",
        ))),
        Err(err) => Err(Box::new(string_error(
            400,
            &format!("Received request with invalid JSON: {err}"),
        ))),
    }
}
