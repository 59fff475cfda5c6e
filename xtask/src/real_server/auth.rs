//! Real-server checks with an API key required: the right key works for every call, a wrong
//! or missing key is a `PermissionDenied` error that names the token variable and never
//! contains a token.

use std::io;

use vtcode_lmstudio::proto::openai::{ChatCompletionRequest, ChatMessage, EmbeddingRequest};
use vtcode_lmstudio::{LMStudioClient, LmStudioError, ServerKind, ensure_oss_ready};

use super::metrics::Tally;
use super::server::ALIAS;
use super::{QUICK, TOKEN_ENV, client, config};
use crate::checks::{CheckResult, Suite, ensure};

/// Runs the checks against the server at `url` that requires `key`.
pub(crate) async fn run(suite: &mut Suite, tally: &mut Tally, url: &str, key: &str) {
    tally
        .check(
            suite,
            "api key: the right key works (models, chat, stream, embeddings)",
            QUICK,
            right_key(url, key),
        )
        .await;
    tally
        .check(
            suite,
            "api key: a wrong key is PermissionDenied without the token",
            QUICK,
            wrong_key(url, key),
        )
        .await;
    tally
        .check(
            suite,
            "api key: a missing key is PermissionDenied naming the variable",
            QUICK,
            missing_key(url, key),
        )
        .await;
}

fn hi() -> ChatCompletionRequest {
    ChatCompletionRequest::new(ALIAS, vec![ChatMessage::user("Say hi.")])
        .with_temperature(0.0)
        .with_max_tokens(4)
}

async fn right_key(url: &str, key: &str) -> CheckResult {
    let config = config(url, Some(ALIAS), Some(key));
    let client = LMStudioClient::try_from_provider(&config)
        .await
        .map_err(|e| format!("try_from_provider: {e}"))?;
    let info = client
        .server_info()
        .await
        .map_err(|e| format!("server_info: {e}"))?;
    ensure(info.kind == ServerKind::OpenAiCompatible, || {
        format!("kind {:?}", info.kind)
    })?;
    let keys = client
        .fetch_models()
        .await
        .map_err(|e| format!("fetch_models: {e}"))?;
    ensure(keys.iter().any(|k| k == ALIAS), || {
        format!("fetch_models() = {keys:?}")
    })?;
    let whole = client.chat(hi()).await.map_err(|e| format!("chat: {e}"))?;
    ensure(whole.usage.is_some(), || "chat without usage".to_owned())?;
    let stream = client
        .chat_stream(hi())
        .await
        .map_err(|e| format!("chat_stream: {e}"))?;
    let summary = stream
        .into_summary()
        .await
        .map_err(|e| format!("stream: {e}"))?;
    ensure(
        summary.usage.is_some() && summary.finish_reason.is_some(),
        || format!("incomplete stream summary {summary:?}"),
    )?;
    let embedded = client
        .embeddings(EmbeddingRequest::new(ALIAS, "hello"))
        .await
        .map_err(|e| format!("embeddings: {e}"))?;
    ensure(embedded.data.len() == 1, || {
        format!("{} vectors", embedded.data.len())
    })?;
    ensure_oss_ready(&config)
        .await
        .map_err(|e| format!("ensure_oss_ready: {e}"))?;
    ensure(!format!("{client:?}").contains(key), || {
        "Debug of the client shows the key".to_owned()
    })
}

async fn wrong_key(url: &str, key: &str) -> CheckResult {
    let wrong = format!("{key}-wrong");
    let client = client(&config(url, Some(ALIAS), Some(&wrong)))?;
    let chat = client.chat(hi()).await.err();
    expect_auth("chat", chat, true, &[key, &wrong])?;
    let stream = client.chat_stream(hi()).await.err();
    expect_auth("chat_stream", stream, true, &[key, &wrong])?;
    let models = client.models().await.err();
    expect_auth("models", models, true, &[key, &wrong])?;
    let fetched = client.fetch_models().await;
    expect_io_denied("fetch_models", fetched.map(|_| ()), &[key, &wrong])
}

async fn missing_key(url: &str, key: &str) -> CheckResult {
    let config = config(url, Some(ALIAS), None);
    let client = client(&config)?;
    let chat = client.chat(hi()).await.err();
    expect_auth("chat", chat, false, &[key])?;
    let embeddings = client
        .embeddings(EmbeddingRequest::new(ALIAS, "hello"))
        .await
        .err();
    expect_auth("embeddings", embeddings, false, &[key])?;
    let provider = LMStudioClient::try_from_provider(&config).await.map(|_| ());
    expect_io_denied("try_from_provider", provider, &[key])?;
    expect_io_denied("ensure_oss_ready", ensure_oss_ready(&config).await, &[key])
}

/// An `Auth` error with HTTP 401, the server's message, the token variable's name, whether a
/// token was sent, and none of `secrets` in its Display or Debug.
fn expect_auth(
    what: &str,
    err: Option<LmStudioError>,
    sent: bool,
    secrets: &[&str],
) -> CheckResult {
    let err = err.ok_or_else(|| format!("{what} succeeded without a valid key"))?;
    let LmStudioError::Auth {
        status,
        message,
        token_env,
        token_sent,
        ..
    } = &err
    else {
        return Err(format!("{what}: expected LmStudioError::Auth, got {err:?}"));
    };
    ensure(*status == 401, || format!("{what}: status {status}"))?;
    ensure(message.contains("Invalid API Key"), || {
        format!("{what}: the server's message was lost: {message:?}")
    })?;
    ensure(token_env == TOKEN_ENV && *token_sent == sent, || {
        format!("{what}: token_env {token_env:?}, token_sent {token_sent}")
    })?;
    let io_err: io::Error = err.clone().into();
    ensure(io_err.kind() == io::ErrorKind::PermissionDenied, || {
        format!("{what}: io kind {:?}", io_err.kind())
    })?;
    let text = format!("{err} {err:?} {io_err} {io_err:?}");
    ensure(text.contains(TOKEN_ENV), || {
        format!("{what}: {err} does not name {TOKEN_ENV}")
    })?;
    no_secrets(what, &text, secrets)
}

/// A seed-API error of kind `PermissionDenied` without any of `secrets`.
fn expect_io_denied(what: &str, outcome: io::Result<()>, secrets: &[&str]) -> CheckResult {
    let err = match outcome {
        Ok(()) => return Err(format!("{what} succeeded without a valid key")),
        Err(err) => err,
    };
    ensure(err.kind() == io::ErrorKind::PermissionDenied, || {
        format!(
            "{what}: io kind {:?}, expected PermissionDenied: {err}",
            err.kind()
        )
    })?;
    ensure(!err.to_string().contains("not responding"), || {
        format!("{what}: an auth failure reads as not responding: {err}")
    })?;
    no_secrets(what, &format!("{err} {err:?}"), secrets)
}

fn no_secrets(what: &str, text: &str, secrets: &[&str]) -> CheckResult {
    ensure(!secrets.iter().any(|s| text.contains(s)), || {
        format!("{what}: the error text contains a token")
    })
}
