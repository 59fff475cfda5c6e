//! Request entry point: reads the body, checks auth, records the request, and routes it by
//! method, path and profile.

use std::convert::Infallible;
use std::time::Instant;

use http::{Request, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::json;

use super::builder::Profile;
use super::chat;
use super::reply::{self, Resp};
use super::state::RecordedRequest;
use super::{
    Shared, admin, inference, lock, manage_routes, messages, models_routes, native_chat, responses,
};

/// The header Anthropic's SDKs send the key in.
const X_API_KEY: &str = "x-api-key";

/// Largest request body the emulator reads.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Handles one HTTP request (never fails: errors are responses).
pub(crate) async fn handle(shared: Shared, request: Request<Incoming>) -> Result<Resp, Infallible> {
    let (parts, body) = request.into_parts();
    let bytes = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(reply::string_error(
                413,
                "Request body too large or unreadable",
            ));
        }
    };
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    let body = String::from_utf8_lossy(&bytes).into_owned();
    let auth = parts
        .headers
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or_default().to_owned());
    // LM Studio's Anthropic route also takes the token as `x-api-key`, as Anthropic's SDKs
    // send it.
    let api_key = parts
        .headers
        .get(X_API_KEY)
        .filter(|_| path.starts_with("/v1/messages"))
        .map(|value| value.to_str().unwrap_or_default().to_owned());
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            let value = if name == header::AUTHORIZATION || name.as_str() == X_API_KEY {
                "<redacted>".to_owned()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name.as_str().to_owned(), value)
        })
        .collect();
    let (authorized, profile) = {
        let mut state = lock(&shared);
        state.refresh(Instant::now());
        let exempt = path == "/lmstudio-greeting" || path.starts_with("/__testkit/");
        let authorized = exempt
            || !state.requires_auth()
            || bearer_matches(auth.as_deref(), state.auth_token.as_deref())
            || key_matches(api_key.as_deref(), state.auth_token.as_deref());
        if state.record_requests {
            state.requests.push(RecordedRequest {
                method: method.clone(),
                path: path.clone(),
                query: parts.uri.query().map(str::to_owned),
                body: body.clone(),
                had_auth_header: auth.is_some() || api_key.is_some(),
                authorized,
                headers,
            });
        }
        (authorized, state.profile)
    };
    if !authorized {
        return Ok(reply::auth_error(auth.is_some() || api_key.is_some()));
    }
    Ok(route(&shared, profile, &method, &path, &body).await)
}

/// Whether an `x-api-key` header carries the token.
fn key_matches(key: Option<&str>, token: Option<&str>) -> bool {
    matches!((key, token), (Some(key), Some(token)) if key.trim() == token)
}

/// Whether `Authorization` carries `Bearer <token>`.
fn bearer_matches(header: Option<&str>, token: Option<&str>) -> bool {
    let (Some(header), Some(token)) = (header, token) else {
        return false;
    };
    match header.trim().split_once(' ') {
        Some((scheme, value)) => scheme.eq_ignore_ascii_case("bearer") && value.trim() == token,
        None => false,
    }
}

async fn route(shared: &Shared, profile: Profile, method: &str, path: &str, body: &str) -> Resp {
    let v04 = profile == Profile::V0_4;
    const V1_STATUS: &str = "/api/v1/models/download/status/";
    match (method, path) {
        ("GET", "/lmstudio-greeting") => reply::json(200, &json!({ "lmstudio": true })),
        ("GET", "/v1/models") => models_routes::openai_models(shared),
        ("GET", "/api/v0/models") => models_routes::v0_models(shared),
        ("POST", "/v1/chat/completions") => chat::chat_completions(shared, body).await,
        ("POST", "/v1/completions") => inference::completions(shared, body).await,
        ("POST", "/v1/embeddings") => inference::embeddings(shared, body).await,
        ("POST", "/v1/responses") => responses::responses(shared, body).await,
        ("POST", "/v1/messages") if v04 => messages::messages(shared, body).await,
        ("GET", "/api/v1/models") if v04 => models_routes::v1_models(shared),
        ("POST", "/api/v1/chat") if v04 => native_chat::native_chat(shared, body).await,
        ("POST", "/api/v1/models/load") if v04 => manage_routes::load(shared, body).await,
        ("POST", "/api/v1/models/unload") if v04 => manage_routes::unload(shared, body),
        ("POST", "/api/v1/models/download") if v04 => manage_routes::download(shared, body),
        ("GET", p) if v04 && p.len() > V1_STATUS.len() && p.starts_with(V1_STATUS) => {
            manage_routes::download_status(shared, &percent_decode(&p[V1_STATUS.len()..]))
        }
        (_, p) if p.starts_with("/__testkit/") => admin::handle(shared, method, p, body).await,
        _ => reply::unexpected(method, path),
    }
}

/// Decodes `%XX` escapes (model ids in paths may arrive as `openai%2Fgpt-oss-20b`).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((high * 16 + low) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_handles_escapes_and_stray_percents() {
        assert_eq!(percent_decode("openai%2Fgpt-oss-20b"), "openai/gpt-oss-20b");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn bearer_tokens_must_match_exactly() {
        assert!(bearer_matches(Some("Bearer sk-1"), Some("sk-1")));
        assert!(bearer_matches(Some("bearer sk-1"), Some("sk-1")));
        assert!(!bearer_matches(Some("Bearer sk-2"), Some("sk-1")));
        assert!(!bearer_matches(Some("sk-1"), Some("sk-1")));
        assert!(!bearer_matches(None, Some("sk-1")));
        assert!(key_matches(Some("sk-1"), Some("sk-1")));
        assert!(!key_matches(Some("sk-2"), Some("sk-1")));
        assert!(!key_matches(Some("sk-1"), None));
        assert!(!key_matches(None, Some("sk-1")));
    }
}
