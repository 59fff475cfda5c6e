//! The Messages API through the facade against the emulator: text whole and streamed with
//! the default model filled in, thinking, a tool call answered with its result, LM Studio's
//! strict role check, `count_message_tokens` and 0.3's missing route as `Unsupported`,
//! errors injected mid-stream, a cut stream, an overflow, the token, and the wait for a load
//! in progress.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;
use crate::support::{Recorder, StartFresh};

use lmstudio_testkit::{CatalogModel, Emulator, Profile, ReasoningField};
use serde_json::json;
use vtcode_config::PreloadMode;
use vtcode_lmstudio::proto::anthropic::{
    ContentBlock, InputMessage, MessagesRequest, StopReason, Tool,
};
use vtcode_lmstudio::{LMStudioClient, LmStudioError, LoadStep, ProgressEvent};

const MODEL: &str = "openai/gpt-oss-20b";

use support::{emulator_client as client_for, loaded_emulator as loaded};

fn ask(text: &str) -> MessagesRequest {
    MessagesRequest::new(MODEL, vec![InputMessage::user(text)]).with_max_tokens(256)
}

#[tokio::test]
async fn text_whole_and_streamed_with_the_default_model() {
    let emulator = loaded(Emulator::builder()).await;
    let client = client_for(&emulator);
    // No model given: the client fills in the default (gpt-oss-20b).
    let request = MessagesRequest::new("", vec![InputMessage::user("Provide a prime number")]);
    let whole = client.messages(request.clone()).await.unwrap();
    assert_eq!(whole.model, MODEL);
    assert_eq!(whole.stop_reason, Some(StopReason::EndTurn));
    assert!(whole.text().contains("prime number"));
    let summary = client
        .messages_stream(request)
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap();
    assert!(summary.complete);
    assert_eq!(summary.text, whole.text());
    assert_eq!(summary.usage.as_ref(), Some(&whole.usage));
    assert_eq!(summary.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(summary.model.as_deref(), Some(MODEL));
    assert!(summary.message_id.unwrap().starts_with("msg_"));
    let sent = emulator.requests();
    let body: serde_json::Value = serde_json::from_str(&sent.last().unwrap().body).unwrap();
    assert_eq!(
        (body["model"].as_str(), &body["stream"]),
        (Some(MODEL), &json!(true))
    );
}

#[tokio::test]
async fn thinking_is_assembled_from_its_deltas() {
    let emulator = loaded(Emulator::builder().reasoning(ReasoningField::Reasoning)).await;
    let client = client_for(&emulator);
    let request = ask("Why is the sky blue?").with_thinking_budget(1024);
    let whole = client.messages(request.clone()).await.unwrap();
    let summary = client
        .messages_stream(request)
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap();
    assert!(!summary.thinking.is_empty());
    assert_eq!(summary.thinking, whole.thinking());
    assert_eq!(summary.text, whole.text());
    let blocks: Vec<&str> = summary
        .message
        .as_ref()
        .unwrap()
        .content
        .iter()
        .map(ContentBlock::kind)
        .collect();
    assert_eq!(blocks, ["thinking", "text"]);
}

#[tokio::test]
async fn a_tool_call_and_its_result_make_a_turn() {
    let emulator = loaded(Emulator::builder()).await;
    let client = client_for(&emulator);
    let shell = Tool::custom(
        "shell",
        "Run a command",
        json!({"type": "object", "properties": {"command": {"type": "string"}}}),
    );
    let request = ask("run shell ls").with_tools(vec![shell]);
    let summary = client
        .messages_stream(request.clone())
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap();
    assert_eq!(summary.stop_reason, Some(StopReason::ToolUse));
    assert!(summary.tool_input_errors.is_empty());
    let call = summary.tool_uses[0].clone();
    assert_eq!(call.name, "shell");
    assert!(call.input["command"].is_string());
    let mut next = request;
    next.messages
        .push(InputMessage::from(summary.message.unwrap()));
    next.messages
        .push(InputMessage::user(vec![ContentBlock::tool_result(
            &call.id,
            "a.txt b.txt",
        )]));
    let answer = client.messages(next).await.unwrap();
    assert_eq!(answer.text(), "The tool returned: a.txt b.txt");
    assert_eq!(answer.tool_uses().count(), 0);
}

#[tokio::test]
async fn two_user_turns_in_a_row_are_refused_with_lm_studios_message() {
    let emulator = loaded(Emulator::builder()).await;
    let client = client_for(&emulator);
    let request = MessagesRequest::new(
        MODEL,
        vec![InputMessage::user("one"), InputMessage::user("two")],
    );
    for streamed in [false, true] {
        let before = emulator.request_count("POST", "/v1/messages");
        let err = if streamed {
            client.messages_stream(request.clone()).await.unwrap_err()
        } else {
            client.messages(request.clone()).await.unwrap_err()
        };
        assert_eq!(emulator.request_count("POST", "/v1/messages"), before + 1);
        match &err {
            LmStudioError::Server {
                status, message, ..
            } => {
                assert_eq!(*status, 400);
                assert_eq!(
                    message,
                    r#"messages: roles must alternate between "user" and "assistant", but found multiple "user" roles in a row"#
                );
            }
            other => panic!("expected Server, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn count_tokens_and_0_3s_missing_route_are_unsupported() {
    let emulator = loaded(Emulator::builder()).await;
    let err = client_for(&emulator)
        .count_message_tokens(ask("hi"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, LmStudioError::Unsupported { operation, .. } if operation == "count_message_tokens"),
        "{err:?}"
    );
    let emulator = loaded(Emulator::builder().profile(Profile::V0_3)).await;
    let client = client_for(&emulator);
    for streamed in [false, true] {
        let err = if streamed {
            client.messages_stream(ask("hi")).await.unwrap_err()
        } else {
            client.messages(ask("hi")).await.unwrap_err()
        };
        match &err {
            LmStudioError::Unsupported {
                operation, reason, ..
            } => {
                assert_eq!(operation, "messages");
                assert!(reason.contains("0.4.1"), "{reason}");
            }
            other => panic!("expected Unsupported, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn errors_injected_mid_stream_keep_their_message() {
    for (builder, needle) in [
        (
            Emulator::builder().inject_stream_error_after(4),
            "The model has crashed",
        ),
        (
            Emulator::builder().inject_bare_stream_error_after(4),
            "peg-native format",
        ),
    ] {
        let emulator = loaded(builder).await;
        let mut stream = client_for(&emulator)
            .messages_stream(ask("hello there"))
            .await
            .unwrap();
        let err = loop {
            match futures_util::StreamExt::next(&mut stream).await.unwrap() {
                Ok(_) => {}
                Err(err) => break err,
            }
        };
        assert!(
            matches!(&err, LmStudioError::Server { status, message, .. } if *status == 200 && message.contains(needle)),
            "{err:?}"
        );
        let summary = stream.summary();
        assert!(!summary.complete);
        assert_eq!(summary.events, 4);
        assert!(summary.text.starts_with("You"), "{:?}", summary.text);
    }
}

#[tokio::test]
async fn a_stream_dropped_before_message_stop_ended_early() {
    let emulator = loaded(Emulator::builder().drop_stream_after(6)).await;
    let err = client_for(&emulator)
        .messages_stream(ask("hello there"))
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
async fn an_overflow_is_context_overflow() {
    let emulator = loaded(Emulator::builder().default_context_length(64)).await;
    let client = client_for(&emulator);
    client.models().await.unwrap();
    let err = client
        .messages_stream(ask(&"word ".repeat(400)))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            LmStudioError::ContextOverflow {
                context_length: Some(64),
                max_context_length: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_token_is_sent_as_a_bearer_token() {
    let emulator = loaded(Emulator::builder().auth_token(Some("sk-lm-msg".into()))).await;
    let mut config = support::config_for(&emulator.url());
    let refused = LMStudioClient::new(&config)
        .unwrap()
        .messages(ask("hi"))
        .await
        .unwrap_err();
    assert!(refused.is_auth(), "{refused:?}");
    config.lmstudio.api_token = Some(vtcode_config::ApiToken::new("sk-lm-msg"));
    let client = LMStudioClient::new(&config).unwrap();
    client.messages(ask("hi")).await.unwrap();
    let summary = client
        .messages_stream(ask("hi"))
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap();
    assert!(summary.complete);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_waits_for_the_background_preload_it_would_race() {
    // The emulator holds the load until the request says it is waiting for it.
    let emulator = Emulator::builder()
        .model(CatalogModel::gpt_oss_20b().downloaded(true))
        .start_fresh()
        .await
        .unwrap();
    emulator.hold_loads();
    let mut config = support::config_for(&emulator.url());
    config.lmstudio.preload = PreloadMode::Background;
    let events = Recorder::default();
    let client = support::client_for(&config, &events);
    let report = client.ensure_ready(MODEL).await.unwrap();
    assert_eq!(report.load, LoadStep::Background);
    let mut messages = tokio::spawn({
        let client = client.clone();
        async move {
            client
                .messages_stream(ask("hi"))
                .await
                .unwrap()
                .into_summary()
                .await
        }
    });
    tokio::select! {
        () = events.until(|e| matches!(e, ProgressEvent::WaitingForLoad { model } if model == MODEL)) => {}
        finished = &mut messages => panic!("the request did not wait for the preload: {finished:?}"),
    }
    emulator.release_loads();
    assert!(messages.await.unwrap().unwrap().complete);
    assert_eq!(
        emulator.loaded_instances(MODEL),
        [MODEL],
        "one instance, no JIT duplicate"
    );
}
