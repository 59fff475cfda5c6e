//! Real-server checks of detection, listing, errors and the readiness flow: the facade must
//! say "OpenAI-compatible, not LM Studio", list the served model, keep the server's error
//! messages, and make `ensure_oss_ready` fail fast (or succeed) without downloads or loads.

use std::io;
use std::time::Instant;

use serde_json::json;
use vtcode_lmstudio::proto::openai::{
    ChatCompletionRequest, ChatMessage, ContentPart, ResponseFormat,
};
use vtcode_lmstudio::{
    CatalogSource, DEFAULT_OSS_MODEL, DownloadStep, LMStudioClient, LmStudioError, LoadStep,
    ServerKind, ensure_oss_ready, ensure_oss_ready_with_report,
};

use super::metrics::{Metrics, Tally};
use super::proxy::RecordingProxy;
use super::server::ALIAS;
use super::{QUICK, client, config};
use crate::checks::{CheckResult, Suite, ensure};

/// Runs the checks against the plain server at `url` (listening on `port`).
pub(crate) async fn run(
    suite: &mut Suite,
    tally: &mut Tally,
    metrics: &mut Metrics,
    url: &str,
    port: u16,
) {
    tally
        .check(
            suite,
            "server detection: OpenAI-compatible, not LM Studio",
            QUICK,
            detection(url),
        )
        .await;
    tally
        .check(
            suite,
            "fetch_models() and models() list the served model",
            QUICK,
            listing(url),
        )
        .await;
    tally
        .check(
            suite,
            "malformed request: typed error with the server's message",
            QUICK,
            malformed(url),
        )
        .await;
    tally
        .check(
            suite,
            "server error (image for a text model) keeps status and message",
            QUICK,
            server_error(url),
        )
        .await;
    tally
        .check(
            suite,
            "a prompt longer than the slot's context: ContextOverflow with both numbers",
            QUICK,
            context_overflow(url),
        )
        .await;
    tally
        .check(
            suite,
            "ensure_oss_ready, default model not served: Unsupported, no download or load",
            QUICK,
            refuses_unserved(port, metrics),
        )
        .await;
    tally
        .check(
            suite,
            "download_model/load_model refuse on a non-LM-Studio server",
            QUICK,
            refuses_management(port),
        )
        .await;
    tally
        .check(
            suite,
            "ensure_oss_ready, default_model served: Ok, nothing downloaded, load skipped",
            QUICK,
            ready_when_served(port),
        )
        .await;
}

async fn detection(url: &str) -> CheckResult {
    let client = client(&config(url, Some(ALIAS), None))?;
    ensure(client.detected_server().is_none(), || {
        "the server kind was known before any request".to_owned()
    })?;
    let info = client
        .server_info()
        .await
        .map_err(|e| format!("server_info: {e}"))?;
    ensure(info.kind == ServerKind::OpenAiCompatible, || {
        format!("kind {:?}, expected OpenAiCompatible", info.kind)
    })?;
    ensure(!info.is_lmstudio() && !info.has_native_v1(), || {
        format!("{info:?} claims LM Studio features")
    })?;
    ensure(info.listing == CatalogSource::OpenAiModels, || {
        format!(
            "listing {:?}, expected OpenAiModels (GET /v1/models)",
            info.listing
        )
    })?;
    ensure(info.describe().contains("not LM Studio"), || {
        format!("describe() = {:?}", info.describe())
    })?;
    ensure(info.to_string().contains(url), || {
        format!("Display {info} lacks {url}")
    })?;
    ensure(client.detected_server() == Some(info.clone()), || {
        "detection was not remembered".to_owned()
    })
}

async fn listing(url: &str) -> CheckResult {
    let config = config(url, Some(ALIAS), None);
    let client = LMStudioClient::try_from_provider(&config)
        .await
        .map_err(|e| format!("try_from_provider: {e}"))?;
    let keys = client
        .fetch_models()
        .await
        .map_err(|e| format!("fetch_models: {e}"))?;
    ensure(keys == vec![ALIAS.to_owned()], || {
        format!("fetch_models() = {keys:?}, expected [{ALIAS:?}]")
    })?;
    let catalog = client.models().await.map_err(|e| format!("models: {e}"))?;
    ensure(catalog.source == CatalogSource::OpenAiModels, || {
        format!("catalog source {:?}", catalog.source)
    })?;
    ensure(!catalog.source.knows_load_state(), || {
        "/v1/models cannot know the load state".to_owned()
    })?;
    let info = client
        .model_info(ALIAS)
        .await
        .map_err(|e| format!("model_info: {e}"))?
        .ok_or_else(|| format!("model_info({ALIAS:?}) found nothing"))?;
    ensure(info.key == ALIAS, || {
        format!("model_info key {:?}", info.key)
    })?;
    let other = client
        .model_info("openai/gpt-oss-20b")
        .await
        .map_err(|e| format!("model_info(other): {e}"))?;
    ensure(other.is_none(), || {
        format!("an unserved model matched {other:?}")
    })
}

/// A JSON schema with an unknown type: llama.cpp answers 400 invalid_request_error.
async fn malformed(url: &str) -> CheckResult {
    let client = client(&config(url, Some(ALIAS), None))?;
    let request = ChatCompletionRequest::new(ALIAS, vec![ChatMessage::user("Say hi.")])
        .with_max_tokens(4)
        .with_response_format(ResponseFormat::json_schema("bad", json!({"type": "bogus"})));
    let err = match client.chat(request).await {
        Ok(response) => return Err(format!("the server accepted it: {response:?}")),
        Err(err) => err,
    };
    let LmStudioError::Server {
        status, message, ..
    } = &err
    else {
        return Err(format!("expected LmStudioError::Server, got {err:?}"));
    };
    ensure(*status == 400, || format!("status {status}, expected 400"))?;
    ensure(message.contains("bogus"), || {
        format!("the server's message was lost: {message:?}")
    })?;
    expect_other_with(&err, "400", message)
}

/// A prompt longer than a slot's context: llama.cpp answers 400 `exceed_context_size_error`
/// with the prompt's and the context's token counts, which the facade reads.
async fn context_overflow(url: &str) -> CheckResult {
    let client = client(&config(url, Some(ALIAS), None))?;
    // Each slot has 4096 / 2 tokens; this prompt is several times that.
    let prompt = "The quick brown fox jumps over the lazy dog. ".repeat(800);
    let request =
        ChatCompletionRequest::new(ALIAS, vec![ChatMessage::user(prompt)]).with_max_tokens(4);
    let err = match client.chat(request).await {
        Ok(response) => return Err(format!("the server accepted it: {response:?}")),
        Err(err) => err,
    };
    let LmStudioError::ContextOverflow {
        prompt_tokens,
        context_length,
        message,
        ..
    } = &err
    else {
        return Err(format!(
            "expected LmStudioError::ContextOverflow, got {err:?}"
        ));
    };
    ensure(err.is_context_overflow(), || "predicate".to_owned())?;
    let (Some(prompt), Some(context)) = (*prompt_tokens, *context_length) else {
        return Err(format!("numbers not read from {message:?}"));
    };
    ensure(prompt > context, || {
        format!("prompt {prompt} <= context {context} in {message:?}")
    })?;
    ensure(context <= 4096, || format!("context {context}"))?;
    let io_err: io::Error = err.clone().into();
    ensure(io_err.kind() == io::ErrorKind::InvalidInput, || {
        format!("io kind {:?}", io_err.kind())
    })
}

/// An image part for a text-only model: llama.cpp answers 500 with its reason.
async fn server_error(url: &str) -> CheckResult {
    let client = client(&config(url, Some(ALIAS), None))?;
    let parts = vec![
        ContentPart::text("What is this?"),
        ContentPart::image_url("data:image/png;base64,iVBORw0KGgo="),
    ];
    let request =
        ChatCompletionRequest::new(ALIAS, vec![ChatMessage::user(parts)]).with_max_tokens(4);
    let err = match client.chat(request).await {
        Ok(response) => return Err(format!("the server accepted it: {response:?}")),
        Err(err) => err,
    };
    let LmStudioError::Server {
        status, message, ..
    } = &err
    else {
        return Err(format!("expected LmStudioError::Server, got {err:?}"));
    };
    ensure((400..600).contains(&status.as_u16()), || {
        format!("status {status}")
    })?;
    ensure(message.contains("image"), || {
        format!("the server's message was lost: {message:?}")
    })?;
    expect_other_with(&err, &status.as_u16().to_string(), message)
}

/// The seed mapping: `io::ErrorKind::Other`, the message carries status and server text, and
/// it never reads as "not responding".
fn expect_other_with(err: &LmStudioError, status: &str, message: &str) -> CheckResult {
    ensure(!err.is_not_responding(), || {
        format!("{err} reads as not responding")
    })?;
    let io_err: io::Error = err.clone().into();
    ensure(io_err.kind() == io::ErrorKind::Other, || {
        format!("io kind {:?}, expected Other", io_err.kind())
    })?;
    let text = io_err.to_string();
    ensure(text.contains(status) && text.contains(message), || {
        format!("io message {text:?} lacks the status or the server's message")
    })
}

async fn refuses_unserved(port: u16, metrics: &mut Metrics) -> CheckResult {
    let proxy = RecordingProxy::start(port).await?;
    let config = config(&proxy.base_url(), None, None);
    let started = Instant::now();
    let outcome = ensure_oss_ready(&config).await;
    metrics.ensure_refusal = Some(started.elapsed());
    let err = match outcome {
        Ok(()) => {
            return Err(format!(
                "ensure_oss_ready succeeded for {DEFAULT_OSS_MODEL}"
            ));
        }
        Err(err) => err,
    };
    ensure(err.kind() == io::ErrorKind::Unsupported, || {
        format!("io kind {:?}, expected Unsupported: {err}", err.kind())
    })?;
    let typed = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<LmStudioError>());
    ensure(
        matches!(typed, Some(LmStudioError::Unsupported { .. })),
        || format!("inner error {typed:?}, expected LmStudioError::Unsupported"),
    )?;
    let text = err.to_string();
    for needle in [DEFAULT_OSS_MODEL, ALIAS, "not LM Studio"] {
        ensure(text.contains(needle), || {
            format!("message {text:?} lacks {needle:?}")
        })?;
    }
    let report = ensure_oss_ready_with_report(&config).await;
    ensure(
        matches!(report, Err(LmStudioError::Unsupported { .. })),
        || format!("ensure_oss_ready_with_report: {report:?}"),
    )?;
    let requests = proxy.requests();
    metrics.ensure_requests = requests.clone();
    only_reads(&requests)
}

async fn refuses_management(port: u16) -> CheckResult {
    let proxy = RecordingProxy::start(port).await?;
    let client = client(&config(&proxy.base_url(), Some(ALIAS), None))?;
    for (what, outcome) in [
        (
            "download_model",
            client.download_model(DEFAULT_OSS_MODEL).await,
        ),
        ("load_model", client.load_model(ALIAS).await),
    ] {
        let err = match outcome {
            Ok(()) => return Err(format!("{what} succeeded on a llama.cpp server")),
            Err(err) => err,
        };
        ensure(err.kind() == io::ErrorKind::Unsupported, || {
            format!(
                "{what}: io kind {:?}, expected Unsupported: {err}",
                err.kind()
            )
        })?;
        ensure(err.to_string().contains(what), || {
            format!("{what}: message {err} does not name the operation")
        })?;
    }
    only_reads(&proxy.requests())
}

async fn ready_when_served(port: u16) -> CheckResult {
    let proxy = RecordingProxy::start(port).await?;
    let config = config(&proxy.base_url(), Some(ALIAS), None);
    ensure_oss_ready(&config)
        .await
        .map_err(|e| format!("ensure_oss_ready: {e} ({:?})", e.kind()))?;
    let report = ensure_oss_ready_with_report(&config)
        .await
        .map_err(|e| format!("ensure_oss_ready_with_report: {e}"))?;
    let kind = report.server.as_ref().map(|s| s.kind);
    ensure(kind == Some(ServerKind::OpenAiCompatible), || {
        format!("report.server kind {kind:?}")
    })?;
    ensure(report.model_key.as_deref() == Some(ALIAS), || {
        format!("report.model_key {:?}", report.model_key)
    })?;
    ensure(report.download == DownloadStep::AlreadyPresent, || {
        format!("report.download {:?}", report.download)
    })?;
    ensure(matches!(report.load, LoadStep::Skipped { .. }), || {
        format!("report.load {:?}, expected Skipped", report.load)
    })?;
    ensure(report.warnings.is_empty(), || {
        format!("warnings {:?}", report.warnings)
    })?;
    only_reads(&proxy.requests())
}

/// Only GETs reached the server: no download, no load, no inference.
fn only_reads(requests: &[String]) -> CheckResult {
    ensure(!requests.is_empty(), || {
        "the proxy saw no request".to_owned()
    })?;
    let writes: Vec<&String> = requests.iter().filter(|r| !r.starts_with("GET ")).collect();
    ensure(writes.is_empty(), || {
        format!("unexpected requests {writes:?} (all: {requests:?})")
    })?;
    let management: Vec<&String> = requests
        .iter()
        .filter(|r| r.contains("download") || r.contains("/load"))
        .collect();
    ensure(management.is_empty(), || {
        format!("management requests {management:?}")
    })
}
