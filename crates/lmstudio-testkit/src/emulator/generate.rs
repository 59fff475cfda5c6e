//! Deterministic "generation": answer text, reasoning, tool calls and token counts derived
//! from the request, so tests can predict every byte. A token is a whitespace-separated word.

use serde_json::{Map, Value, json};

use super::clock;

/// What the emulated model produces for one request.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Generation {
    /// Reasoning text (empty when reasoning is off or the budget was spent).
    pub(crate) reasoning: String,
    /// Answer text (possibly empty).
    pub(crate) content: String,
    /// The tool call, when the model decided to call one.
    pub(crate) tool_call: Option<PlannedToolCall>,
    /// `stop`, `length` or `tool_calls`.
    pub(crate) finish_reason: &'static str,
    /// Words in the prompt.
    pub(crate) prompt_tokens: u64,
    /// Words produced (reasoning + content, or the tool call's pieces).
    pub(crate) completion_tokens: u64,
    /// Words of reasoning.
    pub(crate) reasoning_tokens: u64,
}

/// A tool call the emulated model makes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PlannedToolCall {
    /// A numeric-string id, as LM Studio sends.
    pub(crate) id: String,
    /// The function name.
    pub(crate) name: String,
    /// The arguments as a JSON string.
    pub(crate) arguments: String,
}

/// Number of tokens (words) in a text.
pub(crate) fn count_tokens(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// The text of a message `content`: a string, or the `text` of each part of an array.
pub(crate) fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|part| match part {
                Value::String(text) => Some(text.as_str()),
                other => other.get("text").and_then(Value::as_str),
            })
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// Splits a text into streamable pieces, one per token, each keeping its leading whitespace.
pub(crate) fn pieces(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    for ch in text.chars() {
        if ch.is_whitespace() {
            if in_word {
                out.push(std::mem::take(&mut current));
                in_word = false;
            }
        } else {
            in_word = true;
        }
        current.push(ch);
    }
    if !current.is_empty() {
        match out.last_mut() {
            Some(last) if !in_word => last.push_str(&current),
            _ => out.push(current),
        }
    }
    out
}

/// Splits a string into fragments of at most `size` characters (tool-call argument deltas).
pub(crate) fn fragments(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(size.max(1))
        .map(|chunk| chunk.iter().collect())
        .collect()
}

/// The first `limit` words of a text.
fn first_words(text: &str, limit: usize) -> String {
    text.split_whitespace()
        .take(limit)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The answer to a prompt: fixed wording around the prompt's first words.
pub(crate) fn answer_for(prompt: &str) -> String {
    let echo = first_words(prompt, 24);
    if echo.is_empty() {
        "Hello! I am the LM Studio emulator. Ask me anything and I will answer deterministically."
            .to_owned()
    } else {
        format!(
            "You said: \"{echo}\". I am the LM Studio emulator, so this answer is canned but deterministic."
        )
    }
}

/// The reasoning text for a prompt.
pub(crate) fn reasoning_for(prompt: &str) -> String {
    format!(
        "The user wrote \"{}\". A short and direct answer is best.",
        first_words(prompt, 12)
    )
}

/// The token budget a request sets (`max_tokens`, `max_completion_tokens`,
/// `max_output_tokens`); `None` when unlimited (absent or negative, e.g. `-1`).
pub(crate) fn token_budget(request: &Map<String, Value>) -> Option<u64> {
    ["max_tokens", "max_completion_tokens", "max_output_tokens"]
        .iter()
        .find_map(|key| request.get(*key).and_then(Value::as_i64))
        .and_then(|n| u64::try_from(n).ok())
}

/// Cuts `text` at the earliest stop sequence (`stop`: a string or an array of strings).
fn apply_stop(text: &str, stop: Option<&Value>) -> (String, bool) {
    let sequences: Vec<&str> = match stop {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let cut = sequences
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s))
        .min();
    match cut {
        Some(at) => (text[..at].to_owned(), true),
        None => (text.to_owned(), false),
    }
}

/// Takes up to `budget` tokens of `text`, spending the budget. Returns (kept, truncated).
fn spend(text: &str, budget: &mut Option<u64>) -> (String, bool) {
    let parts = pieces(text);
    match budget {
        None => (text.to_owned(), false),
        Some(left) => {
            let take = usize::try_from(*left)
                .unwrap_or(usize::MAX)
                .min(parts.len());
            *left -= take as u64;
            let kept: String = parts[..take].concat();
            (kept.trim_start().to_owned(), take < parts.len())
        }
    }
}

/// Generates the answer to a prompt text (completions, responses, and chat without tools).
pub(crate) fn generate_text(
    prompt: &str,
    answer: &str,
    with_reasoning: bool,
    budget: Option<u64>,
    stop: Option<&Value>,
) -> Generation {
    let mut budget = budget;
    let (reasoning, reasoning_cut) = if with_reasoning {
        spend(&reasoning_for(prompt), &mut budget)
    } else {
        (String::new(), false)
    };
    let (answer, _stopped) = apply_stop(answer, stop);
    let (content, content_cut) = if reasoning_cut {
        (String::new(), true)
    } else {
        spend(&answer, &mut budget)
    };
    let truncated = reasoning_cut || content_cut;
    let reasoning_tokens = count_tokens(&reasoning);
    Generation {
        completion_tokens: reasoning_tokens + count_tokens(&content),
        reasoning_tokens,
        reasoning,
        content,
        tool_call: None,
        finish_reason: if truncated { "length" } else { "stop" },
        prompt_tokens: count_tokens(prompt).max(1),
    }
}

/// Generates the answer to a chat request: a tool call when tools are offered and the last
/// user message names one (or `tool_choice` demands one), else text.
pub(crate) fn generate_chat(
    request: &Map<String, Value>,
    with_reasoning: bool,
    seed: u64,
) -> Generation {
    let messages = request
        .get("messages")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let prompt_tokens = messages
        .iter()
        .map(|m| count_tokens(&content_text(m.get("content"))))
        .sum::<u64>()
        .max(1);
    let last = messages.last();
    let last_role = last.and_then(|m| m.get("role")).and_then(Value::as_str);
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(|m| content_text(m.get("content")))
        .unwrap_or_default();
    let budget = token_budget(request);
    if last_role != Some("tool")
        && let Some(call) = choose_tool(request, &last_user, seed)
    {
        let reasoning = if with_reasoning {
            reasoning_for(&last_user)
        } else {
            String::new()
        };
        let reasoning_tokens = count_tokens(&reasoning);
        return Generation {
            completion_tokens: reasoning_tokens + fragments(&call.arguments, 6).len() as u64 + 1,
            reasoning_tokens,
            reasoning,
            content: String::new(),
            tool_call: Some(call),
            finish_reason: "tool_calls",
            prompt_tokens,
        };
    }
    let answer = if last_role == Some("tool") {
        let output = last
            .map(|m| content_text(m.get("content")))
            .unwrap_or_default();
        format!("The tool returned: {}", first_words(&output, 24))
    } else {
        answer_for(&last_user)
    };
    let mut generation = generate_text(
        &last_user,
        &answer,
        with_reasoning,
        budget,
        request.get("stop"),
    );
    generation.prompt_tokens = prompt_tokens;
    generation
}

/// Picks the tool to call, if any, and builds its arguments.
fn choose_tool(
    request: &Map<String, Value>,
    user_text: &str,
    seed: u64,
) -> Option<PlannedToolCall> {
    let tools = request.get("tools").and_then(Value::as_array)?;
    let functions: Vec<&Value> = tools.iter().filter_map(|t| t.get("function")).collect();
    let name_of = |f: &&Value| f.get("name").and_then(Value::as_str).map(str::to_owned);
    let chosen = match request.get("tool_choice") {
        Some(Value::String(choice)) if choice == "none" => None,
        Some(Value::String(choice)) if choice == "required" => functions
            .iter()
            .find(|f| name_of(f).is_some_and(|n| mentions(user_text, &n)))
            .or(functions.first())
            .copied(),
        Some(Value::Object(choice)) => {
            let wanted = choice
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str);
            functions
                .iter()
                .find(|f| wanted.is_some() && name_of(f).as_deref() == wanted)
                .copied()
        }
        _ => functions
            .iter()
            .find(|f| name_of(f).is_some_and(|n| mentions(user_text, &n)))
            .copied(),
    }?;
    let name = name_of(&chosen)?;
    let arguments = arguments_for(chosen.get("parameters"), user_text);
    Some(PlannedToolCall {
        id: clock::numeric_id(seed),
        name,
        arguments,
    })
}

fn mentions(text: &str, name: &str) -> bool {
    !name.is_empty() && text.to_lowercase().contains(&name.to_lowercase())
}

/// Arguments that satisfy a JSON schema's properties: the first string property gets the
/// user's words, other strings `"example"`, numbers 1, booleans true, enums their first value.
fn arguments_for(schema: Option<&Value>, user_text: &str) -> String {
    let mut args = Map::new();
    let mut text_used = false;
    if let Some(properties) = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
    {
        for (name, property) in properties {
            let value = if let Some(first) = property
                .get("enum")
                .and_then(Value::as_array)
                .and_then(|values| values.first())
            {
                first.clone()
            } else {
                match property.get("type").and_then(Value::as_str) {
                    Some("integer" | "number") => json!(1),
                    Some("boolean") => json!(true),
                    Some("array") => json!([]),
                    Some("object") => json!({}),
                    Some("null") => Value::Null,
                    _ if !text_used => {
                        text_used = true;
                        json!(first_words(user_text, 12))
                    }
                    _ => json!("example"),
                }
            };
            args.insert(name.clone(), value);
        }
    }
    Value::Object(args).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn pieces_keep_whitespace_and_rejoin_exactly() {
        let text = "  Hello, big\n world ";
        let parts = pieces(text);
        assert_eq!(parts.concat(), text);
        assert_eq!(parts.len(), 3);
        assert!(pieces("").is_empty());
    }

    #[test]
    fn max_tokens_truncates_with_length() {
        let req =
            request(json!({"messages":[{"role":"user","content":"hi there"}],"max_tokens":3}));
        let generation = generate_chat(&req, false, 1);
        assert_eq!(count_tokens(&generation.content), 3);
        assert_eq!(generation.finish_reason, "length");
        let req = request(json!({"messages":[{"role":"user","content":"hi"}],"max_tokens":-1}));
        assert_eq!(generate_chat(&req, false, 1).finish_reason, "stop");
    }

    #[test]
    fn reasoning_spends_the_budget_first() {
        let req = request(json!({"messages":[{"role":"user","content":"hi"}],"max_tokens":2}));
        let generation = generate_chat(&req, true, 1);
        assert_eq!(generation.content, "");
        assert_eq!(generation.reasoning_tokens, 2);
        assert_eq!(generation.finish_reason, "length");
    }

    #[test]
    fn a_mentioned_tool_is_called_with_json_arguments() {
        let req = request(json!({
            "messages":[{"role":"user","content":"please get_weather for Paris"}],
            "tools":[{"type":"function","function":{"name":"get_weather","parameters":{
                "type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}}}}}]
        }));
        let generation = generate_chat(&req, false, 9);
        let call = generation.tool_call.unwrap();
        assert_eq!(call.name, "get_weather");
        let args: Value = serde_json::from_str(&call.arguments).unwrap();
        assert_eq!(args["days"], 1);
        assert_eq!(args["city"], "please get_weather for Paris");
        assert_eq!(generation.finish_reason, "tool_calls");
        assert!(call.id.chars().all(|c| c.is_ascii_digit()));
    }

    #[test]
    fn a_tool_result_gets_a_text_answer_and_none_disables_tools() {
        let req = request(json!({
            "messages":[{"role":"user","content":"get_weather"},{"role":"tool","content":"sunny"}],
            "tools":[{"type":"function","function":{"name":"get_weather"}}]
        }));
        let generation = generate_chat(&req, false, 1);
        assert!(generation.tool_call.is_none());
        assert_eq!(generation.content, "The tool returned: sunny");
        let req = request(json!({
            "messages":[{"role":"user","content":"get_weather"}],
            "tools":[{"type":"function","function":{"name":"get_weather"}}],
            "tool_choice":"none"
        }));
        assert!(generate_chat(&req, false, 1).tool_call.is_none());
    }

    #[test]
    fn stop_sequences_cut_the_answer() {
        let generation = generate_text("x", "one two. three", false, None, Some(&json!(["."])));
        assert_eq!(generation.content, "one two");
        assert_eq!(generation.finish_reason, "stop");
    }
}
