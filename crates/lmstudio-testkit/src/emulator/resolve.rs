//! Which loaded instance serves an inference request, JIT-loading it when LM Studio would.
//!
//! LM Studio's rules, in order: an exact instance id; a downloaded model's first instance; a
//! downloaded but unloaded model is JIT-loaded when JIT is on; and (a quirk) whatever the
//! request names, a server with exactly one loaded instance answers with it.

use std::time::Duration;

use super::catalog::CatalogModel;
use super::reply::{self, Resp};
use super::state::{LoadSpec, State};
use super::{Shared, lock};

/// The instance that serves a request.
#[derive(Clone, Debug)]
pub(crate) struct Served {
    /// The instance id (the response's `model`).
    pub(crate) instance_id: String,
    /// The loaded context length.
    pub(crate) context_length: u32,
    /// The model behind it.
    pub(crate) model: CatalogModel,
}

enum Decision {
    Serve(Served),
    JitLoad { key: String, delay: Duration },
    Fail(Resp),
}

/// Finds (or JIT-loads) the instance for `name`, or the error LM Studio would answer.
pub(crate) async fn resolve(shared: &Shared, name: &str, ttl: Option<u64>) -> Result<Served, Resp> {
    let decision = decide(&mut lock(shared), name);
    match decision {
        Decision::Serve(served) => Ok(served),
        Decision::Fail(response) => Err(response),
        Decision::JitLoad { key, delay } => {
            super::load_pause(shared, delay).await;
            finish_jit_load(&mut lock(shared), &key, ttl).map_err(|failure| match failure {
                JitFailure::Vanished => reply::no_models_loaded(),
                JitFailure::Refused(message) => reply::string_error(404, &message),
            })
        }
    }
}

/// Why a just-in-time load could not finish.
pub(crate) enum JitFailure {
    /// The instance disappeared right after it was created.
    Vanished,
    /// The state refused the load (unknown or not downloaded model).
    Refused(String),
}

/// Ends a JIT load whose delay has passed: the first instance of `key` if one appeared in the
/// meantime, else a new JIT instance.
pub(crate) fn finish_jit_load(
    state: &mut State,
    key: &str,
    ttl: Option<u64>,
) -> Result<Served, JitFailure> {
    if let Some(served) = first_instance(state, key) {
        return Ok(served);
    }
    let spec = LoadSpec {
        ttl: ttl.map(Duration::from_secs),
        jit: true,
        ..LoadSpec::default()
    };
    match state.create_instance(key, &spec) {
        Ok(id) => served_by(state, &id).ok_or(JitFailure::Vanished),
        Err(message) => Err(JitFailure::Refused(message)),
    }
}

/// What the native `/api/v1/chat` needs before it can answer.
pub(crate) enum NativeTarget {
    /// An instance serves the request now.
    Ready(Box<Served>),
    /// The model is downloaded but not loaded and JIT is on: load `key` first.
    Load {
        /// The catalog key to load.
        key: String,
        /// How long the load takes.
        delay: Duration,
    },
    /// Nothing can answer: the message for a `model_not_found` error.
    Missing(String),
}

/// Finds the instance for a native chat (no "single loaded model answers anything" quirk: the
/// native API names the model it serves).
pub(crate) fn decide_native(state: &mut State, name: &str) -> NativeTarget {
    if let Some(served) = served_by(state, name) {
        state.touch(name);
        return NativeTarget::Ready(Box::new(served));
    }
    let downloaded = state
        .find_entry(name)
        .filter(|&index| state.entries[index].downloaded);
    let Some(index) = downloaded else {
        return NativeTarget::Missing(format!("Model '{name}' not found"));
    };
    let key = state.entries[index].model.key.clone();
    if let Some(served) = first_instance(state, &key) {
        state.touch(&served.instance_id);
        return NativeTarget::Ready(Box::new(served));
    }
    if state.jit {
        return NativeTarget::Load {
            key,
            delay: state.load_delay,
        };
    }
    NativeTarget::Missing(format!(
        "Model '{key}' is not loaded and just-in-time loading is off"
    ))
}

fn decide(state: &mut State, name: &str) -> Decision {
    if let Some(served) = served_by(state, name) {
        state.touch(name);
        return Decision::Serve(served);
    }
    let all = state.all_instances();
    let only = (all.len() == 1).then(|| {
        let (e, i) = all[0];
        state.entries[e].instances[i].id.clone()
    });
    let downloaded = state
        .find_entry(name)
        .filter(|&index| state.entries[index].downloaded);
    if let Some(index) = downloaded {
        let key = state.entries[index].model.key.clone();
        if let Some(served) = first_instance(state, &key) {
            state.touch(&served.instance_id);
            return Decision::Serve(served);
        }
        if state.jit {
            return Decision::JitLoad {
                key,
                delay: state.load_delay,
            };
        }
    }
    if let Some(id) = only {
        // LM Studio answers with the single loaded model, whatever the request named.
        state.touch(&id);
        if let Some(served) = served_by(state, &id) {
            return Decision::Serve(served);
        }
    }
    if all.is_empty() && (!state.jit || downloaded.is_some()) {
        return Decision::Fail(reply::no_models_loaded());
    }
    let known: Vec<String> = state
        .entries
        .iter()
        .filter(|entry| entry.downloaded)
        .map(|entry| entry.model.key.clone())
        .collect();
    Decision::Fail(reply::model_not_found(name, &known))
}

fn served_by(state: &State, id: &str) -> Option<Served> {
    let (e, i) = state.find_instance(id)?;
    let entry = &state.entries[e];
    Some(Served {
        instance_id: entry.instances[i].id.clone(),
        context_length: entry.instances[i].context_length,
        model: entry.model.clone(),
    })
}

fn first_instance(state: &State, key: &str) -> Option<Served> {
    let index = state.find_entry(key)?;
    let id = state.entries[index].instances.first()?.id.clone();
    served_by(state, &id)
}
