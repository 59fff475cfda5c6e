//! The checks, each a function of the profile and the JIT setting (`auth` is 0.4 only). A check
//! returns `Err(reason)` when it fails.

use std::io::ErrorKind;
use std::time::Duration;

use lmstudio_testkit::{CatalogModel, Emulator, Profile, StreamFault};
use vtcode_config::PreloadMode;
use vtcode_lmstudio::proto::openai::{
    ChatCompletionRequest, ChatMessage, CompletionRequest, EmbeddingRequest,
};
use vtcode_lmstudio::{
    DownloadMethod, DownloadStep, LMStudioClient, LmStudioError, LoadMethod, LoadStep, NativeApi,
    ProgressEvent, ServerKind, ensure_oss_ready,
};

use super::scenario::{EMBED_MODEL, MODEL, Scenario, small_default_model};
use super::{CheckResult, ensure};

fn failed(context: &str, err: impl std::fmt::Display) -> String {
    format!("{context}: {err}")
}

pub(super) async fn detects(profile: Profile, jit: bool) -> CheckResult {
    let scenario = Scenario::start(profile, jit, Emulator::builder()).await?;
    let client = scenario.client()?;
    let info = client
        .server_info()
        .await
        .map_err(|e| failed("server_info", e))?;
    let expected = match profile {
        Profile::V0_3 => ServerKind::LmStudio(NativeApi::V0),
        Profile::V0_4 => ServerKind::LmStudio(NativeApi::V1),
    };
    ensure(info.kind == expected, || {
        format!("detected {:?}, expected {expected:?}", info.kind)
    })?;
    // Detection is cached: a second call makes no request.
    let before = scenario.emulator.requests().len();
    client
        .server_info()
        .await
        .map_err(|e| failed("second server_info", e))?;
    let after = scenario.emulator.requests().len();
    ensure(before == after, || {
        format!("second detection made {} requests", after - before)
    })
}

pub(super) async fn cold(profile: Profile, jit: bool) -> CheckResult {
    let scenario = Scenario::start(
        profile,
        jit,
        Emulator::builder().models([small_default_model(), CatalogModel::nomic_embed()]),
    )
    .await?;
    let report = scenario
        .client()?
        .ensure_ready(MODEL)
        .await
        .map_err(|e| failed("ensure_ready", e))?;
    let expected_method = match profile {
        Profile::V0_3 => DownloadMethod::LmsCli,
        Profile::V0_4 => DownloadMethod::Rest,
    };
    ensure(
        matches!(report.download, DownloadStep::Downloaded { method, .. } if method == expected_method),
        || {
            format!(
                "download step {:?}, expected a download via {expected_method}",
                report.download
            )
        },
    )?;
    let expected_load = match profile {
        Profile::V0_3 => LoadMethod::LmsCli,
        Profile::V0_4 => LoadMethod::Rest,
    };
    ensure(
        matches!(&report.load, LoadStep::Loaded { method, .. } if *method == expected_load),
        || {
            format!(
                "load step {:?}, expected a load via {expected_load}",
                report.load
            )
        },
    )?;
    ensure(scenario.emulator.is_downloaded(MODEL), || {
        "the emulator does not have the model".into()
    })?;
    let instances = scenario.emulator.loaded_instances(MODEL);
    ensure(instances.len() == 1, || {
        format!("instances after load: {instances:?}")
    })?;
    let events = scenario.events();
    let progress = events
        .iter()
        .filter(|e| matches!(e, ProgressEvent::DownloadProgress { .. }))
        .count();
    ensure(progress >= 1, || {
        format!("no download progress events in {events:?}")
    })?;
    ensure(
        matches!(events.first(), Some(ProgressEvent::DownloadStarted { .. }))
            && events.iter().any(|e| {
                matches!(
                    e,
                    ProgressEvent::DownloadFinished {
                        already_present: false,
                        ..
                    }
                )
            })
            && events
                .iter()
                .any(|e| matches!(e, ProgressEvent::LoadFinished { .. })),
        || format!("events out of order or missing: {events:?}"),
    )
}

pub(super) async fn warm(profile: Profile, jit: bool) -> CheckResult {
    let scenario = Scenario::warm(profile, jit).await?;
    let client = scenario.client()?;
    scenario.emulator.clear_requests();
    let report = client
        .ensure_ready(MODEL)
        .await
        .map_err(|e| failed("ensure_ready", e))?;
    ensure(report.download == DownloadStep::AlreadyPresent, || {
        format!("{:?}", report.download)
    })?;
    ensure(
        matches!(report.load, LoadStep::AlreadyLoaded { .. }),
        || format!("{:?}", report.load),
    )?;
    ensure(scenario.emulator.download_job_count() == 0, || {
        "a download job was started".into()
    })?;
    // Detection plus one listing: the v0.3 profile probes /api/v1 first, then /api/v0.
    let requests = scenario.emulator.requests();
    let budget = match profile {
        Profile::V0_4 => 1,
        Profile::V0_3 => 2,
    };
    ensure(requests.len() <= budget, || {
        let paths: Vec<String> = requests
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        format!("{} requests (budget {budget}): {paths:?}", requests.len())
    })
}

pub(super) async fn unloaded(profile: Profile, jit: bool) -> CheckResult {
    let scenario = Scenario::start(
        profile,
        jit,
        Emulator::builder().models([small_default_model().downloaded(true)]),
    )
    .await?;
    let report = scenario
        .client()?
        .ensure_ready(MODEL)
        .await
        .map_err(|e| failed("ensure_ready", e))?;
    ensure(report.download == DownloadStep::AlreadyPresent, || {
        format!("{:?}", report.download)
    })?;
    ensure(scenario.emulator.download_job_count() == 0, || {
        "the model was downloaded again".into()
    })?;
    ensure(matches!(report.load, LoadStep::Loaded { .. }), || {
        format!("load step {:?}", report.load)
    })?;
    ensure(scenario.emulator.loaded_instances(MODEL).len() == 1, || {
        "not loaded".into()
    })
}

pub(super) async fn concurrent(profile: Profile, jit: bool) -> CheckResult {
    let scenario = Scenario::start(
        profile,
        jit,
        Emulator::builder()
            .models([small_default_model()])
            .load_delay(Duration::from_millis(100)),
    )
    .await?;
    let client = scenario.client()?;
    let calls = (0..4).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.ensure_ready(MODEL).await })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await
            .map_err(|e| failed("task", e))?
            .map_err(|e| failed("ensure_ready", e))?;
    }
    ensure(scenario.emulator.download_job_count() == 1, || {
        format!("{} download jobs", scenario.emulator.download_job_count())
    })?;
    let instances = scenario.emulator.loaded_instances(MODEL);
    ensure(instances.len() == 1, || format!("instances: {instances:?}"))
}

pub(super) async fn background(profile: Profile, jit: bool) -> CheckResult {
    // The emulator holds every load until the check releases it: while the seed call returns
    // and a chat starts, the preload is in progress by construction, not because a load delay
    // outlasted them.
    let scenario = Scenario::start(
        profile,
        jit,
        Emulator::builder().models([small_default_model().downloaded(true)]),
    )
    .await?;
    scenario.emulator.hold_loads();
    let config = scenario
        .config
        .clone()
        .with_preload(PreloadMode::Background);
    // Returns although the load cannot finish: it did not wait for it (if it did, the guard
    // below turns the hang into a failure).
    tokio::time::timeout(Duration::from_secs(60), ensure_oss_ready(&config))
        .await
        .map_err(|_| "ensure_oss_ready waited for the held load".to_owned())?
        .map_err(|e| failed("ensure_oss_ready", e))?;
    ensure(scenario.emulator.loaded_instances(MODEL).is_empty(), || {
        "loaded while loads are held".into()
    })?;
    // A chat now waits for the preload in progress (one engine per server and token) rather
    // than racing it: it says so, and only then is the load released.
    let client = scenario.client()?;
    let waiting = scenario.waiting_for_load();
    let mut chat = tokio::spawn(async move { client.chat(chat_request("hi")).await });
    tokio::select! {
        () = waiting => {}
        finished = &mut chat => {
            return Err(format!("the chat did not wait for the preload: {finished:?}"));
        }
    }
    scenario.emulator.release_loads();
    let answer = chat
        .await
        .map_err(|e| failed("chat task", e))?
        .map_err(|e| failed("chat", e))?;
    ensure(!answer.choices.is_empty(), || format!("{answer:?}"))?;
    let instances = scenario.emulator.loaded_instances(MODEL);
    ensure(instances.len() == 1, || {
        format!("instances after the preload and the chat: {instances:?}")
    })
}

pub(super) async fn listing(profile: Profile, jit: bool) -> CheckResult {
    let scenario = Scenario::start(
        profile,
        jit,
        Emulator::builder().models([
            small_default_model().downloaded(true).loaded(true),
            CatalogModel::nomic_embed(),
            CatalogModel::llm("qwen/qwen3-4b")
                .size_bytes(2_500_000_000)
                .downloaded(true),
        ]),
    )
    .await?;
    let client = scenario.client()?;
    let keys = client
        .fetch_models()
        .await
        .map_err(|e| failed("fetch_models", e))?;
    for key in [MODEL, EMBED_MODEL, "qwen/qwen3-4b"] {
        ensure(keys.iter().any(|k| k == key), || {
            format!("{key} missing from {keys:?}")
        })?;
    }
    let catalog = client.models().await.map_err(|e| failed("models", e))?;
    let find = |key: &str| catalog.models.iter().find(|m| m.key == key);
    let gpt = find(MODEL).ok_or("default model missing")?;
    ensure(gpt.is_loaded(), || {
        format!("{MODEL} should be loaded: {gpt:?}")
    })?;
    let qwen = find("qwen/qwen3-4b").ok_or("qwen missing")?;
    ensure(!qwen.is_loaded(), || {
        format!("qwen should not be loaded: {qwen:?}")
    })?;
    let embed = find(EMBED_MODEL).ok_or("embedding model missing")?;
    ensure(embed.is_embedding(), || {
        format!("{EMBED_MODEL} should be an embedding model: {embed:?}")
    })?;
    if profile == Profile::V0_4 {
        ensure(qwen.size_bytes == Some(2_500_000_000), || {
            format!("size: {:?}", qwen.size_bytes)
        })?;
    }
    // Cached: a second call within the TTL makes no request.
    let before = scenario.emulator.requests().len();
    client
        .models()
        .await
        .map_err(|e| failed("models again", e))?;
    ensure(scenario.emulator.requests().len() == before, || {
        "models() was not cached".into()
    })
}

fn chat_request(prompt: &str) -> ChatCompletionRequest {
    let mut request = ChatCompletionRequest::new(MODEL, vec![ChatMessage::user(prompt)]);
    request.max_tokens = Some(48);
    request.temperature = Some(0.0);
    request.seed = Some(7);
    request
}

pub(super) async fn chat(profile: Profile, jit: bool) -> CheckResult {
    let scenario = Scenario::warm(profile, jit).await?;
    let client = scenario.client()?;
    let whole = client
        .chat(chat_request("Name three prime numbers."))
        .await
        .map_err(|e| failed("chat", e))?;
    let text = whole.text().unwrap_or_default().into_owned();
    ensure(!text.is_empty(), || "empty answer".into())?;
    let summary = client
        .chat_stream(chat_request("Name three prime numbers."))
        .await
        .map_err(|e| failed("chat_stream", e))?
        .into_summary()
        .await
        .map_err(|e| failed("stream", e))?;
    ensure(summary.content == text, || {
        format!("streamed {:?} != whole {text:?}", summary.content)
    })?;
    ensure(summary.chunks >= 3, || {
        format!("only {} chunks", summary.chunks)
    })?;
    let usage = summary.usage.as_ref().ok_or("no usage chunk")?;
    ensure(usage.completion_tokens > 0, || format!("usage {usage:?}"))?;
    ensure(summary.finish_reason.is_some(), || {
        "no finish reason".into()
    })
}

pub(super) async fn completions_embeddings(profile: Profile, jit: bool) -> CheckResult {
    let scenario = Scenario::start(
        profile,
        jit,
        Emulator::builder().models([
            small_default_model().downloaded(true).loaded(true),
            CatalogModel::nomic_embed().loaded(true),
        ]),
    )
    .await?;
    let client = scenario.client()?;
    let mut request = CompletionRequest::new(MODEL, "fn main() {");
    request.max_tokens = Some(16);
    let completion = client
        .completions(request)
        .await
        .map_err(|e| failed("completions", e))?;
    ensure(completion.text().is_some_and(|t| !t.is_empty()), || {
        format!("{completion:?}")
    })?;
    let one = client
        .embeddings(EmbeddingRequest::new(EMBED_MODEL, "hello"))
        .await
        .map_err(|e| failed("embeddings", e))?;
    let batch = client
        .embeddings(EmbeddingRequest::new(
            EMBED_MODEL,
            vec!["hello", "world", "again"],
        ))
        .await
        .map_err(|e| failed("batch embeddings", e))?;
    let single = one.vectors();
    let many = batch.vectors();
    ensure(single.len() == 1 && many.len() == 3, || {
        format!("{} and {} vectors", single.len(), many.len())
    })?;
    ensure(
        many.iter()
            .all(|v| v.len() == single[0].len() && !v.is_empty()),
        || "vector lengths differ".into(),
    )?;
    ensure(single[0] == many[0], || {
        "the same text embedded differently".into()
    })
}

pub(super) async fn status_unload(profile: Profile, jit: bool) -> CheckResult {
    let scenario = Scenario::warm(profile, jit).await?;
    let client = scenario.client()?;
    let status = client.status().await.map_err(|e| failed("status", e))?;
    ensure(status.iter().any(|s| s.key == MODEL), || {
        format!("status: {status:?}")
    })?;
    let unloaded = client
        .unload(MODEL)
        .await
        .map_err(|e| failed("unload", e))?;
    ensure(!unloaded.is_empty(), || "nothing reported unloaded".into())?;
    ensure(scenario.emulator.loaded_instances(MODEL).is_empty(), || {
        "still loaded".into()
    })?;
    let status = client
        .status()
        .await
        .map_err(|e| failed("status after unload", e))?;
    ensure(status.iter().all(|s| s.key != MODEL), || {
        format!("status after unload: {status:?}")
    })
}

pub(super) async fn failed_download(profile: Profile, jit: bool) -> CheckResult {
    let scenario = Scenario::start(
        profile,
        jit,
        Emulator::builder()
            .models([small_default_model()])
            .fail_download(MODEL),
    )
    .await?;
    let err = match scenario.client()?.ensure_ready(MODEL).await {
        Ok(report) => return Err(format!("succeeded: {report:?}")),
        Err(err) => err,
    };
    ensure(err.io_kind() == ErrorKind::Other, || {
        format!("kind {:?}: {err}", err.io_kind())
    })?;
    ensure(!err.to_string().is_empty(), || "empty message".into())?;
    ensure(!scenario.emulator.is_downloaded(MODEL), || {
        "marked downloaded".into()
    })
}

/// Streams a chat answer with `fault` injected and returns how collecting it ended.
pub(super) async fn stream_with_fault(
    scenario: &Scenario,
    client: &LMStudioClient,
    fault: StreamFault,
) -> Result<Result<(), LmStudioError>, String> {
    scenario.emulator.set_stream_fault(Some(fault));
    let stream = client
        .chat_stream(chat_request("hello"))
        .await
        .map_err(|e| failed("chat_stream", e))?;
    Ok(stream.into_summary().await.map(|_| ()))
}

pub(super) async fn stream_faults(profile: Profile, jit: bool) -> CheckResult {
    let scenario = Scenario::warm(profile, jit).await?;
    let client = scenario.client()?;
    let outcome = stream_with_fault(&scenario, &client, StreamFault::ErrorAfter(2)).await?;
    ensure(matches!(outcome, Err(LmStudioError::Server { .. })), || {
        format!("error mid-stream gave {outcome:?}")
    })?;
    let outcome = stream_with_fault(&scenario, &client, StreamFault::DropAfter(2)).await?;
    ensure(
        matches!(outcome, Err(LmStudioError::StreamEndedEarly { .. })),
        || format!("stream without [DONE] gave {outcome:?}"),
    )?;
    let outcome = stream_with_fault(&scenario, &client, StreamFault::AbortAfter(2)).await?;
    ensure(outcome.is_err(), || {
        format!("aborted stream gave {outcome:?}")
    })
}

pub(super) async fn no_confusion(profile: Profile, jit: bool) -> CheckResult {
    // `openai/gpt-oss-120b` is downloaded; asking for `openai/gpt-oss-20b` must download it,
    // never reuse the 120b.
    let scenario = Scenario::start(
        profile,
        jit,
        Emulator::builder().models([
            CatalogModel::llm("openai/gpt-oss-120b")
                .size_bytes(1_000)
                .downloaded(true)
                .loaded(true),
            small_default_model(),
        ]),
    )
    .await?;
    let client: LMStudioClient = scenario.client()?;
    let report = client
        .ensure_ready(MODEL)
        .await
        .map_err(|e| failed("ensure_ready", e))?;
    ensure(report.model_key.as_deref() == Some(MODEL), || {
        format!("resolved to {:?}", report.model_key)
    })?;
    ensure(
        matches!(report.download, DownloadStep::Downloaded { .. }),
        || format!("download step {:?}", report.download),
    )
}

pub(super) async fn auth(jit: bool) -> CheckResult {
    const TOKEN: &str = "sk-lm-integration-secret";
    let scenario = Scenario::start(
        Profile::V0_4,
        jit,
        Emulator::builder()
            .models([small_default_model().downloaded(true).loaded(true)])
            .auth_token(Some(TOKEN.to_owned())),
    )
    .await?;
    let err = ensure_oss_ready(&scenario.config)
        .await
        .err()
        .ok_or("no token was accepted")?;
    ensure(err.kind() == ErrorKind::PermissionDenied, || {
        format!("missing token: {:?} {err}", err.kind())
    })?;
    let wrong = scenario.config.clone().with_api_token("sk-lm-wrong-token");
    let err = ensure_oss_ready(&wrong)
        .await
        .err()
        .ok_or("a wrong token was accepted")?;
    ensure(err.kind() == ErrorKind::PermissionDenied, || {
        format!("wrong token: {:?} {err}", err.kind())
    })?;
    ensure(!err.to_string().contains("sk-lm-wrong-token"), || {
        "the message shows the token".into()
    })?;
    let right = scenario.config.clone().with_api_token(TOKEN);
    ensure_oss_ready(&right)
        .await
        .map_err(|e| failed("with the right token", e))
}
