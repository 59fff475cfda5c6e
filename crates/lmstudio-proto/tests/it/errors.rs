//! Error envelopes from fixtures: the string form and the object form, LM Studio and llama.cpp.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lmstudio_proto::error::{ErrorCode, ErrorEnvelope, ErrorField};

fn envelope(name: &str, body: &str) -> ErrorEnvelope {
    let envelope = ErrorEnvelope::from_slice(body.as_bytes())
        .unwrap_or_else(|| panic!("{name}: no error envelope found"));
    let text = serde_json::to_string(&envelope).unwrap();
    let again: ErrorEnvelope = serde_json::from_str(&text).unwrap();
    assert_eq!(again, envelope, "{name}: round trip");
    envelope
}

#[test]
fn lmstudio_string_form() {
    for (name, body, message) in [
        (
            "thirdparty_error_json_object_400",
            include_str!("../data/lmstudio/thirdparty_error_json_object_400.json"),
            "'response_format.type' must be 'json_schema' or 'text'",
        ),
        (
            "thirdparty_error_missing_messages_400",
            include_str!("../data/lmstudio/thirdparty_error_missing_messages_400.json"),
            "'messages' field is required",
        ),
    ] {
        let envelope = envelope(name, body);
        assert!(matches!(envelope.error, ErrorField::Text(_)), "{name}");
        assert_eq!(envelope.message(), message, "{name}");
    }
}

#[test]
fn lmstudio_object_forms() {
    let auth = envelope(
        "thirdparty_error_auth_required",
        include_str!("../data/lmstudio/thirdparty_error_auth_required.json"),
    );
    assert!(
        auth.message()
            .starts_with("An LM Studio API token is required")
    );
    assert_eq!(auth.error.kind(), Some("invalid_request"));
    assert_eq!(
        auth.error.code(),
        Some(&ErrorCode::Text("invalid_api_key".into()))
    );

    let not_found = envelope(
        "thirdparty_error_model_not_found_404_v0_3_5",
        include_str!("../data/lmstudio/thirdparty_error_model_not_found_404_v0_3_5.json"),
    );
    assert!(
        not_found
            .message()
            .starts_with("Model \"local model\" not found.")
    );
    assert_eq!(
        not_found.error.code(),
        Some(&ErrorCode::Text("model_not_found".into()))
    );
    let ErrorField::Object(object) = &not_found.error else {
        panic!("expected the object form")
    };
    assert_eq!(object.param.as_deref(), Some("model"));

    let variant = envelope(
        "reference_v1_load_error_variant_key",
        include_str!("../data/lmstudio/reference_v1_load_error_variant_key.json"),
    );
    assert_eq!(variant.error.kind(), Some("model_not_found"));
    assert_eq!(variant.error.code(), None);

    let none_loaded = envelope(
        "reference_error_no_models_loaded",
        include_str!("../data/lmstudio/reference_error_no_models_loaded.json"),
    );
    assert!(none_loaded.message().starts_with("No models loaded."));
    assert_eq!(none_loaded.error.code(), None, "code: null");
}

#[test]
fn llama_server_object_forms_with_numeric_codes() {
    for (name, body, code, kind) in [
        (
            "apikey_missing_chat",
            include_str!("../data/llama-server/apikey_missing_chat.body"),
            401,
            "authentication_error",
        ),
        (
            "apikey_wrong_chat",
            include_str!("../data/llama-server/apikey_wrong_chat.body"),
            401,
            "authentication_error",
        ),
        (
            "embeddings_noflag",
            include_str!("../data/llama-server/embeddings_noflag.body"),
            501,
            "not_supported_error",
        ),
        (
            "get_on_chat",
            include_str!("../data/llama-server/get_on_chat.body"),
            404,
            "not_found_error",
        ),
        (
            "loading_503_health",
            include_str!("../data/llama-server/loading_503_health.body"),
            503,
            "unavailable_error",
        ),
        (
            "loading_503_models",
            include_str!("../data/llama-server/loading_503_models.body"),
            503,
            "unavailable_error",
        ),
        (
            "malformed_json",
            include_str!("../data/llama-server/malformed_json.body"),
            500,
            "server_error",
        ),
        (
            "missing_messages",
            include_str!("../data/llama-server/missing_messages.body"),
            400,
            "invalid_request_error",
        ),
        (
            "not_found_path",
            include_str!("../data/llama-server/not_found_path.body"),
            404,
            "not_found_error",
        ),
        (
            "router_malformed",
            include_str!("../data/llama-server/router_malformed.body"),
            500,
            "server_error",
        ),
        (
            "router_no_model",
            include_str!("../data/llama-server/router_no_model.body"),
            400,
            "invalid_request_error",
        ),
        (
            "router_unknown_embeddings",
            include_str!("../data/llama-server/router_unknown_embeddings.body"),
            400,
            "invalid_request_error",
        ),
        (
            "router_unknown_model",
            include_str!("../data/llama-server/router_unknown_model.body"),
            400,
            "invalid_request_error",
        ),
        (
            "xllamacpp/get_on_chat",
            include_str!("../data/llama-server/xllamacpp/get_on_chat.body"),
            404,
            "not_found_error",
        ),
        (
            "xllamacpp/malformed_json",
            include_str!("../data/llama-server/xllamacpp/malformed_json.body"),
            400,
            "invalid_request_error",
        ),
        (
            "xllamacpp/missing_messages",
            include_str!("../data/llama-server/xllamacpp/missing_messages.body"),
            400,
            "invalid_request_error",
        ),
        (
            "xllamacpp/not_found_path",
            include_str!("../data/llama-server/xllamacpp/not_found_path.body"),
            404,
            "not_found_error",
        ),
    ] {
        let envelope = envelope(name, body);
        assert_eq!(
            envelope.error.code(),
            Some(&ErrorCode::Number(code)),
            "{name}"
        );
        assert_eq!(envelope.error.kind(), Some(kind), "{name}");
        assert!(!envelope.message().is_empty(), "{name}");
    }
}

#[test]
fn success_fixtures_are_not_errors() {
    for (name, body) in [
        (
            "docs_v1_list_0",
            include_str!("../data/lmstudio/docs_v1_list_0.json"),
        ),
        (
            "thirdparty_v1_models",
            include_str!("../data/lmstudio/thirdparty_v1_models.json"),
        ),
        ("docs_v0_2", include_str!("../data/lmstudio/docs_v0_2.json")),
        ("llama chat", include_str!("../data/llama-server/chat.body")),
    ] {
        assert!(
            ErrorEnvelope::from_slice(body.as_bytes()).is_none(),
            "{name}"
        );
    }
}
