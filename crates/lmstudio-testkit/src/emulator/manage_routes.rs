//! The 0.4 management routes: `POST /api/v1/models/load`, `/unload`, `/download`, and
//! `GET /api/v1/models/download/status/{job_id}`.

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::catalog::ModelKind;
use super::clock;
use super::reply::{self, Resp};
use super::state::{DownloadStart, Job, JobState, LoadSpec, wall_after};
use super::{Shared, lock};

/// Parses a native request body, answering errors in the native object form.
fn parse_native(body: &str) -> Result<Map<String, Value>, Box<Resp>> {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Box::new(reply::native_error(
            400,
            "invalid_request",
            "Request body must be a JSON object",
        ))),
        Err(err) => Err(Box::new(reply::native_error(
            400,
            "invalid_request",
            &format!("Invalid JSON in request body: {err}"),
        ))),
    }
}

fn u32_field(request: &Map<String, Value>, key: &str) -> Option<u32> {
    request
        .get(key)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

/// `POST /api/v1/models/load`: blocks for the load delay, then creates a new instance.
pub(crate) async fn load(shared: &Shared, body: &str) -> Resp {
    let request = match parse_native(body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    let Some(model) = request.get("model").and_then(Value::as_str) else {
        return reply::native_missing("model");
    };
    let not_found = || {
        reply::native_error(
            404,
            "model_not_found",
            &format!("Model {model} not found in downloaded models"),
        )
    };
    let delay = {
        let state = lock(shared);
        // Variant keys (`key@quant`) are not accepted here (LM Studio 0.4.1, BT#1462).
        match state.find_entry(model) {
            Some(index) if state.entries[index].downloaded && !model.contains('@') => {
                state.load_delay
            }
            _ => return not_found(),
        }
    };
    super::load_pause(shared, delay).await;
    let spec = LoadSpec {
        context_length: u32_field(&request, "context_length"),
        flash_attention: request.get("flash_attention").and_then(Value::as_bool),
        eval_batch_size: u32_field(&request, "eval_batch_size"),
        ..LoadSpec::default()
    };
    let mut state = lock(shared);
    let id = match state.create_instance(model, &spec) {
        Ok(id) => id,
        Err(_) => return not_found(),
    };
    let Some((e, i)) = state.find_instance(&id) else {
        return not_found();
    };
    let entry = &state.entries[e];
    let instance = &entry.instances[i];
    let mut response = json!({
        "type": entry.model.type_str(),
        "instance_id": id,
        "load_time_seconds": (delay.as_secs_f64() * 1000.0).round() / 1000.0,
        "status": "loaded",
    });
    if request.get("echo_load_config").and_then(Value::as_bool) == Some(true) {
        response["load_config"] = match entry.model.kind {
            ModelKind::Embedding => json!({ "context_length": instance.context_length }),
            ModelKind::Llm => json!({
                "context_length": instance.context_length,
                "eval_batch_size": instance.eval_batch_size,
                "flash_attention": instance.flash_attention,
                "offload_kv_cache_to_gpu": true,
                "num_experts": 0,
            }),
        };
    }
    reply::json(200, &response)
}

/// `POST /api/v1/models/unload`.
pub(crate) fn unload(shared: &Shared, body: &str) -> Resp {
    let request = match parse_native(body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    let Some(id) = request.get("instance_id").and_then(Value::as_str) else {
        return reply::native_missing("instance_id");
    };
    if lock(shared).remove_instance(id) {
        reply::json(200, &json!({ "instance_id": id }))
    } else {
        reply::native_error(
            404,
            "model_not_found",
            &format!("No loaded model instance with identifier {id}"),
        )
    }
}

/// `POST /api/v1/models/download`: starts a job (or reports `already_downloaded`).
pub(crate) fn download(shared: &Shared, body: &str) -> Resp {
    let request = match parse_native(body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    let Some(model) = request.get("model").and_then(Value::as_str) else {
        return reply::native_missing("model");
    };
    let started = lock(shared).start_download(model);
    match started {
        DownloadStart::Unknown => reply::native_error(
            404,
            "model_not_found",
            &format!("Model {model} not found in the LM Studio catalog"),
        ),
        DownloadStart::AlreadyDownloaded { .. } => {
            reply::json(200, &json!({ "status": "already_downloaded" }))
        }
        DownloadStart::Job(job) => reply::json(
            200,
            &json!({
                "job_id": job.id,
                "status": if job.state == JobState::Completed { "completed" } else { "downloading" },
                "total_size_bytes": job.total,
                "started_at": clock::iso8601(job.started_wall),
            }),
        ),
    }
}

/// `GET /api/v1/models/download/status/{job_id}`.
pub(crate) fn download_status(shared: &Shared, job_id: &str) -> Resp {
    let state = lock(shared);
    match state.job(job_id) {
        Some(job) => reply::json(200, &job_json(job)),
        None => reply::native_error(
            404,
            "job_not_found",
            &format!("Download job {job_id} not found"),
        ),
    }
}

/// A job's status body (state already refreshed).
pub(crate) fn job_json(job: &Job) -> Value {
    let mut value = json!({
        "job_id": job.id,
        "status": match job.state {
            JobState::Downloading => "downloading",
            JobState::Completed => "completed",
            JobState::Failed => "failed",
        },
        "total_size_bytes": job.total,
        "downloaded_bytes": job.downloaded,
        "started_at": clock::iso8601(job.started_wall),
    });
    match job.state {
        JobState::Downloading => {
            value["bytes_per_second"] = json!(job.speed);
            if job.speed > 0 {
                let left = job.total.saturating_sub(job.downloaded);
                let eta = wall_after(SystemTime::now(), left, job.speed);
                value["estimated_completion"] = json!(clock::iso8601(eta));
            }
        }
        JobState::Completed => {
            if let Some(done) = job.finished_wall {
                value["completed_at"] = json!(clock::iso8601(done));
            }
        }
        JobState::Failed => {}
    }
    value
}
