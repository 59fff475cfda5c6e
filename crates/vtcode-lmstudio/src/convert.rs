//! Conversions from each listing format (`/api/v1`, `/api/v0`, `lms`, `/v1`) into [`ModelInfo`].

use std::collections::HashMap;

use lmstudio_proto::lms::{LmsLoadedModel, LmsModel};
use lmstudio_proto::native::{v0, v1};
use lmstudio_proto::openai::ModelObject;

use crate::catalog::{LoadedInstanceInfo, ModelInfo, ModelKind, ModelState, ReasoningOptions};
use crate::numbers;

/// One `/api/v1/models` entry.
pub(crate) fn from_v1(model: &v1::Model) -> ModelInfo {
    let mut info = ModelInfo::new(&model.key);
    info.kind = model
        .model_type
        .as_ref()
        .map_or(ModelKind::Unknown, |t| ModelKind::from_wire(t.as_str()));
    if info.kind == ModelKind::Llm
        && model
            .capabilities
            .as_ref()
            .is_some_and(|capabilities| capabilities.vision)
    {
        info.kind = ModelKind::Vlm;
    }
    info.display_name.clone_from(&model.display_name);
    info.publisher.clone_from(&model.publisher);
    info.loaded_instances = model
        .loaded_instances
        .iter()
        .map(|instance| LoadedInstanceInfo {
            context_length: instance.config.context_length,
            parallel: instance.config.parallel,
            // `/api/v1/models` says nothing of TTLs or LM Link devices.
            ..LoadedInstanceInfo::new(&instance.id)
        })
        .collect();
    info.state = if info.loaded_instances.is_empty() {
        ModelState::NotLoaded
    } else {
        ModelState::Loaded
    };
    info.max_context_length = model.max_context_length;
    info.loaded_context_length = model.loaded_context_length();
    info.size_bytes = model.size_bytes;
    info.quantization = model.quantization.as_ref().and_then(|q| q.name.clone());
    info.format.clone_from(&model.format);
    info.architecture.clone_from(&model.architecture);
    if let Some(capabilities) = &model.capabilities {
        info.capabilities.vision = capabilities.vision;
        info.capabilities.tool_use = capabilities.trained_for_tool_use;
        info.capabilities.reasoning = capabilities.reasoning.as_ref().map(|r| ReasoningOptions {
            allowed: r
                .allowed_options
                .iter()
                .map(|o| o.as_str().to_owned())
                .collect(),
            default: r.default.as_ref().map(|d| d.as_str().to_owned()),
        });
        // Capabilities this crate does not model, when the server sends them as `true`.
        for (name, value) in &capabilities.extra {
            if value.as_bool() == Some(true) {
                info.capabilities.add_named(name);
            }
        }
    }
    info.variants.clone_from(&model.variants);
    info.selected_variant.clone_from(&model.selected_variant);
    info
}

/// One `/api/v0/models` entry. A loaded v0 model counts as one instance named by its id.
pub(crate) fn from_v0(model: &v0::Model) -> ModelInfo {
    let mut info = ModelInfo::new(&model.id);
    info.kind = model
        .model_type
        .as_ref()
        .map_or(ModelKind::Unknown, |t| ModelKind::from_wire(t.as_str()));
    info.publisher.clone_from(&model.publisher);
    info.state = match &model.state {
        Some(v0::ModelState::Loaded) => ModelState::Loaded,
        Some(v0::ModelState::NotLoaded) => ModelState::NotLoaded,
        Some(v0::ModelState::Loading) => ModelState::Loading,
        Some(_) | None => ModelState::Unknown,
    };
    if info.state == ModelState::Loaded {
        info.loaded_instances.push(LoadedInstanceInfo {
            context_length: model.loaded_context_length,
            ..LoadedInstanceInfo::new(&model.id)
        });
    }
    info.max_context_length = model.max_context_length;
    info.loaded_context_length = model.loaded_context_length;
    info.quantization.clone_from(&model.quantization);
    info.format.clone_from(&model.compatibility_type);
    info.architecture.clone_from(&model.arch);
    for name in &model.capabilities {
        info.capabilities.add_named(name);
    }
    info
}

/// One `/v1/models` entry: only the id is known.
pub(crate) fn from_openai(model: &ModelObject) -> ModelInfo {
    let mut info = ModelInfo::new(&model.id);
    info.publisher = model
        .owned_by
        .clone()
        .filter(|owner| owner != "organization_owner");
    info
}

/// `lms ls --json` joined with `lms ps --json`.
///
/// Loaded instances are attached to their model by key; an instance whose model is missing
/// from `ls` (a race between the two calls) still yields an entry.
/// The join is linear in the number of rows (keys are indexed; a repeated key attaches to its
/// first model), so a huge listing cannot make it quadratic.
pub(crate) fn from_lms(downloaded: &[LmsModel], loaded: &[LmsLoadedModel]) -> Vec<ModelInfo> {
    let mut models: Vec<ModelInfo> = downloaded.iter().map(from_lms_model).collect();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (position, model) in models.iter().enumerate() {
        index.entry(model.key.clone()).or_insert(position);
    }
    for instance in loaded {
        let key = &instance.model.model_key;
        let position = match index.get(key) {
            Some(position) => *position,
            None => {
                models.push(from_lms_model(&instance.model));
                index.insert(key.clone(), models.len() - 1);
                models.len() - 1
            }
        };
        let Some(model) = models.get_mut(position) else {
            continue;
        };
        model.loaded_instances.push(LoadedInstanceInfo {
            id: instance.instance_id().to_owned(),
            context_length: instance.context_length,
            ttl: numbers::ttl_from_millis(instance.ttl_ms),
            parallel: instance.parallel,
            device: instance.model.device_identifier.clone(),
        });
        model.state = ModelState::Loaded;
        if model.loaded_context_length.is_none() {
            model.loaded_context_length = instance.context_length;
        }
    }
    models
}

fn from_lms_model(model: &LmsModel) -> ModelInfo {
    let mut info = ModelInfo::new(&model.model_key);
    info.kind = model
        .model_type
        .as_ref()
        .map_or(ModelKind::Unknown, |t| ModelKind::from_wire(t.as_str()));
    if info.kind == ModelKind::Llm && model.vision == Some(true) {
        info.kind = ModelKind::Vlm;
    }
    info.display_name.clone_from(&model.display_name);
    info.publisher.clone_from(&model.publisher);
    info.state = ModelState::NotLoaded;
    info.max_context_length = model.max_context_length;
    info.size_bytes = model.size_bytes;
    info.quantization = model.quantization.as_ref().and_then(|q| q.name.clone());
    info.format.clone_from(&model.format);
    info.architecture.clone_from(&model.architecture);
    info.capabilities.tool_use = model.trained_for_tool_use == Some(true);
    info.capabilities.vision = model.vision == Some(true);
    info.variants.clone_from(&model.variants);
    info.selected_variant.clone_from(&model.selected_variant);
    info.device.clone_from(&model.device_identifier);
    info
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn capabilities_are_typed_from_every_listing() {
        let v1: v1::Model = serde_json::from_str(
            r#"{"type":"llm","key":"openai/gpt-oss-20b","loaded_instances":[],
                "capabilities":{"vision":false,"trained_for_tool_use":true,
                  "reasoning":{"allowed_options":["low","medium","high"],"default":"medium"},
                  "audio":true,"video":false}}"#,
        )
        .unwrap();
        let caps = from_v1(&v1).capabilities;
        assert!(caps.tool_use && !caps.vision);
        let reasoning = caps.reasoning.as_ref().expect("reasoning");
        assert_eq!(reasoning.allowed, ["low", "medium", "high"]);
        assert_eq!(reasoning.default.as_deref(), Some("medium"));
        assert_eq!(
            caps.other,
            ["audio"],
            "unknown capabilities that are true are kept"
        );
        assert!(caps.has("audio") && !caps.has("video"));

        let v0: v0::Model = serde_json::from_str(
            r#"{"id":"qwen2-vl","type":"vlm","state":"not-loaded","capabilities":["tool_use","vision","speculative"]}"#,
        )
        .unwrap();
        let caps = from_v0(&v0).capabilities;
        assert!(caps.tool_use && caps.vision && caps.reasoning.is_none());
        assert_eq!(caps.other, ["speculative"]);

        let lms: LmsModel = serde_json::from_str(
            r#"{"type":"llm","modelKey":"qwen/qwen3-4b","trainedForToolUse":true,"vision":false}"#,
        )
        .unwrap();
        let caps = from_lms(&[lms], &[])[0].capabilities.clone();
        assert!(caps.tool_use && !caps.vision);
    }

    #[test]
    fn v1_model_with_two_instances() {
        let model: v1::Model = serde_json::from_str(
            r#"{"type":"llm","key":"openai/gpt-oss-20b","publisher":"openai",
                "loaded_instances":[{"id":"openai/gpt-oss-20b","config":{"context_length":8192}},
                                    {"id":"openai/gpt-oss-20b:2","config":{"context_length":4096}}],
                "max_context_length":131072,"quantization":{"name":"MXFP4","bits_per_weight":4},
                "capabilities":{"vision":false,"trained_for_tool_use":true}}"#,
        )
        .unwrap();
        let info = from_v1(&model);
        assert_eq!(info.kind, ModelKind::Llm);
        assert_eq!(info.state, ModelState::Loaded);
        assert_eq!(info.loaded_instances.len(), 2);
        assert_eq!(info.request_id(), "openai/gpt-oss-20b");
        assert_eq!(info.loaded_context_length, Some(8192));
        assert_eq!(info.quantization.as_deref(), Some("MXFP4"));
        assert!(info.capabilities.tool_use && !info.capabilities.vision);
        assert!(info.capabilities.has("tool_use"));
    }

    #[test]
    fn v0_loaded_model_becomes_one_instance() {
        let model: v0::Model = serde_json::from_str(
            r#"{"id":"qwen","type":"embeddings","state":"loaded","loaded_context_length":2048}"#,
        )
        .unwrap();
        let info = from_v0(&model);
        assert!(info.is_embedding());
        assert_eq!(info.loaded_instances[0].id, "qwen");
        assert_eq!(info.loaded_instances[0].context_length, Some(2048));
        let model: v0::Model = serde_json::from_str(r#"{"id":"q","state":"not-loaded"}"#).unwrap();
        assert!(!from_v0(&model).is_loaded());
    }

    #[test]
    fn lms_instances_attach_to_their_model() {
        let downloaded: Vec<LmsModel> = serde_json::from_str(
            r#"[{"type":"llm","modelKey":"a"},{"type":"embedding","modelKey":"b"}]"#,
        )
        .unwrap();
        let loaded: Vec<LmsLoadedModel> = serde_json::from_str(
            r#"[{"modelKey":"a","identifier":"a:2","contextLength":4096,"ttlMs":60000,
                 "deviceIdentifier":"mac-studio"},
                {"modelKey":"c","identifier":"c","deviceIdentifier":null}]"#,
        )
        .unwrap();
        let models = from_lms(&downloaded, &loaded);
        assert_eq!(models.len(), 3);
        assert_eq!(models[0].request_id(), "a:2");
        assert_eq!(
            models[0].loaded_instances[0].ttl,
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            models[0].loaded_instances[0].device.as_deref(),
            Some("mac-studio")
        );
        assert_eq!(models[2].loaded_instances[0].device, None);
        assert_eq!(models[1].state, ModelState::NotLoaded);
        assert!(models[2].is_loaded());
    }

    #[test]
    fn openai_entry_hides_lm_studio_owner() {
        let model: ModelObject =
            serde_json::from_str(r#"{"id":"m","owned_by":"organization_owner"}"#).unwrap();
        assert_eq!(from_openai(&model).publisher, None);
    }

    /// `lms ps` rows are joined to `lms ls` rows by an index, so 100 000 of each (a hostile
    /// or broken `lms`) join in milliseconds, not the minutes a quadratic join would take.
    /// (No time is asserted: this checks the join at that scale.)
    #[test]
    fn a_hundred_thousand_lms_rows_join_in_linear_time() {
        let model = |key: String| {
            let mut model = LmsModel::default();
            model.model_key = key;
            model
        };
        let downloaded: Vec<LmsModel> = (0..100_000).map(|i| model(format!("m/{i}"))).collect();
        let loaded: Vec<LmsLoadedModel> = (0..100_000)
            .map(|i| {
                let mut row = LmsLoadedModel::default();
                row.ttl_ms = Some(u64::MAX);
                row.model = model(format!("m/{}", 99_999 - i));
                row
            })
            .collect();
        let models = from_lms(&downloaded, &loaded);
        assert_eq!(models.len(), 100_000);
        assert!(models.iter().all(|m| m.loaded_instances.len() == 1));
        assert_eq!(
            models[0].loaded_instances[0].ttl,
            Some(Duration::from_millis(u64::MAX))
        );
    }
}
