//! Compile-time checks: the facade's futures are `Send` (so they can be spawned on a
//! multi-threaded runtime), and its handles are `Send + Sync + 'static`.

use std::future::Future;
use std::sync::Arc;

use vtcode_config::{PreloadMode, VTCodeConfig};

use crate::{LMStudioClient, LoadOptions, NoProgress};

fn send<T: Send>(_: &T) {}
fn send_sync_static<T: Send + Sync + 'static>() {}

/// Never called: it only has to compile.
#[allow(dead_code)]
fn futures_are_send(client: &LMStudioClient, config: &VTCodeConfig) {
    fn check<F: Future + Send>(future: F) {
        send(&future);
    }
    check(crate::ensure_oss_ready(config));
    check(crate::ensure_oss_ready_with_report(config));
    check(LMStudioClient::try_from_provider(config));
    check(client.fetch_models());
    check(client.load_model("m"));
    check(client.download_model("m"));
    check(client.models());
    check(client.refresh_models());
    check(client.server_info());
    check(client.model_info("m"));
    check(client.download("m", &NoProgress));
    check(client.load("m"));
    check(client.load_with("m", &LoadOptions::default()));
    check(client.unload("m"));
    check(client.status());
    check(client.ensure_ready("m"));
    check(client.ensure_ready_with("m", PreloadMode::Wait, Arc::new(NoProgress)));
    let request = crate::proto::openai::ChatCompletionRequest::new("m", Vec::new());
    check(client.chat(request.clone()));
    check(client.chat_stream(request));
    let native = crate::proto::native::v1::ChatRequest::new("m", "hi");
    check(client.native_chat(native.clone()));
    check(client.native_chat_stream(native));
    let responses = crate::proto::responses::ResponsesRequest::new("m", "hi");
    check(client.responses(responses.clone()));
    check(client.responses_stream(responses));
    let messages = crate::proto::anthropic::MessagesRequest::new("m", Vec::new());
    check(client.messages(messages.clone()));
    check(client.messages_stream(messages.clone()));
    check(client.count_message_tokens(messages));
}

/// Never called: the native stream's summary future is `Send` too.
#[allow(dead_code)]
fn stream_futures_are_send(
    stream: crate::NativeChatStream,
    responses: crate::ResponsesStream,
    messages: crate::MessagesStream,
) {
    send(&stream.into_summary());
    send(&responses.into_summary());
    send(&messages.into_summary());
}

#[test]
fn handles_cross_threads() {
    send_sync_static::<LMStudioClient>();
    send_sync_static::<crate::LmStudioError>();
    send_sync_static::<crate::ReadinessReport>();
    fn send_static<T: Send + 'static>() {}
    send_static::<crate::ChatStream>();
    send_static::<crate::NativeChatStream>();
    send_static::<crate::ResponsesStream>();
    send_static::<crate::MessagesStream>();
    send_static::<crate::LMStudioClientBuilder>();
}
