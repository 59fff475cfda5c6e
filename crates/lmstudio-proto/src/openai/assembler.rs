//! Assembles streamed tool-call fragments into whole [`ToolCall`]s (and collects the text and
//! reasoning of the stream).

use super::chunk::{ChatCompletionChunk, ChatDelta, ToolCallDelta};
use super::tools::{ToolCall, ToolType};

/// Collects tool-call fragments from stream chunks and yields whole calls, in the order they
/// started. It also collects choice 0's text ([`ChatDelta::text`]) and reasoning
/// ([`ChatDelta::reasoning`]), so a stream whose content arrives as parts (Mistral's thinking
/// parts) reads like any other.
///
/// Tolerates what real servers do: a missing `index` (the fragment continues the last call
/// unless it carries a new `id`, or names a different function), `type` arriving late or
/// never (`function` is assumed), the name repeated on later fragments, and arguments in one
/// piece or many. Calls of different choices (`n > 1`) are kept apart.
///
/// ```
/// use lmstudio_proto::openai::{ChatCompletionChunk, ToolCallAssembler};
///
/// let mut assembler = ToolCallAssembler::new();
/// for data in [
///     r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"7","type":"function","function":{"name":"f","arguments":""}}]}}]}"#,
///     r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":"}}]}}]}"#,
///     r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}}]}"#,
/// ] {
///     let chunk: ChatCompletionChunk = serde_json::from_str(data).unwrap();
///     assembler.push_chunk(&chunk);
/// }
/// let calls = assembler.calls();
/// assert_eq!(calls.len(), 1);
/// assert_eq!(calls[0].id, "7");
/// assert_eq!(calls[0].function.arguments, r#"{"a":1}"#);
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ToolCallAssembler {
    calls: Vec<PartialCall>,
    text: String,
    reasoning: String,
}

#[derive(Debug, Clone)]
struct PartialCall {
    choice: u32,
    index: Option<u32>,
    id: Option<String>,
    kind: Option<ToolType>,
    name: String,
    arguments: String,
}

impl ToolCallAssembler {
    /// An empty assembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds every tool-call fragment of a chunk (all choices), and choice 0's text and
    /// reasoning.
    pub fn push_chunk(&mut self, chunk: &ChatCompletionChunk) {
        for choice in &chunk.choices {
            if choice.index == 0 {
                self.collect(&choice.delta);
            }
            for fragment in &choice.delta.tool_calls {
                self.push(choice.index, fragment);
            }
        }
    }

    /// Feeds one delta (of choice 0): its tool-call fragments, text and reasoning.
    pub fn push_delta(&mut self, delta: &ChatDelta) {
        self.collect(delta);
        for fragment in &delta.tool_calls {
            self.push(0, fragment);
        }
    }

    /// Feeds one fragment (of choice 0).
    pub fn push_fragment(&mut self, fragment: &ToolCallDelta) {
        self.push(0, fragment);
    }

    /// Whether no tool-call fragment has been fed yet.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Choice 0's text so far (text fragments and text parts, in order).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Choice 0's reasoning so far (`reasoning` / `reasoning_content` fragments and thinking
    /// parts, in order).
    pub fn reasoning(&self) -> &str {
        &self.reasoning
    }

    fn collect(&mut self, delta: &ChatDelta) {
        if let Some(text) = delta.text() {
            self.text.push_str(&text);
        }
        if let Some(reasoning) = delta.reasoning() {
            self.reasoning.push_str(&reasoning);
        }
    }

    /// How many calls have started.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// The calls so far, in the order they started. A call without an id gets `""`.
    pub fn calls(&self) -> Vec<ToolCall> {
        self.calls
            .iter()
            .cloned()
            .map(PartialCall::finish)
            .collect()
    }

    /// The calls, consuming the assembler.
    pub fn into_calls(self) -> Vec<ToolCall> {
        self.calls.into_iter().map(PartialCall::finish).collect()
    }

    fn push(&mut self, choice: u32, fragment: &ToolCallDelta) {
        let position = match self.target(choice, fragment) {
            Some(position) => position,
            None => {
                self.calls.push(PartialCall {
                    choice,
                    index: fragment.index,
                    id: None,
                    kind: None,
                    name: String::new(),
                    arguments: String::new(),
                });
                self.calls.len() - 1
            }
        };
        if let Some(call) = self.calls.get_mut(position) {
            call.merge(fragment);
        }
    }

    /// The call this fragment continues, or `None` when it starts a new one.
    fn target(&self, choice: u32, fragment: &ToolCallDelta) -> Option<usize> {
        let position = match fragment.index {
            Some(index) => self
                .calls
                .iter()
                .rposition(|c| c.choice == choice && c.index == Some(index))?,
            None => self.calls.iter().rposition(|c| c.choice == choice)?,
        };
        let call = &self.calls[position];
        let new_id = fragment.id.as_deref().filter(|id| !id.is_empty());
        if let (Some(new), Some(old)) = (new_id, call.id.as_deref())
            && new != old
        {
            return None;
        }
        if fragment.index.is_none() && new_id.is_none() {
            let name = fragment.function.as_ref().and_then(|f| f.name.as_deref());
            if let Some(name) = name.filter(|n| !n.is_empty())
                && !call.name.is_empty()
                && call.name != name
            {
                return None;
            }
        }
        Some(position)
    }
}

impl PartialCall {
    fn merge(&mut self, fragment: &ToolCallDelta) {
        if self.id.is_none() {
            self.id = fragment.id.clone().filter(|id| !id.is_empty());
        }
        if self.kind.is_none() {
            self.kind = fragment.kind.clone();
        }
        if let Some(function) = &fragment.function {
            if let Some(name) = function.name.as_deref().filter(|n| !n.is_empty()) {
                if self.name.is_empty() {
                    self.name = name.to_owned();
                } else if self.name != name {
                    // A name streamed in pieces.
                    self.name.push_str(name);
                }
            }
            if let Some(arguments) = &function.arguments {
                self.arguments.push_str(arguments);
            }
        }
    }

    fn finish(self) -> ToolCall {
        ToolCall {
            id: self.id.unwrap_or_default(),
            kind: self.kind.unwrap_or_default(),
            function: super::tools::FunctionCall {
                name: self.name,
                arguments: self.arguments,
            },
            extra: serde_json::Map::new(),
        }
    }
}
