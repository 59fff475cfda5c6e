//! `GET /v1/models` from LM Studio (no `created`) and llama.cpp (extras) parse and round-trip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::round_trip;
use lmstudio_proto::openai::{ModelList, ObjectKind};

#[test]
fn lmstudio_list_without_created() {
    let list: ModelList = round_trip(
        "thirdparty_v1_models",
        include_str!("../data/lmstudio/thirdparty_v1_models.json"),
    );
    assert_eq!(list.object, Some(ObjectKind::List));
    assert_eq!(
        list.ids().collect::<Vec<_>>(),
        ["qwen/qwen3.5-9b", "text-embedding-nomic-embed-text-v1.5"]
    );
    assert!(list.data.iter().all(|m| m.created.is_none()));
    assert_eq!(list.data[0].owned_by.as_deref(), Some("organization_owner"));
    assert_eq!(list.data[0].object, Some(ObjectKind::Model));
}

#[test]
fn llama_server_lists_keep_their_extras() {
    for (name, body) in [
        ("models", include_str!("../data/llama-server/models.body")),
        (
            "apikey_models_public",
            include_str!("../data/llama-server/apikey_models_public.body"),
        ),
        (
            "embeddings_server_models",
            include_str!("../data/llama-server/embeddings_server_models.body"),
        ),
        (
            "xllamacpp/models",
            include_str!("../data/llama-server/xllamacpp/models.body"),
        ),
    ] {
        let list: ModelList = round_trip(name, body);
        assert_eq!(list.data.len(), 1, "{name}");
        let model = &list.data[0];
        assert!(model.id.starts_with("gemma-3-270m"), "{name}");
        assert_eq!(model.owned_by.as_deref(), Some("llamacpp"));
        assert!(model.created.is_some(), "{name}");
        assert_eq!(model.extra["meta"]["n_ctx"], 2048, "{name}");
        assert!(
            list.extra["models"].is_array(),
            "{name}: Ollama-style models array kept"
        );
    }
}

#[test]
fn llama_router_list_with_status() {
    let list: ModelList = round_trip(
        "router_models",
        include_str!("../data/llama-server/router_models.body"),
    );
    assert_eq!(
        list.ids().collect::<Vec<_>>(),
        ["gemma-3-270m", "gemma-3-270m-copy"]
    );
    assert_eq!(list.data[0].extra["status"]["value"], "loaded");
    assert_eq!(list.data[1].extra["status"]["value"], "unloaded");
}

#[test]
fn an_error_body_is_not_an_empty_list() {
    let body = include_str!("../data/llama-server/loading_503_models.body");
    assert!(serde_json::from_str::<ModelList>(body).is_err());
}
