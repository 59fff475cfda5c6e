//! The OpenAI Responses API, `POST /v1/responses` (LM Studio 0.3.29+, llama.cpp's server,
//! OpenAI): whole ([`LMStudioClient::responses`]) or streamed
//! ([`LMStudioClient::responses_stream`]), with LM Studio's known behaviour handled:
//!
//! - only `function` and `mcp` tools are accepted; another type is an HTTP 400 naming
//!   `tools.N.type`, returned as [`LmStudioError::UnsupportedTool`] naming the tool from the
//!   request, and [`strip_unsupported_tools`] removes such tools beforehand;
//! - LM Studio 0.4.6 refused a request without `text.format`: `{"type":"text"}` is sent unless
//!   the request sets a format;
//! - a prompt longer than the loaded context is [`LmStudioError::ContextOverflow`], whole or
//!   inside a stream; other errors (`previous_response_not_found`, ...) come back as the server
//!   sent them, and nothing is retried.

use lmstudio_proto::openai::ToolChoiceMode;
use lmstudio_proto::responses::{
    Response, ResponsesRequest, ResponsesTool, ResponsesToolChoice, TextConfig, TextFormat,
};

use crate::client::LMStudioClient;
use crate::error::LmStudioError;
use crate::responses_stream::{ResponsesDecoder, ResponsesStream};

/// The Responses route.
pub(crate) const RESPONSES_PATH: &str = "/v1/responses";

/// The tool types LM Studio accepts on `/v1/responses`.
pub const LMSTUDIO_TOOL_TYPES: &[&str] = &["function", "mcp"];

/// Removes the tools LM Studio refuses from `request` (any `type` but `function` and `mcp`,
/// e.g. OpenAI's built-in `web_search` or `file_search`), and returns them in their order.
/// LM Studio answers a request that has one with HTTP 400 and no answer at all
/// ([`LmStudioError::UnsupportedTool`]); without them the model answers with the tools it
/// can use. A request left with no tools sends none.
///
/// When tools were removed, a `tool_choice` that no longer fits is removed too (the request
/// then sends none, so the server picks as with `auto`): one naming a removed tool's type
/// (`{"type":"web_search"}`), and `required` when no tool is left. Compare
/// `request.tool_choice` before and after to tell; a choice is never changed when nothing
/// was removed.
///
/// ```
/// use serde_json::json;
/// use vtcode_lmstudio::proto::responses::{ResponsesRequest, ResponsesTool};
///
/// let web_search: ResponsesTool = serde_json::from_value(json!({"type": "web_search"})).unwrap();
/// let mut request = ResponsesRequest::new("m", "hi").with_tools(vec![
///     ResponsesTool::function("get_weather", "Weather", json!({"type": "object"})),
///     web_search,
/// ]);
/// let removed = vtcode_lmstudio::strip_unsupported_tools(&mut request);
/// assert_eq!(removed[0].kind(), "web_search");
/// assert_eq!(request.tools.unwrap().len(), 1);
/// ```
pub fn strip_unsupported_tools(request: &mut ResponsesRequest) -> Vec<ResponsesTool> {
    let Some(tools) = request.tools.take() else {
        return Vec::new();
    };
    let (kept, removed): (Vec<_>, Vec<_>) = tools
        .into_iter()
        .partition(|tool| LMSTUDIO_TOOL_TYPES.contains(&tool.kind()));
    request.tools = (!kept.is_empty()).then_some(kept);
    if !removed.is_empty() {
        let stale = match &request.tool_choice {
            Some(ResponsesToolChoice::Mode(ToolChoiceMode::Required)) => request.tools.is_none(),
            Some(ResponsesToolChoice::Other(choice)) => {
                let kind = choice.get("type").and_then(serde_json::Value::as_str);
                removed.iter().any(|tool| Some(tool.kind()) == kind)
            }
            _ => false,
        };
        if stale {
            request.tool_choice = None;
        }
    }
    removed
}

impl LMStudioClient {
    /// `POST /v1/responses`, not streamed. An empty `model` means the default model, and
    /// `text.format` is `{"type":"text"}` unless set.
    ///
    /// Bounded by `[lmstudio].request_timeout_ms`, like [`chat`](Self::chat). A load of the
    /// model that is still running is awaited first. A refused tool is
    /// [`LmStudioError::UnsupportedTool`]; a prompt longer than the loaded context,
    /// [`LmStudioError::ContextOverflow`]; any other error keeps the server's message (a
    /// `previous_response_id` the server does not know comes back as it sent it).
    pub async fn responses(
        &self,
        mut request: ResponsesRequest,
    ) -> Result<Response, LmStudioError> {
        self.prepare_responses(&mut request).await;
        request.stream = None;
        self.http()
            .post_json(RESPONSES_PATH, &request)
            .await
            .map_err(|e| self.map_responses(e, &request))
    }

    /// `POST /v1/responses` with `stream: true`: typed [`ResponseStreamEvent`]s as they arrive,
    /// assembled into a [`ResponsesStreamSummary`](crate::ResponsesStreamSummary).
    ///
    /// The wait for the first byte is bounded by the load timeout (a just-in-time load may
    /// come first); later gaps by the idle timeout. The stream ends after
    /// `response.completed` or `response.incomplete`. An `error` event, a `response.failed`,
    /// or an error body in place of an event (LM Studio has sent a bare
    /// `{"code":500,"message":...,"type":"server_error"}`) is returned as an error with the
    /// server's message ([`LmStudioError::ContextOverflow`] when it says the prompt is too
    /// long); a body that ends before a terminal event is
    /// [`LmStudioError::StreamEndedEarly`].
    ///
    /// [`ResponseStreamEvent`]: lmstudio_proto::responses::ResponseStreamEvent
    pub async fn responses_stream(
        &self,
        mut request: ResponsesRequest,
    ) -> Result<ResponsesStream, LmStudioError> {
        self.prepare_responses(&mut request).await;
        request.stream = Some(true);
        let inner = self
            .http()
            .post(RESPONSES_PATH)
            .json(&request)
            .response_headers_timeout(self.inner.settings.load_timeout)
            .send_event_stream(ResponsesDecoder::default())
            .await
            .map_err(|e| self.map_responses(e, &request))?;
        Ok(ResponsesStream::new(inner, self.clone(), request.model))
    }

    /// Fills the default model and text format, and waits for a load of the model that is
    /// still running.
    async fn prepare_responses(&self, request: &mut ResponsesRequest) {
        if request.model.trim().is_empty() {
            request.model = self.default_model().to_owned();
        }
        let text = request.text.get_or_insert_with(TextConfig::default);
        if text.format.is_none() {
            text.format = Some(TextFormat::text());
        }
        self.wait_for_load_in_progress(&request.model).await;
    }

    /// Maps the error of a Responses request: a refused tool type names the tool, an
    /// overflow becomes [`LmStudioError::ContextOverflow`].
    fn map_responses(
        &self,
        err: lmstudio_transport::Error,
        request: &ResponsesRequest,
    ) -> LmStudioError {
        let refused = err
            .envelope()
            .and_then(|envelope| match &envelope.error {
                lmstudio_proto::error::ErrorField::Object(object) => object.param.as_deref(),
                _ => None,
            })
            .and_then(tool_index)
            .and_then(|index| Some((index, request.tools.as_ref()?.get(index)?)))
            // A tool of a type LM Studio takes is not what it refused.
            .filter(|(_, tool)| !LMSTUDIO_TOOL_TYPES.contains(&tool.kind()));
        let mapped = self.map_inference(err, &request.model);
        match (refused, mapped) {
            (
                Some((index, tool)),
                LmStudioError::Server {
                    status,
                    url,
                    message,
                    source,
                },
            ) if status.is_client_error() => LmStudioError::UnsupportedTool {
                index,
                tool_type: tool.kind().to_owned(),
                tool_name: tool.name().map(str::to_owned),
                status,
                url,
                message,
                source,
            },
            (_, mapped) => mapped,
        }
    }
}

/// The tool index of a `param` such as `tools.6.type`.
fn tool_index(param: &str) -> Option<usize> {
    let index = param.strip_prefix("tools.")?.strip_suffix(".type")?;
    index.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tool_params_name_an_index() {
        assert_eq!(tool_index("tools.6.type"), Some(6));
        assert_eq!(tool_index("tools.0.type"), Some(0));
        assert_eq!(tool_index("tools.x.type"), None);
        assert_eq!(tool_index("tools.6.name"), None);
        assert_eq!(tool_index("text.format"), None);
        assert_eq!(tool_index("tools.99999999999999999999999.type"), None);
    }

    #[test]
    fn stripping_keeps_function_and_mcp_tools_in_order() {
        let other = |kind: &str| -> ResponsesTool {
            serde_json::from_value(json!({ "type": kind })).unwrap()
        };
        let mut request = ResponsesRequest::new("m", "hi").with_tools(vec![
            other("web_search"),
            ResponsesTool::function("f", "d", json!({})),
            other("file_search"),
            ResponsesTool::mcp("hf", "https://huggingface.co/mcp"),
        ]);
        let removed = strip_unsupported_tools(&mut request);
        let kinds: Vec<&str> = removed.iter().map(ResponsesTool::kind).collect();
        assert_eq!(kinds, ["web_search", "file_search"]);
        let kept: Vec<&str> = request
            .tools
            .as_ref()
            .unwrap()
            .iter()
            .map(ResponsesTool::kind)
            .collect();
        assert_eq!(kept, ["function", "mcp"]);
        let mut only_builtin = ResponsesRequest::new("m", "hi").with_tools(vec![other("x")]);
        assert_eq!(strip_unsupported_tools(&mut only_builtin).len(), 1);
        assert_eq!(only_builtin.tools, None, "no empty list is sent");
        assert!(strip_unsupported_tools(&mut ResponsesRequest::new("m", "hi")).is_empty());
    }

    #[test]
    fn stripping_resets_a_tool_choice_that_names_a_removed_tool_or_needs_one() {
        let other =
            |value: serde_json::Value| -> ResponsesTool { serde_json::from_value(value).unwrap() };
        let choice = |value: serde_json::Value| -> ResponsesToolChoice {
            serde_json::from_value(value).unwrap()
        };
        let function = || ResponsesTool::function("f", "d", json!({}));
        // Names a removed built-in tool.
        let mut request = ResponsesRequest::new("m", "hi")
            .with_tools(vec![function(), other(json!({"type":"web_search"}))])
            .with_tool_choice(choice(json!({"type":"web_search"})));
        strip_unsupported_tools(&mut request);
        assert_eq!(request.tool_choice, None);
        // `required` with no tool left.
        let mut request = ResponsesRequest::new("m", "hi")
            .with_tools(vec![other(json!({"type":"file_search"}))])
            .with_tool_choice(ResponsesToolChoice::required());
        strip_unsupported_tools(&mut request);
        assert_eq!(request.tool_choice, None);
        // Kept: `required` with a tool left, a function, and anything when nothing was removed.
        for (tools, kept) in [
            (
                vec![function(), other(json!({"type":"web_search"}))],
                ResponsesToolChoice::required(),
            ),
            (
                vec![function(), other(json!({"type":"web_search"}))],
                choice(json!({"type":"function","name":"f"})),
            ),
            (vec![function()], choice(json!({"type":"web_search"}))),
        ] {
            let mut request = ResponsesRequest::new("m", "hi")
                .with_tools(tools)
                .with_tool_choice(kept.clone());
            strip_unsupported_tools(&mut request);
            assert_eq!(request.tool_choice, Some(kept));
        }
    }
}
