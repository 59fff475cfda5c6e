//! Checking model arguments before they reach `lms`'s command line.

use crate::error::LmsError;

/// Checks a model key, variant (`key@quant`), instance identifier or URL before it is passed
/// to `lms`.
///
/// Refused: the empty string, a leading `-` (it would be read as a flag), any whitespace or
/// control character, and more than one `@`. Nothing runs through a shell, so no other
/// character needs escaping.
pub fn validate_model_arg(arg: &str) -> Result<(), LmsError> {
    let refuse = |reason: &'static str| {
        Err(LmsError::InvalidModelArg {
            arg: arg.to_owned(),
            reason,
        })
    };
    if arg.is_empty() {
        return refuse("it is empty");
    }
    if arg.starts_with('-') {
        return refuse("it starts with '-' and would be read as a flag");
    }
    if arg.chars().any(char::is_whitespace) {
        return refuse("it contains whitespace");
    }
    if arg.chars().any(char::is_control) {
        return refuse("it contains a control character");
    }
    if arg.matches('@').count() > 1 {
        return refuse("it contains more than one '@'");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_keys_variants_instances_and_urls() {
        for ok in [
            "openai/gpt-oss-20b",
            "qwen/qwen3.5-9b@q8_0",
            "google/gemma-4-e4b:6",
            "https://huggingface.co/owner/repo",
            "a",
        ] {
            assert!(validate_model_arg(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_with_a_reason() {
        for bad in [
            "", "-x", "--yes", "a b", "a\tb", "a\nb", "a\u{0}b", "a\u{7f}", "a@b@c", "a\u{a0}b",
        ] {
            match validate_model_arg(bad) {
                Err(LmsError::InvalidModelArg { arg, reason }) => {
                    assert_eq!(arg, bad);
                    assert!(!reason.is_empty());
                }
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }
}
