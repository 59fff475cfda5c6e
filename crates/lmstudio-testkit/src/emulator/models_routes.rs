//! The model listings: `GET /v1/models`, `/api/v0/models`, `/api/v1/models`.

use serde_json::{Value, json};

use super::model_json;
use super::reply::{self, Resp};
use super::{Shared, lock};

/// `GET /v1/models`: every downloaded model with JIT on, only loaded instances with JIT off.
pub(crate) fn openai_models(shared: &Shared) -> Resp {
    let state = lock(shared);
    let data: Vec<Value> = if state.jit {
        state
            .entries
            .iter()
            .filter(|entry| entry.downloaded)
            .map(|entry| model_json::openai_model(&entry.model.key))
            .collect()
    } else {
        state
            .entries
            .iter()
            .flat_map(|entry| entry.instances.iter())
            .map(|instance| model_json::openai_model(&instance.id))
            .collect()
    };
    reply::json(200, &json!({ "data": data, "object": "list" }))
}

/// `GET /api/v0/models`: every downloaded model with its `state`.
pub(crate) fn v0_models(shared: &Shared) -> Resp {
    let state = lock(shared);
    let data: Vec<Value> = state
        .entries
        .iter()
        .filter(|entry| entry.downloaded)
        .map(model_json::v0_model)
        .collect();
    reply::json(200, &json!({ "object": "list", "data": data }))
}

/// `GET /api/v1/models`: every downloaded model with its loaded instances.
pub(crate) fn v1_models(shared: &Shared) -> Resp {
    let state = lock(shared);
    let models: Vec<Value> = state
        .entries
        .iter()
        .filter(|entry| entry.downloaded)
        .map(model_json::v1_model)
        .collect();
    reply::json(200, &json!({ "models": models }))
}
