//! Prompts longer than the loaded context: recognising the servers' wordings and turning
//! them into [`LmStudioError::ContextOverflow`], with the model's largest context as advice.
//!
//! Recognised (the numbers are read when the text has them):
//! - LM Studio: "The number of tokens to keep from the initial prompt is greater than the
//!   context length (n_keep: 13055>= n_ctx: 4096). ..." (an `error` string, HTTP 400 or in a
//!   stream);
//! - older LM Studio: "Trying to keep the first 13055 tokens when context the overflows ...";
//! - llama.cpp's server: "request (6024 tokens) exceeds the available context size (2048
//!   tokens), try increasing it" (`type: exceed_context_size_error`, with `n_prompt_tokens` and
//!   `n_ctx` beside the message).

use crate::error::LmStudioError;

/// The numbers an overflow message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overflow {
    pub(crate) prompt_tokens: Option<u32>,
    pub(crate) context_length: Option<u32>,
}

/// Reads an overflow out of a server's message (and error type), if it is one.
pub(crate) fn parse(message: &str, error_type: Option<&str>) -> Option<Overflow> {
    if let Some(at) = message.find("n_keep:") {
        let rest = &message[at + "n_keep:".len()..];
        return Some(Overflow {
            prompt_tokens: first_number(rest),
            context_length: rest
                .find("n_ctx:")
                .and_then(|c| first_number(&rest[c + "n_ctx:".len()..])),
        });
    }
    if message.contains("greater than the context length") {
        return Some(Overflow {
            prompt_tokens: None,
            context_length: None,
        });
    }
    if let Some(rest) = message.strip_prefix("Trying to keep the first ")
        && rest.contains("tokens when context the overflows")
    {
        return Some(Overflow {
            prompt_tokens: first_number(rest),
            context_length: None,
        });
    }
    let llama = error_type == Some("exceed_context_size_error")
        || message.contains("exceeds the available context size");
    if llama {
        let prompt_tokens = message
            .find("request (")
            .and_then(|at| first_number(&message[at + "request (".len()..]));
        let context_length = message
            .find("context size (")
            .and_then(|at| first_number(&message[at + "context size (".len()..]));
        return Some(Overflow {
            prompt_tokens,
            context_length,
        });
    }
    None
}

/// The first run of ASCII digits in `text` (after optional spaces), when it fits a `u32`.
fn first_number(text: &str) -> Option<u32> {
    let text = text.trim_start();
    let digits: &str = &text[..text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len())];
    digits.parse().ok()
}

/// Turns a server error that reports an overflow into [`LmStudioError::ContextOverflow`];
/// any other error is returned as it is. `max_context_length` is the model's largest
/// context, from the cached catalog, when known.
pub(crate) fn classify(
    err: LmStudioError,
    model: &str,
    max_context_length: impl FnOnce() -> Option<u32>,
) -> LmStudioError {
    let LmStudioError::Server {
        status,
        url,
        message,
        source,
    } = err
    else {
        return err;
    };
    let error_type = source
        .as_deref()
        .and_then(|s| s.downcast_ref::<lmstudio_transport::Error>())
        .and_then(lmstudio_transport::Error::envelope)
        .and_then(|envelope| envelope.error.kind().map(str::to_owned));
    match parse(&message, error_type.as_deref()) {
        Some(overflow) => LmStudioError::ContextOverflow {
            prompt_tokens: overflow.prompt_tokens,
            context_length: overflow.context_length,
            max_context_length: max_context_length(),
            model: model.to_owned(),
            status,
            url,
            message,
            source,
        },
        None => LmStudioError::Server {
            status,
            url,
            message,
            source,
        },
    }
}

impl crate::client::LMStudioClient {
    /// Maps the error of an inference request for `model`: a prompt longer than the loaded
    /// context becomes [`LmStudioError::ContextOverflow`], with the model's largest context
    /// from the model list this process already read (no request is made for it).
    pub(crate) fn map_inference(
        &self,
        err: lmstudio_transport::Error,
        model: &str,
    ) -> LmStudioError {
        self.classify_inference(self.map_http(err), model)
    }

    /// [`map_inference`](Self::map_inference) for an error already mapped.
    pub(crate) fn classify_inference(&self, err: LmStudioError, model: &str) -> LmStudioError {
        classify(err, model, || {
            let catalog = self.engine().cached_catalog(std::time::Duration::MAX)?;
            crate::model_id::find(&catalog.models, model)
                .ok()
                .flatten()
                .and_then(|info| info.max_context_length)
                .and_then(|max| u32::try_from(max).ok())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lm_studios_wording_gives_both_numbers() {
        let text = "The number of tokens to keep from the initial prompt is greater than the context length (n_keep: 13055>= n_ctx: 4096). Try to load the model with a larger context length, or provide a shorter input.";
        assert_eq!(
            parse(text, None),
            Some(Overflow {
                prompt_tokens: Some(13055),
                context_length: Some(4096)
            })
        );
    }

    #[test]
    fn the_older_lm_studio_wording_gives_the_prompt() {
        let text = "Trying to keep the first 5000 tokens when context the overflows. However, the model is loaded with context length of only 4096 tokens, which is not enough.";
        assert_eq!(
            parse(text, None),
            Some(Overflow {
                prompt_tokens: Some(5000),
                context_length: None
            })
        );
    }

    #[test]
    fn llama_cpps_answer_gives_both_numbers() {
        let text = "request (6024 tokens) exceeds the available context size (2048 tokens), try increasing it";
        assert_eq!(
            parse(text, Some("exceed_context_size_error")),
            Some(Overflow {
                prompt_tokens: Some(6024),
                context_length: Some(2048)
            })
        );
    }

    #[test]
    fn other_errors_and_hostile_numbers_are_not_overflows_or_read_as_unknown() {
        assert_eq!(parse("Model not found", None), None);
        assert_eq!(
            parse("context length exceeded?", Some("server_error")),
            None
        );
        let huge = "(n_keep: 99999999999999999999999>= n_ctx: -1)";
        assert_eq!(
            parse(huge, None),
            Some(Overflow {
                prompt_tokens: None,
                context_length: None
            })
        );
        assert_eq!(
            parse("n_keep:", None),
            Some(Overflow {
                prompt_tokens: None,
                context_length: None
            })
        );
    }
}
