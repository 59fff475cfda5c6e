//! The private `/__testkit/...` API the `fake-lms` binary speaks (no auth, every profile),
//! standing in for the websocket API the real `lms` uses.
//!
//! - `GET  /__testkit/lms/ls` → `lms ls --json` array (downloaded models)
//! - `GET  /__testkit/lms/ps` → `lms ps --json` array (loaded instances)
//! - `POST /__testkit/lms/get {"model"}` → `{"status":"downloading","job_id",...}` or
//!   `{"status":"already_downloaded",...}`, 404 `{"error":"..."}` for an unknown model
//! - `GET  /__testkit/lms/download/{job_id}` → the REST download status body plus `key`
//! - `POST /__testkit/lms/load {"model","context_length"?,"ttl_seconds"?,"identifier"?,
//!   "parallel"?}` → `{"identifier","model_key","load_time_seconds","size_bytes"}`
//! - `POST /__testkit/lms/unload {"identifier"}` or `{"all":true}` → `{"unloaded":[ids]}`

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::manage_routes::job_json;
use super::model_json;
use super::reply::{self, Resp};
use super::state::{DownloadStart, LoadSpec};
use super::{Shared, lock};

/// Dispatches one admin request.
pub(crate) async fn handle(shared: &Shared, method: &str, path: &str, body: &str) -> Resp {
    let rest = path.trim_start_matches("/__testkit/");
    match (method, rest) {
        ("GET", "lms/ls") => ls(shared),
        ("GET", "lms/ps") => ps(shared),
        ("POST", "lms/get") => get(shared, body),
        ("GET", r) if r.starts_with("lms/download/") => {
            download_status(shared, &r["lms/download/".len()..])
        }
        ("POST", "lms/load") => load(shared, body).await,
        ("POST", "lms/unload") => unload(shared, body),
        _ => reply::string_error(404, &format!("Unknown testkit route {method} {path}")),
    }
}

fn parse(body: &str) -> Map<String, Value> {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

fn ls(shared: &Shared) -> Resp {
    let state = lock(shared);
    let models: Vec<Value> = state
        .entries
        .iter()
        .filter(|entry| entry.downloaded)
        .map(|entry| model_json::lms_model(&entry.model))
        .collect();
    reply::json(200, &Value::Array(models))
}

fn ps(shared: &Shared) -> Resp {
    let state = lock(shared);
    let instances: Vec<Value> = state
        .entries
        .iter()
        .flat_map(|entry| {
            entry
                .instances
                .iter()
                .map(|instance| model_json::lms_instance(&entry.model, instance))
        })
        .collect();
    reply::json(200, &Value::Array(instances))
}

fn get(shared: &Shared, body: &str) -> Resp {
    let request = parse(body);
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let started = lock(shared).start_download(model);
    match started {
        DownloadStart::Unknown => reply::string_error(
            404,
            &format!("No model found for \"{model}\" in the LM Studio catalog."),
        ),
        DownloadStart::AlreadyDownloaded { key, total } => reply::json(
            200,
            &json!({ "status": "already_downloaded", "key": key, "total_size_bytes": total }),
        ),
        DownloadStart::Job(job) => reply::json(
            200,
            &json!({
                "status": "downloading",
                "job_id": job.id,
                "key": job.key,
                "total_size_bytes": job.total,
            }),
        ),
    }
}

fn download_status(shared: &Shared, job_id: &str) -> Resp {
    let state = lock(shared);
    match state.job(job_id) {
        Some(job) => {
            let mut body = job_json(job);
            body["key"] = json!(job.key);
            reply::json(200, &body)
        }
        None => reply::string_error(404, &format!("Download job {job_id} not found")),
    }
}

async fn load(shared: &Shared, body: &str) -> Resp {
    let request = parse(body);
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let not_found = || {
        reply::string_error(
            404,
            &format!("No model found that matches model key \"{model}\""),
        )
    };
    let delay = {
        let state = lock(shared);
        match state.find_entry(&model) {
            Some(index) if state.entries[index].downloaded => state.load_delay,
            _ => return not_found(),
        }
    };
    super::load_pause(shared, delay).await;
    let number = |key: &str| {
        request
            .get(key)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
    };
    let spec = LoadSpec {
        context_length: number("context_length"),
        ttl: request
            .get("ttl_seconds")
            .and_then(Value::as_u64)
            .map(Duration::from_secs),
        identifier: request
            .get("identifier")
            .and_then(Value::as_str)
            .map(str::to_owned),
        parallel: number("parallel"),
        ..LoadSpec::default()
    };
    let mut state = lock(shared);
    match state.create_instance(&model, &spec) {
        Ok(id) => {
            let index = state.find_entry(&model);
            let (key, size) = index.map_or((model.clone(), 0), |i| {
                let m = &state.entries[i].model;
                (m.key.clone(), m.size_bytes)
            });
            reply::json(
                200,
                &json!({
                    "identifier": id,
                    "model_key": key,
                    "load_time_seconds": delay.as_secs_f64(),
                    "size_bytes": size,
                }),
            )
        }
        Err(message) => reply::string_error(400, &message),
    }
}

fn unload(shared: &Shared, body: &str) -> Resp {
    let request = parse(body);
    let mut state = lock(shared);
    if request.get("all").and_then(Value::as_bool) == Some(true) {
        let ids: Vec<String> = state
            .entries
            .iter_mut()
            .flat_map(|entry| entry.instances.drain(..).map(|i| i.id))
            .collect();
        return reply::json(200, &json!({ "unloaded": ids }));
    }
    let id = request
        .get("identifier")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if state.remove_instance(id) {
        reply::json(200, &json!({ "unloaded": [id] }))
    } else {
        reply::string_error(
            404,
            &format!("Cannot find a model with the identifier \"{id}\""),
        )
    }
}
