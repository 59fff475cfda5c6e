//! Model-id matching: exact first, then tolerant of a variant or instance suffix and ASCII case,
//! and never a different model.
//!
//! LM Studio names a model by its key (`publisher/name`), a variant (`key@q4_k_m`) or a loaded
//! instance (`key`, `key:2`, or a custom identifier). Users type any of these, in any case.

use crate::catalog::ModelInfo;
use crate::error::LmStudioError;

/// The parts of a model id: base key, optional `@variant`, optional `:N` instance suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ModelId<'a> {
    /// The key without variant or instance suffix.
    pub(crate) base: &'a str,
    /// The variant after `@`, if any.
    pub(crate) variant: Option<&'a str>,
}

impl<'a> ModelId<'a> {
    /// Splits `key@variant:N` into its parts. `:N` is only an instance suffix when N is digits.
    pub(crate) fn parse(id: &'a str) -> Self {
        let without_instance = match id.rsplit_once(':') {
            Some((head, tail))
                if !head.is_empty()
                    && !tail.is_empty()
                    && tail.bytes().all(|b| b.is_ascii_digit()) =>
            {
                head
            }
            _ => id,
        };
        match without_instance.split_once('@') {
            Some((base, variant)) if !base.is_empty() => Self {
                base,
                variant: Some(variant),
            },
            _ => Self {
                base: without_instance,
                variant: None,
            },
        }
    }
}

/// Checks that a model id is usable at all: not empty, no whitespace or control characters,
/// at most one `@`, no leading `-`.
pub(crate) fn validate(model: &str) -> Result<(), LmStudioError> {
    let problem = if model.is_empty() {
        Some("it is empty")
    } else if model.starts_with('-') {
        Some("it starts with '-'")
    } else if model.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("it contains whitespace or control characters")
    } else if model.matches('@').count() > 1 {
        Some("it contains more than one '@'")
    } else {
        None
    };
    match problem {
        Some(reason) => Err(LmStudioError::Config(format!(
            "model id {model:?} is not valid: {reason}"
        ))),
        None => Ok(()),
    }
}

/// Finds the model `wanted` names, or `Ok(None)` when the server does not have it.
///
/// Order: exact key, exact variant, exact loaded-instance id; then the same comparisons
/// ignoring ASCII case and an instance suffix. A requested variant must be one the model
/// lists (when it lists any). Several loose matches are an error, never a guess.
pub(crate) fn find<'m>(
    models: &'m [ModelInfo],
    wanted: &str,
) -> Result<Option<&'m ModelInfo>, LmStudioError> {
    if let Some(exact) = models.iter().find(|m| is_exact(m, wanted)) {
        return Ok(Some(exact));
    }
    let loose: Vec<&ModelInfo> = models.iter().filter(|m| is_loose(m, wanted)).collect();
    match loose.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        many => Err(LmStudioError::AmbiguousModel {
            model: wanted.to_owned(),
            candidates: many.iter().map(|m| m.key.clone()).collect(),
        }),
    }
}

fn is_exact(model: &ModelInfo, wanted: &str) -> bool {
    model.key == wanted
        || model.variants.iter().any(|v| v == wanted)
        || model.loaded_instances.iter().any(|i| i.id == wanted)
}

fn is_loose(model: &ModelInfo, wanted: &str) -> bool {
    let want = ModelId::parse(wanted);
    let have = ModelId::parse(&model.key);
    let same_base = want.base.eq_ignore_ascii_case(have.base);
    if !same_base {
        // A custom instance identifier, typed in another case.
        return model
            .loaded_instances
            .iter()
            .any(|i| i.id.eq_ignore_ascii_case(wanted));
    }
    match (want.variant, have.variant) {
        (None, _) => true,
        (Some(w), Some(h)) => w.eq_ignore_ascii_case(h),
        (Some(w), None) => {
            model.variants.is_empty()
                || model.variants.iter().any(|v| {
                    ModelId::parse(v)
                        .variant
                        .is_some_and(|x| x.eq_ignore_ascii_case(w))
                })
                || model
                    .selected_variant
                    .as_deref()
                    .and_then(|s| ModelId::parse(s).variant)
                    .is_some_and(|x| x.eq_ignore_ascii_case(w))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{LoadedInstanceInfo, ModelInfo};

    fn model(key: &str) -> ModelInfo {
        ModelInfo::new(key)
    }

    fn with_variants(key: &str, variants: &[&str]) -> ModelInfo {
        let mut m = model(key);
        m.variants = variants.iter().map(|v| (*v).to_owned()).collect();
        m
    }

    fn keys(found: Option<&ModelInfo>) -> Option<&str> {
        found.map(|m| m.key.as_str())
    }

    #[test]
    fn parse_splits_variant_and_instance() {
        assert_eq!(
            ModelId::parse("openai/gpt-oss-20b@q4_k_m:2"),
            ModelId {
                base: "openai/gpt-oss-20b",
                variant: Some("q4_k_m")
            }
        );
        assert_eq!(ModelId::parse("a/b:latest").base, "a/b:latest");
        assert_eq!(ModelId::parse("a/b:").base, "a/b:");
    }

    #[test]
    fn exact_then_loose_and_never_another_model() {
        let models = vec![
            model("openai/gpt-oss-20b"),
            model("openai/gpt-oss-120b"),
            with_variants(
                "qwen/qwen3-4b",
                &["qwen/qwen3-4b@q4_k_m", "qwen/qwen3-4b@q8_0"],
            ),
        ];
        let find = |w: &str| keys(find(&models, w).expect("no ambiguity"));
        assert_eq!(find("openai/gpt-oss-20b"), Some("openai/gpt-oss-20b"));
        assert_eq!(find("OpenAI/GPT-OSS-20B"), Some("openai/gpt-oss-20b"));
        assert_eq!(find("openai/gpt-oss-20b:2"), Some("openai/gpt-oss-20b"));
        assert_eq!(find("openai/gpt-oss-20b@mxfp4"), Some("openai/gpt-oss-20b"));
        assert_eq!(find("qwen/qwen3-4b@Q8_0"), Some("qwen/qwen3-4b"));
        // A variant the model does not have is not this model.
        assert_eq!(find("qwen/qwen3-4b@q2_k"), None);
        // Prefixes, suffixes and other publishers never match.
        assert_eq!(find("openai/gpt-oss"), None);
        assert_eq!(find("gpt-oss-20b"), None);
        assert_eq!(find("openai/gpt-oss-20"), None);
        assert_eq!(find("other/gpt-oss-20b"), None);
    }

    #[test]
    fn instance_ids_match_exactly() {
        let mut m = model("google/gemma-3-1b");
        m.loaded_instances = vec![
            LoadedInstanceInfo::new("google/gemma-3-1b"),
            LoadedInstanceInfo::new("my-gemma"),
        ];
        let models = vec![m];
        assert!(find(&models, "my-gemma").expect("ok").is_some());
        assert!(find(&models, "MY-GEMMA").expect("ok").is_some());
        assert!(find(&models, "my-gemm").expect("ok").is_none());
    }

    #[test]
    fn case_only_duplicates_are_ambiguous_but_exact_wins() {
        let models = vec![model("Org/Model"), model("org/model")];
        assert_eq!(
            keys(find(&models, "org/model").expect("exact")),
            Some("org/model")
        );
        assert!(matches!(
            find(&models, "ORG/MODEL"),
            Err(LmStudioError::AmbiguousModel { .. })
        ));
    }

    #[test]
    fn validation_rejects_flags_spaces_and_double_at() {
        assert!(validate("openai/gpt-oss-20b").is_ok());
        assert!(validate("qwen/qwen3-4b@q4_k_m").is_ok());
        for bad in ["", "-rf", "a b", "a\tb", "a@b@c", "a\u{7}"] {
            assert!(validate(bad).is_err(), "{bad:?} accepted");
        }
    }
}
