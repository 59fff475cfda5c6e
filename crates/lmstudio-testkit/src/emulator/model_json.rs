//! The JSON shapes of a model in each listing: `/v1/models`, `/api/v0/models`,
//! `/api/v1/models`, `lms ls --json` and `lms ps --json`.

use serde_json::{Value, json};

use super::catalog::{CatalogModel, ModelKind};
use super::clock;
use super::state::{Entry, Instance};

/// A `/v1/models` entry.
pub(crate) fn openai_model(id: &str) -> Value {
    json!({ "id": id, "object": "model", "owned_by": "organization_owner" })
}

/// An `/api/v0/models` entry.
pub(crate) fn v0_model(entry: &Entry) -> Value {
    let model = &entry.model;
    let kind = match model.kind {
        ModelKind::Embedding => "embeddings",
        ModelKind::Llm if model.vision => "vlm",
        ModelKind::Llm => "llm",
    };
    let mut value = json!({
        "id": model.key,
        "object": "model",
        "type": kind,
        "publisher": model.publisher,
        "arch": model.architecture,
        "compatibility_type": model.format,
        "quantization": model.quantization.as_ref().map(|(name, _)| name.clone()),
        "state": if entry.instances.is_empty() { "not-loaded" } else { "loaded" },
        "max_context_length": model.max_context_length,
    });
    if model.kind == ModelKind::Llm {
        let capabilities: Vec<&str> = model.tool_use.then_some("tool_use").into_iter().collect();
        value["capabilities"] = json!(capabilities);
    }
    if let Some(instance) = entry.instances.first() {
        value["loaded_context_length"] = json!(instance.context_length);
    }
    value
}

fn quantization_v1(model: &CatalogModel) -> Value {
    match &model.quantization {
        Some((name, bits)) => json!({ "name": name, "bits_per_weight": bits }),
        None => Value::Null,
    }
}

fn instance_config(model: &CatalogModel, instance: &Instance) -> Value {
    match model.kind {
        ModelKind::Embedding => json!({ "context_length": instance.context_length }),
        ModelKind::Llm => json!({
            "context_length": instance.context_length,
            "eval_batch_size": instance.eval_batch_size,
            "parallel": instance.parallel,
            "flash_attention": instance.flash_attention,
            "num_experts": 0,
            "offload_kv_cache_to_gpu": true,
        }),
    }
}

/// An `/api/v1/models` entry.
pub(crate) fn v1_model(entry: &Entry) -> Value {
    let model = &entry.model;
    let instances: Vec<Value> = entry
        .instances
        .iter()
        .map(|instance| json!({ "id": instance.id, "config": instance_config(model, instance) }))
        .collect();
    let mut value = json!({
        "type": model.type_str(),
        "publisher": model.publisher,
        "key": model.key,
        "display_name": model.display_name,
        "quantization": quantization_v1(model),
        "size_bytes": model.size_bytes,
        "params_string": model.params_string,
        "loaded_instances": instances,
        "max_context_length": model.max_context_length,
        "format": model.format,
    });
    if model.kind == ModelKind::Llm {
        value["architecture"] = json!(model.architecture);
        let mut capabilities = json!({
            "vision": model.vision,
            "trained_for_tool_use": model.tool_use,
        });
        if model.reasoning {
            capabilities["reasoning"] = json!({
                "allowed_options": ["low", "medium", "high"],
                "default": "medium",
            });
        }
        value["capabilities"] = capabilities;
        value["description"] = Value::Null;
        if !model.variants.is_empty() {
            value["variants"] = json!(model.variants);
            value["selected_variant"] = json!(model.variants[0]);
        }
    }
    value
}

/// An `lms ls --json` entry (camelCase).
pub(crate) fn lms_model(model: &CatalogModel) -> Value {
    let mut value = json!({
        "type": model.type_str(),
        "modelKey": model.key,
        "format": model.format,
        "displayName": model.display_name,
        "publisher": model.publisher,
        "path": model.key,
        "sizeBytes": model.size_bytes,
        "indexedModelIdentifier": model.key,
        "deviceIdentifier": null,
        "paramsString": model.params_string,
        "architecture": model.architecture,
        "quantization": model.quantization.as_ref().map(|(name, bits)| json!({ "name": name, "bits": bits })),
        "maxContextLength": model.max_context_length,
    });
    if !model.variants.is_empty() {
        value["variants"] = json!(model.variants);
        value["selectedVariant"] = json!(model.variants[0]);
    }
    if model.kind == ModelKind::Llm {
        value["vision"] = json!(model.vision);
        value["trainedForToolUse"] = json!(model.tool_use);
    }
    value
}

/// An `lms ps --json` entry: the model plus the instance fields.
pub(crate) fn lms_instance(model: &CatalogModel, instance: &Instance) -> Value {
    let mut value = lms_model(model);
    value["identifier"] = json!(instance.id);
    value["ttlMs"] = json!(
        instance
            .ttl
            .map(|ttl| u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX))
    );
    value["lastUsedTime"] = json!(clock::unix_millis(instance.last_used_wall));
    value["contextLength"] = json!(instance.context_length);
    value["status"] = json!("idle");
    value["queued"] = json!(0);
    value["parallel"] = json!(instance.parallel);
    value
}
