//! Parsing `vtcode.toml` text into a `VTCodeConfig`, with file/line/column/key in every error.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue, ValueDeserializer};

use crate::config::{
    AgentConfig, LmStudioConfig, PreloadMode, VTCodeConfig, check_env_name, check_non_empty,
    zero_message,
};
use crate::error::{ConfigError, Location, Origin, article_type};

/// What a file contributed: the config (defaults + file) and the unknown keys it holds.
#[derive(Debug)]
pub(crate) struct FileContents {
    pub(crate) config: VTCodeConfig,
    /// Dotted key and position of each unknown key, in file order.
    pub(crate) unknown: Vec<(String, Location)>,
}

/// One key/value entry of a parsed table, with spans.
type Entry<'a, 'i> = (&'a Spanned<DeString<'i>>, &'a Spanned<DeValue<'i>>);

/// Parses the text of the file at `path` (used for messages and to resolve a relative
/// `lmstudio.lms_path`).
pub(crate) fn parse(path: &Path, text: &str) -> Result<FileContents, ConfigError> {
    let doc = Doc { path, text };
    let root = DeTable::parse(text).map_err(|err| ConfigError::Syntax {
        location: doc.location(err.span().map_or(0, |s| s.start)),
        message: err.message().trim().to_owned(),
    })?;
    let mut contents = FileContents {
        config: VTCodeConfig::default(),
        unknown: Vec::new(),
    };
    for (key, value) in in_file_order(root.get_ref()) {
        match key.get_ref().as_ref() {
            "agent" => {
                let table = doc.section("agent", value)?;
                contents.config.agent = doc.agent(table, &mut contents.unknown)?;
            }
            "lmstudio" => {
                let table = doc.section("lmstudio", value)?;
                contents.config.lmstudio = doc.lmstudio(table, &mut contents.unknown)?;
            }
            other => {
                if let Some(kept) = doc.keep_unknown(other, value) {
                    contents.config.extra.insert(other.to_owned(), kept);
                }
                contents
                    .unknown
                    .push((other.to_owned(), doc.location(key.span().start)));
            }
        }
    }
    Ok(contents)
}

/// The entries of a table in the order they appear in the file (the parser sorts them by name).
fn in_file_order<'a, 'i>(table: &'a DeTable<'i>) -> Vec<Entry<'a, 'i>> {
    let mut entries: Vec<Entry<'a, 'i>> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
}

/// The file being parsed: turns byte spans into positions and builds errors.
struct Doc<'p, 't> {
    path: &'p Path,
    text: &'t str,
}

impl Doc<'_, '_> {
    fn location(&self, offset: usize) -> Location {
        Location::from_offset(self.path, self.text, offset)
    }

    fn wrong_type(
        &self,
        key: &str,
        value: &Spanned<DeValue<'_>>,
        expected: &'static str,
    ) -> ConfigError {
        ConfigError::WrongType {
            location: self.location(value.span().start),
            key: key.to_owned(),
            expected,
            found: article_type(value.get_ref().type_str()),
        }
    }

    fn invalid(&self, key: &str, span: Range<usize>, message: String) -> ConfigError {
        ConfigError::InvalidValue {
            origin: Origin::File(self.location(span.start)),
            key: key.to_owned(),
            message,
        }
    }

    fn section<'a, 'i>(
        &self,
        name: &str,
        value: &'a Spanned<DeValue<'i>>,
    ) -> Result<&'a DeTable<'i>, ConfigError> {
        value
            .get_ref()
            .as_table()
            .ok_or_else(|| self.wrong_type(name, value, "a table (a `[section]` header)"))
    }

    /// An unknown value, kept as a `toml::Value`.
    fn to_toml(&self, key: &str, value: &Spanned<DeValue<'_>>) -> Result<toml::Value, ConfigError> {
        toml::Value::deserialize(ValueDeserializer::from(value.clone()))
            .map_err(|err| self.invalid(key, value.span(), err.message().trim().to_owned()))
    }

    /// An unknown key's value, kept as written. Never an error: a value `toml::Value` cannot
    /// hold (an integer beyond 64 bits) is dropped with a warning.
    fn keep_unknown(&self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<toml::Value> {
        match self.to_toml(key, value) {
            Ok(kept) => Some(kept),
            Err(err) => {
                tracing::warn!(
                    key = %key,
                    at = %self.location(value.span().start),
                    error = %err,
                    "value of unknown key in vtcode.toml cannot be kept; dropped"
                );
                None
            }
        }
    }

    fn string(&self, key: &str, value: &Spanned<DeValue<'_>>) -> Result<String, ConfigError> {
        let text = value
            .get_ref()
            .as_str()
            .ok_or_else(|| self.wrong_type(key, value, "a string"))?;
        check_non_empty(text).map_err(|m| self.invalid(key, value.span(), m))?;
        Ok(text.to_owned())
    }

    /// An integer > 0. `expected` describes the unit for wrong-type messages.
    fn positive(
        &self,
        key: &str,
        value: &Spanned<DeValue<'_>>,
        expected: &'static str,
    ) -> Result<u64, ConfigError> {
        if !value.get_ref().is_integer() {
            return Err(self.wrong_type(key, value, expected));
        }
        let number = match self.to_toml(key, value) {
            Ok(toml::Value::Integer(n)) => n,
            // The only integers TOML values cannot hold are those beyond 64 bits.
            _ => {
                return Err(self.invalid(
                    key,
                    value.span(),
                    format!("is too large; the largest accepted value is {}", i64::MAX),
                ));
            }
        };
        match u64::try_from(number) {
            Ok(0) => Err(self.invalid(key, value.span(), zero_message(key, true))),
            Ok(n) => Ok(n),
            Err(_) => Err(self.invalid(
                key,
                value.span(),
                format!("must be greater than 0, found {number}"),
            )),
        }
    }

    fn agent(
        &self,
        table: &DeTable<'_>,
        unknown: &mut Vec<(String, Location)>,
    ) -> Result<AgentConfig, ConfigError> {
        let mut agent = AgentConfig::default();
        for (key, value) in in_file_order(table) {
            let name = key.get_ref().as_ref();
            let dotted = format!("agent.{name}");
            match name {
                "provider" => agent.provider = self.string(&dotted, value)?,
                "default_model" => agent.default_model = Some(self.string(&dotted, value)?),
                _ => {
                    if let Some(kept) = self.keep_unknown(&dotted, value) {
                        agent.extra.insert(name.to_owned(), kept);
                    }
                    unknown.push((dotted, self.location(key.span().start)));
                }
            }
        }
        Ok(agent)
    }

    fn lmstudio(
        &self,
        table: &DeTable<'_>,
        unknown: &mut Vec<(String, Location)>,
    ) -> Result<LmStudioConfig, ConfigError> {
        self.reject_token(table)?;
        const MS: &str = "an integer number of milliseconds (e.g. 5000)";
        let mut lm = LmStudioConfig::default();
        for (key, value) in in_file_order(table) {
            let name = key.get_ref().as_ref();
            let dotted = format!("lmstudio.{name}");
            let key_offset = key.span().start;
            let key = &dotted;
            match name {
                "base_url" => lm.base_url = Some(self.string(key, value)?),
                "api_token_env" => {
                    let env = value
                        .get_ref()
                        .as_str()
                        .ok_or_else(|| self.wrong_type(key, value, "a string"))?;
                    check_env_name(env).map_err(|m| self.invalid(key, value.span(), m))?;
                    lm.api_token_env = env.to_owned();
                }
                "connect_timeout_ms" => lm.connect_timeout_ms = self.positive(key, value, MS)?,
                "response_headers_timeout_ms" => {
                    lm.response_headers_timeout_ms = self.positive(key, value, MS)?;
                }
                "idle_timeout_ms" => lm.idle_timeout_ms = self.positive(key, value, MS)?,
                "request_timeout_ms" => lm.request_timeout_ms = self.positive(key, value, MS)?,
                "load_timeout_ms" => lm.load_timeout_ms = self.positive(key, value, MS)?,
                "start_timeout_ms" => lm.start_timeout_ms = self.positive(key, value, MS)?,
                "auto_start" => {
                    lm.auto_start = value
                        .get_ref()
                        .as_bool()
                        .ok_or_else(|| self.wrong_type(key, value, "a boolean (true or false)"))?;
                }
                "download_timeout_ms" => {
                    lm.download_timeout_ms = Some(self.positive(key, value, MS)?);
                }
                "max_body_bytes" => {
                    let expected = "an integer number of bytes (e.g. 33554432)";
                    lm.max_body_bytes = self.positive(key, value, expected)?;
                }
                "lms_path" => lm.lms_path = Some(self.lms_path(self.string(key, value)?)),
                "preload" => lm.preload = self.preload(key, value)?,
                "context_length" => {
                    let n = self.positive(key, value, "an integer number of tokens (e.g. 8192)")?;
                    let n = u32::try_from(n).map_err(|_| {
                        self.invalid(
                            key,
                            value.span(),
                            format!("must be at most {}, found {n}", u32::MAX),
                        )
                    })?;
                    lm.context_length = Some(n);
                }
                "ttl_seconds" => {
                    let expected = "an integer number of seconds (e.g. 3600)";
                    lm.ttl_seconds = Some(self.positive(key, value, expected)?);
                }
                _ => {
                    if let Some(kept) = self.keep_unknown(key, value) {
                        lm.extra.insert(name.to_owned(), kept);
                    }
                    unknown.push((dotted.clone(), self.location(key_offset)));
                }
            }
        }
        Ok(lm)
    }

    /// `lmstudio.api_token` in the file is an error that names the env var to use instead.
    fn reject_token(&self, table: &DeTable<'_>) -> Result<(), ConfigError> {
        let Some((key, _)) = table.iter().find(|(k, _)| k.get_ref() == "api_token") else {
            return Ok(());
        };
        let env_var = table
            .iter()
            .find(|(k, _)| k.get_ref() == "api_token_env")
            .and_then(|(_, v)| v.get_ref().as_str())
            .filter(|name| check_env_name(name).is_ok())
            .unwrap_or(crate::config::DEFAULT_API_TOKEN_ENV);
        Err(ConfigError::TokenInFile {
            location: self.location(key.span().start),
            env_var: env_var.to_owned(),
        })
    }

    fn preload(&self, key: &str, value: &Spanned<DeValue<'_>>) -> Result<PreloadMode, ConfigError> {
        const EXPECTED: &str = "one of the strings \"background\", \"wait\" or \"off\"";
        let name = value
            .get_ref()
            .as_str()
            .ok_or_else(|| self.wrong_type(key, value, EXPECTED))?;
        PreloadMode::from_name(name.trim()).ok_or_else(|| {
            self.invalid(
                key,
                value.span(),
                format!(
                    "unknown preload mode {name:?}; valid values are {}",
                    PreloadMode::VALID.map(|v| format!("\"{v}\"")).join(", ")
                ),
            )
        })
    }

    /// A relative `lms_path` is relative to the directory holding the file.
    fn lms_path(&self, raw: String) -> PathBuf {
        let path = PathBuf::from(raw);
        match self.path.parent() {
            Some(dir) if path.is_relative() && !dir.as_os_str().is_empty() => dir.join(path),
            _ => path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<FileContents, ConfigError> {
        parse(Path::new("/ws/vtcode.toml"), text)
    }

    #[test]
    fn dotted_keys_and_inline_tables_are_sections_too() {
        let contents =
            parse_str("lmstudio.base_url = \"http://a:1\"\nagent = { default_model = \"m\" }\n")
                .expect("valid");
        assert_eq!(
            contents.config.lmstudio.base_url.as_deref(),
            Some("http://a:1")
        );
        assert_eq!(contents.config.agent.default_model.as_deref(), Some("m"));
    }

    #[test]
    fn relative_lms_path_is_relative_to_the_file() {
        let contents = parse_str("[lmstudio]\nlms_path = \"tools/lms\"\n").expect("valid");
        assert_eq!(
            contents.config.lmstudio.lms_path,
            Some(PathBuf::from("/ws/tools/lms"))
        );
        let contents = parse_str("[lmstudio]\nlms_path = \"/opt/lms\"\n").expect("valid");
        assert_eq!(
            contents.config.lmstudio.lms_path,
            Some(PathBuf::from("/opt/lms"))
        );
    }

    #[test]
    fn section_of_wrong_type_is_named() {
        let err = parse_str("lmstudio = 3\n").expect_err("not a table");
        assert!(
            matches!(&err, ConfigError::WrongType { key, location, .. } if key == "lmstudio" && location.line == 1),
            "{err:?}"
        );
    }

    #[test]
    fn duplicate_keys_are_syntax_errors() {
        let err = parse_str("[agent]\nprovider = \"a\"\nprovider = \"b\"\n").expect_err("dup");
        assert!(
            matches!(&err, ConfigError::Syntax { location, .. } if location.line == 3),
            "{err:?}"
        );
    }

    #[test]
    fn auto_start_is_a_boolean_and_its_timeout_positive() {
        let contents =
            parse_str("[lmstudio]\nauto_start = true\nstart_timeout_ms = 1500\n").expect("valid");
        assert!(contents.config.lmstudio.auto_start);
        assert_eq!(contents.config.lmstudio.start_timeout_ms, 1500);
        let err = parse_str("[lmstudio]\nauto_start = \"yes\"\n").expect_err("a string");
        assert!(
            matches!(&err, ConfigError::WrongType { key, expected, .. }
                if key == "lmstudio.auto_start" && expected.contains("boolean")),
            "{err:?}"
        );
        let err = parse_str("[lmstudio]\nstart_timeout_ms = 0\n").expect_err("zero");
        let text = err.to_string();
        assert!(text.contains("lmstudio.start_timeout_ms"), "{text}");
        assert!(text.contains("90000"), "{text}");
    }

    #[test]
    fn huge_context_length_is_rejected() {
        let err = parse_str("[lmstudio]\ncontext_length = 5000000000\n").expect_err("too big");
        assert!(err.to_string().contains("lmstudio.context_length"), "{err}");
    }
}
