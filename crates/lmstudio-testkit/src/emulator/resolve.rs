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
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let mut state = lock(shared);
            if let Some(served) = first_instance(&state, &key) {
                return Ok(served);
            }
            let spec = LoadSpec {
                ttl: ttl.map(Duration::from_secs),
                jit: true,
                ..LoadSpec::default()
            };
            match state.create_instance(&key, &spec) {
                Ok(id) => served_by(&state, &id).ok_or_else(reply::no_models_loaded),
                Err(message) => Err(reply::string_error(404, &message)),
            }
        }
    }
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
