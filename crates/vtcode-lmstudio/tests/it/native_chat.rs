//! LM Studio's native chat (`POST /api/v1/chat`) through the facade, against the emulator:
//! text, reasoning, a just-in-time load with progress, stats, streams cut short, error
//! events, `StreamExt` combinators, and servers without the native API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;
use crate::support::StartFresh;

use std::future::ready;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FusedStream;
use lmstudio_testkit::{CatalogModel, Emulator, Profile, ReasoningField};
use support::Recorder;
use vtcode_config::{PreloadMode, VTCodeConfig};
use vtcode_lmstudio::proto::native::v1::{ChatRequest, ChatStreamEvent};
use vtcode_lmstudio::{LmStudioError, LoadStep, ProgressEvent};

const MODEL: &str = "openai/gpt-oss-20b";

fn config_for(emulator: &Emulator) -> VTCodeConfig {
    support::config_for(&emulator.url())
}

use support::{emulator_client as client_for, loaded_emulator as loaded};

fn request(input: &str) -> ChatRequest {
    ChatRequest::new(MODEL, input)
}

/// The `type` of each event, in order.
fn kinds(events: &[ChatStreamEvent]) -> Vec<String> {
    events.iter().map(|e| e.kind().to_owned()).collect()
}

#[tokio::test]
async fn a_streamed_chat_delivers_text_and_ends_with_chat_end() {
    let emulator = loaded(Emulator::builder()).await;
    let client = client_for(&emulator);
    let whole = client.native_chat(request("hello there")).await.unwrap();
    let mut stream = client
        .native_chat_stream(request("hello there"))
        .await
        .unwrap();
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        events.push(item.unwrap());
    }
    assert!(stream.is_terminated());
    assert!(
        stream.next().await.is_none(),
        "fused: nothing after the end"
    );
    let kinds = kinds(&events);
    assert_eq!(kinds.first().map(String::as_str), Some("chat.start"));
    assert_eq!(kinds.last().map(String::as_str), Some("chat.end"));
    assert!(
        !kinds.iter().any(|k| k.starts_with("model_load")),
        "{kinds:?}"
    );
    let summary = stream.summary();
    assert!(summary.finished);
    assert!(summary.text.contains("hello there"), "{}", summary.text);
    assert_eq!(
        summary.text,
        whole.text(),
        "streamed and whole answers agree"
    );
    assert_eq!(summary.reasoning, "");
    assert_eq!(summary.model_instance_id.as_deref(), Some(MODEL));
    assert_eq!(summary.prompt_progress, Some(1.0));
    assert_eq!(summary.events, events.len());
    assert!(summary.model_load.is_none());
    assert_eq!(summary.result.as_ref().unwrap().text(), summary.text);
}

#[tokio::test]
async fn reasoning_arrives_before_the_message() {
    let emulator = loaded(Emulator::builder().reasoning(ReasoningField::Reasoning)).await;
    let client = client_for(&emulator);
    let summary = client
        .native_chat_stream(request("why is the sky blue"))
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap();
    assert!(
        summary.reasoning.contains("why is the sky blue"),
        "{}",
        summary.reasoning
    );
    assert!(!summary.text.is_empty());
    let stats = summary.stats.as_ref().unwrap();
    assert!(stats.reasoning_output_tokens.unwrap() > 0, "{stats:?}");
    let mut off = request("why is the sky blue");
    off.reasoning = Some("off".into());
    let summary = client
        .native_chat_stream(off)
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap();
    assert_eq!(summary.reasoning, "");
}

#[tokio::test]
async fn a_jit_load_streams_its_progress_and_the_stats_say_how_long_it_took() {
    let emulator = Emulator::builder()
        .model(CatalogModel::gpt_oss_20b().downloaded(true))
        .load_delay(Duration::from_millis(40))
        .start_fresh()
        .await
        .unwrap();
    assert!(emulator.loaded_instances(MODEL).is_empty());
    let client = client_for(&emulator);
    let events: Vec<ChatStreamEvent> = client
        .native_chat_stream(request("hi"))
        .await
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    let kinds = kinds(&events);
    let position = |kind: &str| kinds.iter().position(|k| k == kind).unwrap();
    assert!(position("chat.start") < position("model_load.start"));
    assert!(position("model_load.start") < position("model_load.progress"));
    assert!(position("model_load.progress") < position("model_load.end"));
    assert!(position("model_load.end") < position("prompt_processing.start"));
    assert!(position("prompt_processing.end") < position("message.start"));
    let progress: Vec<f64> = events
        .iter()
        .filter_map(|e| match e {
            ChatStreamEvent::ModelLoadProgress(p) => Some(p.progress),
            _ => None,
        })
        .collect();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    assert_eq!(progress.last(), Some(&1.0));
    assert_eq!(emulator.loaded_instances(MODEL), [MODEL]);

    // The same facts, from the summary of a second stream that loads again.
    emulator.unload_all();
    let summary = client
        .native_chat_stream(request("hi"))
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap();
    let load = summary.model_load.as_ref().unwrap();
    assert!(load.finished);
    assert_eq!(load.model_instance_id, MODEL);
    assert_eq!(load.progress, 1.0);
    assert_eq!(load.load_time, Some(Duration::from_millis(40)));
    let stats = summary.stats.as_ref().unwrap();
    assert_eq!(stats.model_load_time_seconds, Some(0.04));
    assert_eq!(summary.tokens_per_second(), Some(50.0));
    assert_eq!(
        summary.time_to_first_token(),
        Some(Duration::from_millis(50))
    );
    assert!(stats.input_tokens.unwrap() >= 1);
    assert!(stats.total_output_tokens.unwrap() >= 1);
}

#[tokio::test]
async fn a_whole_native_chat_returns_the_answer_and_its_stats() {
    let emulator = Emulator::builder()
        .model(CatalogModel::gpt_oss_20b().downloaded(true))
        .start_fresh()
        .await
        .unwrap();
    let client = client_for(&emulator);
    let answer = client.native_chat(request("good morning")).await.unwrap();
    assert!(answer.text().contains("good morning"), "{}", answer.text());
    assert_eq!(answer.model_instance_id, MODEL);
    let stats = answer.stats.unwrap();
    assert!(stats.model_load_time_seconds.is_some(), "it JIT-loaded");
    assert!(answer.response_id.unwrap().starts_with("resp_"));
    let body = emulator
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/v1/chat")
        .unwrap()
        .json()
        .unwrap();
    assert!(body.get("stream").is_none(), "{body}");
}

#[tokio::test]
async fn an_empty_model_means_the_default_model() {
    let emulator = loaded(Emulator::builder()).await;
    let client = client_for(&emulator);
    let summary = client
        .native_chat_stream(ChatRequest::new("", "hi"))
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap();
    assert!(summary.finished);
    let sent = emulator
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/v1/chat")
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(sent["model"], MODEL);
    assert_eq!(sent["stream"], true);
}

#[tokio::test]
async fn a_stream_cut_short_is_stream_ended_early() {
    let emulator = loaded(Emulator::builder().drop_stream_after(4)).await;
    let client = client_for(&emulator);
    let mut stream = client.native_chat_stream(request("hi")).await.unwrap();
    let mut oks = 0;
    let mut last_error = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(_) => oks += 1,
            Err(err) => last_error = Some(err),
        }
    }
    assert_eq!(oks, 4);
    assert!(
        matches!(last_error, Some(LmStudioError::StreamEndedEarly { ref url }) if url.ends_with("/api/v1/chat")),
        "{last_error:?}"
    );
    assert!(!stream.summary().finished);
    let err = client
        .native_chat_stream(request("hi"))
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap_err();
    assert!(
        matches!(err, LmStudioError::StreamEndedEarly { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_error_event_is_a_server_error_with_the_servers_message() {
    let emulator = loaded(Emulator::builder().inject_stream_error_after(3)).await;
    let client = client_for(&emulator);
    let mut stream = client.native_chat_stream(request("hi")).await.unwrap();
    let items: Vec<_> = (&mut stream).collect().await;
    assert_eq!(items.len(), 4, "three events, then the error, then nothing");
    match items.last().unwrap() {
        Err(LmStudioError::Server {
            status, message, ..
        }) => {
            assert_eq!(*status, 200);
            assert!(message.contains("The model has crashed"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let error = stream.summary().error.as_ref().unwrap();
    assert_eq!(error.kind.as_deref(), Some("internal_error"));
    assert!(stream.is_terminated());
}

#[tokio::test]
async fn a_prompt_longer_than_the_context_gets_an_error_event() {
    let emulator = loaded(Emulator::builder().default_context_length(4)).await;
    let client = client_for(&emulator);
    let err = client
        .native_chat_stream(request("one two three four five six seven"))
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap_err();
    match &err {
        LmStudioError::ContextOverflow {
            message,
            context_length,
            ..
        } => {
            assert!(
                message.contains("greater than the context length"),
                "{message}"
            );
            assert_eq!(*context_length, Some(4));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn stream_ext_combinators_work_on_the_stream() {
    let emulator = loaded(Emulator::builder()).await;
    let client = client_for(&emulator);
    let whole = client
        .native_chat(request("combinators please"))
        .await
        .unwrap();
    let text: String = client
        .native_chat_stream(request("combinators please"))
        .await
        .unwrap()
        .filter_map(|item| {
            ready(match item {
                Ok(ChatStreamEvent::MessageDelta(delta)) => Some(delta.content),
                _ => None,
            })
        })
        .collect()
        .await;
    assert_eq!(text, whole.text());
    let first_two: Vec<String> = client
        .native_chat_stream(request("hi"))
        .await
        .unwrap()
        .take(2)
        .map(|item| item.unwrap().kind().to_owned())
        .collect()
        .await;
    assert_eq!(first_two, ["chat.start", "prompt_processing.start"]);
    // `select_next_some` relies on `FusedStream`: it must say "terminated" right after
    // `chat.end`, or the next poll panics.
    let mut stream = client.native_chat_stream(request("hi")).await.unwrap();
    let mut last = None;
    while !stream.is_terminated() {
        last = Some(stream.select_next_some().await.unwrap());
    }
    assert!(last.unwrap().is_end());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_native_chat_waits_for_the_background_preload_it_would_race() {
    // The emulator holds the load until the chat says it is waiting for it: no delay to race.
    let emulator = Emulator::builder()
        .model(CatalogModel::gpt_oss_20b().downloaded(true))
        .start_fresh()
        .await
        .unwrap();
    emulator.hold_loads();
    let mut config = config_for(&emulator);
    config.lmstudio.preload = PreloadMode::Background;
    let events = Recorder::default();
    let client = support::client_for(&config, &events);
    let report = client.ensure_ready(MODEL).await.unwrap();
    assert_eq!(report.load, LoadStep::Background);
    let mut chat = tokio::spawn({
        let client = client.clone();
        async move {
            client
                .native_chat_stream(request("hi"))
                .await
                .unwrap()
                .into_summary()
                .await
        }
    });
    tokio::select! {
        () = events.until(|e| matches!(e, ProgressEvent::WaitingForLoad { model } if model == MODEL)) => {}
        finished = &mut chat => panic!("the chat did not wait for the preload: {finished:?}"),
    }
    emulator.release_loads();
    let summary = chat.await.unwrap().unwrap();
    assert!(
        summary.model_load.is_none(),
        "the preload loaded it, not the chat"
    );
    assert_eq!(
        emulator.loaded_instances(MODEL),
        [MODEL],
        "one instance, no JIT duplicate"
    );
}

#[tokio::test]
async fn lm_studio_0_3_has_no_native_chat_and_nothing_is_sent() {
    let emulator = Emulator::builder()
        .profile(Profile::V0_3)
        .model(CatalogModel::gpt_oss_20b().loaded(true))
        .start_fresh()
        .await
        .unwrap();
    let client = client_for(&emulator);
    let err = client.native_chat_stream(request("hi")).await.unwrap_err();
    match &err {
        LmStudioError::Unsupported {
            operation, reason, ..
        } => {
            assert_eq!(operation, "native_chat");
            assert!(reason.contains("0.4"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let err = client.native_chat(request("hi")).await.unwrap_err();
    assert!(matches!(err, LmStudioError::Unsupported { .. }), "{err:?}");
    assert_eq!(emulator.request_count("POST", "/api/v1/chat"), 0);
}

#[tokio::test]
async fn an_unknown_model_is_the_servers_not_found_error() {
    let emulator = loaded(Emulator::builder()).await;
    let client = client_for(&emulator);
    let err = client
        .native_chat_stream(ChatRequest::new("nobody/nothing", "hi"))
        .await
        .unwrap_err();
    match &err {
        LmStudioError::Server {
            status, message, ..
        } => {
            assert_eq!(*status, 404);
            assert!(message.contains("nobody/nothing"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}
