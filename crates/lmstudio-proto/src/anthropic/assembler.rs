//! Builds the final message of a Messages stream from its events (the deltas, not a summary).

use std::fmt;

use serde_json::{Map, Value};

use super::content::ContentBlock;
use super::error::ErrorDetail;
use super::response::{MessagesResponse, Usage};
use super::stream::{ContentDelta, DeltaUsage, MessageDeltaEvent, StreamEvent};

/// Builds the [`MessagesResponse`] a stream describes, from its events in order.
///
/// `message_start` gives the id, model and prompt usage; each block starts with
/// `content_block_start` and grows with its deltas: `text_delta` text, `citations_delta` a
/// text block's `citations` (kept in its `extra`), `thinking_delta` reasoning,
/// `signature_delta` the thinking's signature (each one replaces the last), and
/// `input_json_delta` pieces that, joined, are the tool call's `input` (parsed when the block
/// stops; a call without input has `{}`). `message_delta` sets the stop reason, replaces the
/// usage counts it carries and copies its other fields onto the message; `message_stop` ends
/// the stream and closes any block still open. Blocks of types this crate does not model
/// (e.g. `server_tool_use`) grow the same way, in their `text`, `thinking`, `signature` and
/// `input` keys; unknown events, unknown delta types and deltas without a body are skipped.
///
/// A tool call cut by `max_tokens` (its block never stops, its JSON is incomplete) does not
/// make the message incomplete: `message_stop` completes it, the call keeps the input it
/// started with (`{}`), [`partial_json`](Self::partial_json) keeps the text that arrived, and
/// the message's `stop_reason` is [`MaxTokens`](super::StopReason::MaxTokens). Do not run a
/// call from a message that stopped so.
///
/// The protocol is checked, so a broken or hostile stream is an [`AssembleError`], never a
/// panic: blocks must start in order (`index` 0, 1, 2, ... so no index makes it allocate),
/// deltas and stops must name a started block that has not stopped, a delta must fit its
/// block, and a block's input JSON must parse when the block stops (else the block stops
/// anyway, keeps the input it started with, and [`finish`](Self::finish) reports it too).
/// After an error the assembler still shows what it built ([`snapshot`](Self::snapshot),
/// [`text`](Self::text), [`partial_json`](Self::partial_json)).
///
/// ```
/// use lmstudio_proto::anthropic::{MessageAssembler, StreamEvent};
///
/// let mut assembler = MessageAssembler::new();
/// for data in [
///     r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"m","usage":{"input_tokens":9,"output_tokens":1}}}"#,
///     r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}"#,
///     r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Pa"}}"#,
///     r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"ris\"}"}}"#,
///     r#"{"type":"content_block_stop","index":0}"#,
///     r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":12}}"#,
///     r#"{"type":"message_stop"}"#,
/// ] {
///     let event: StreamEvent = serde_json::from_str(data).unwrap();
///     assembler.push(&event).unwrap();
/// }
/// let message = assembler.finish().unwrap();
/// let call = message.tool_uses().next().unwrap();
/// assert_eq!(call.input["city"], "Paris");
/// assert_eq!((message.usage.input_tokens, message.usage.output_tokens), (9, 12));
/// ```
#[derive(Debug, Clone, Default)]
pub struct MessageAssembler {
    message: Option<MessagesResponse>,
    blocks: Vec<PartialBlock>,
    stopped: bool,
}

#[derive(Debug, Clone)]
struct PartialBlock {
    block: ContentBlock,
    /// The `input_json_delta` pieces so far, joined.
    json: String,
    state: BlockState,
}

#[derive(Debug, Clone, PartialEq)]
enum BlockState {
    /// Deltas may still come.
    Open,
    /// Complete (or cut by `message_stop`).
    Stopped,
    /// Stopped, but its input JSON did not parse: what the parser said.
    InvalidInput(String),
}

impl MessageAssembler {
    /// An empty assembler, waiting for `message_start`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next event. An `error` event is returned as [`AssembleError::Api`].
    pub fn push(&mut self, event: &StreamEvent) -> Result<(), AssembleError> {
        if self.stopped {
            return Err(AssembleError::AfterMessageStop {
                event: event.kind().to_owned(),
            });
        }
        match event {
            StreamEvent::MessageStart(start) => self.start(&start.message),
            StreamEvent::ContentBlockStart(start) => {
                self.started(event)?;
                let expected = self.blocks.len();
                if usize::try_from(start.index).ok() != Some(expected) {
                    return Err(AssembleError::UnexpectedIndex {
                        index: start.index,
                        expected,
                    });
                }
                self.blocks.push(PartialBlock {
                    block: start.content_block.clone(),
                    json: String::new(),
                    state: BlockState::Open,
                });
                Ok(())
            }
            StreamEvent::ContentBlockDelta(delta) => {
                self.started(event)?;
                self.open_block(delta.index)?
                    .apply(delta.index, &delta.delta)
            }
            StreamEvent::ContentBlockStop(stop) => {
                self.started(event)?;
                self.open_block(stop.index)?.close(stop.index)
            }
            StreamEvent::MessageDelta(delta) => {
                self.started(event)?;
                if let Some(message) = self.message.as_mut() {
                    apply_message_delta(message, delta);
                }
                Ok(())
            }
            StreamEvent::MessageStop(_) => {
                self.started(event)?;
                for block in &mut self.blocks {
                    if block.state == BlockState::Open {
                        block.cut();
                    }
                }
                self.stopped = true;
                Ok(())
            }
            StreamEvent::Error(error) => Err(AssembleError::Api(error.error.clone())),
            StreamEvent::Ping(_) | StreamEvent::Other(_) => Ok(()),
        }
    }

    fn start(&mut self, message: &MessagesResponse) -> Result<(), AssembleError> {
        if self.message.is_some() {
            return Err(AssembleError::DuplicateMessageStart);
        }
        let mut message = message.clone();
        // Blocks a server put in `message_start` come first, as if already streamed.
        for block in std::mem::take(&mut message.content) {
            self.blocks.push(PartialBlock {
                block,
                json: String::new(),
                state: BlockState::Stopped,
            });
        }
        self.message = Some(message);
        Ok(())
    }

    fn started(&self, event: &StreamEvent) -> Result<(), AssembleError> {
        match self.message {
            Some(_) => Ok(()),
            None => Err(AssembleError::NotStarted {
                event: event.kind().to_owned(),
            }),
        }
    }

    fn open_block(&mut self, index: u32) -> Result<&mut PartialBlock, AssembleError> {
        let block = usize::try_from(index)
            .ok()
            .and_then(|position| self.blocks.get_mut(position))
            .ok_or(AssembleError::UnknownBlock { index })?;
        if block.state != BlockState::Open {
            return Err(AssembleError::BlockStopped { index });
        }
        Ok(block)
    }

    /// Whether `message_stop` has arrived (the message is complete; a block whose input
    /// failed to parse at its stop still fails [`finish`](Self::finish)).
    pub fn is_complete(&self) -> bool {
        self.stopped
    }

    /// How many blocks have started.
    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }

    /// The text blocks' text so far, joined.
    pub fn text(&self) -> String {
        self.blocks
            .iter()
            .filter_map(|b| b.block.as_text())
            .collect()
    }

    /// The thinking blocks' reasoning so far, joined.
    pub fn thinking(&self) -> String {
        self.blocks
            .iter()
            .filter_map(|b| b.block.as_thinking())
            .collect()
    }

    /// The input JSON text the block at `index` has received so far (`None` when there is no
    /// such block). Until the block stops, its `input` is still the one it started with, and
    /// so it stays when the JSON does not parse.
    pub fn partial_json(&self, index: usize) -> Option<&str> {
        self.blocks.get(index).map(|b| b.json.as_str())
    }

    /// The message as built so far (`None` before `message_start`).
    pub fn snapshot(&self) -> Option<MessagesResponse> {
        let mut message = self.message.clone()?;
        message.content = self.blocks.iter().map(|b| b.block.clone()).collect();
        Some(message)
    }

    /// The complete message: [`AssembleError::EndedEarly`] when `message_stop` never came,
    /// else [`AssembleError::InvalidToolInput`] for the first block whose input JSON did not
    /// parse when it stopped. (A tool call still open at `message_stop` is no error: see
    /// [`MessageAssembler`].)
    pub fn finish(self) -> Result<MessagesResponse, AssembleError> {
        let mut message = match self.message {
            Some(message) if self.stopped => message,
            message => {
                return Err(AssembleError::EndedEarly {
                    message_started: message.is_some(),
                    blocks: self.blocks.len(),
                });
            }
        };
        let invalid =
            self.blocks
                .iter()
                .enumerate()
                .find_map(|(index, block)| match &block.state {
                    BlockState::InvalidInput(error) => Some((index, error)),
                    _ => None,
                });
        if let Some((index, error)) = invalid {
            return Err(AssembleError::InvalidToolInput {
                index: u32::try_from(index).unwrap_or(u32::MAX),
                error: error.clone(),
            });
        }
        message.content = self.blocks.into_iter().map(|b| b.block).collect();
        Ok(message)
    }
}

impl PartialBlock {
    fn apply(&mut self, index: u32, delta: &ContentDelta) -> Result<(), AssembleError> {
        let mismatch = |block: &ContentBlock| AssembleError::DeltaMismatch {
            index,
            block: block.kind().to_owned(),
            delta: delta.kind().to_owned(),
        };
        match (&mut self.block, delta) {
            (ContentBlock::Text(block), ContentDelta::TextDelta(delta)) => {
                block.text.push_str(&delta.text);
            }
            (ContentBlock::Thinking(block), ContentDelta::ThinkingDelta(delta)) => {
                block.thinking.push_str(&delta.thinking);
            }
            (ContentBlock::Thinking(block), ContentDelta::SignatureDelta(delta)) => {
                // The signature comes whole (the SDK sets it too), never in pieces.
                block.signature = Some(delta.signature.clone());
            }
            (ContentBlock::Text(block), ContentDelta::Other(other))
                if other.get("type").and_then(Value::as_str) == Some("citations_delta") =>
            {
                add_citation(&mut block.extra, other, index)?;
            }
            (ContentBlock::ToolUse(_), ContentDelta::InputJsonDelta(delta)) => {
                self.json.push_str(&delta.partial_json);
            }
            (ContentBlock::Other(map), known) => match known {
                ContentDelta::TextDelta(delta) => append(map, "text", &delta.text, index)?,
                ContentDelta::ThinkingDelta(delta) => {
                    append(map, "thinking", &delta.thinking, index)?;
                }
                ContentDelta::SignatureDelta(delta) => {
                    map.insert(
                        "signature".to_owned(),
                        Value::String(delta.signature.clone()),
                    );
                }
                ContentDelta::InputJsonDelta(delta) => self.json.push_str(&delta.partial_json),
                ContentDelta::Other(_) => {}
            },
            // Deltas of kinds this crate does not know, citations for a block that is not
            // text, and deltas without a body are skipped.
            (_, ContentDelta::Other(_)) => {}
            (block, _) => return Err(mismatch(block)),
        }
        Ok(())
    }

    /// `content_block_stop`: parses the block's input JSON, if any arrived, and stops the
    /// block. When the JSON does not parse, the block stops all the same (later events for it
    /// are refused), keeps the input it started with and is remembered as invalid.
    fn close(&mut self, index: u32) -> Result<(), AssembleError> {
        match self.parse_input() {
            Ok(()) => {
                self.state = BlockState::Stopped;
                Ok(())
            }
            Err(error) => {
                self.state = BlockState::InvalidInput(error.clone());
                Err(AssembleError::InvalidToolInput { index, error })
            }
        }
    }

    /// `message_stop` with the block still open: the input is set when its JSON parses; when
    /// it does not (cut by `max_tokens`), the block keeps the input it started with.
    fn cut(&mut self) {
        // Not an error: the message's `stop_reason` says why the JSON is incomplete.
        let _incomplete = self.parse_input();
        self.state = BlockState::Stopped;
    }

    /// Sets the input from the joined JSON pieces, if any arrived; a tool call without input
    /// gets `{}`. On a parse error the input is left as it was.
    fn parse_input(&mut self) -> Result<(), String> {
        let (input, parsed) = if self.json.is_empty() {
            (None, Ok(()))
        } else {
            match serde_json::from_str::<Value>(&self.json) {
                Ok(input) => (Some(input), Ok(())),
                Err(error) => (None, Err(error.to_string())),
            }
        };
        match &mut self.block {
            ContentBlock::ToolUse(block) => {
                if let Some(input) = input {
                    block.input = input;
                }
                if block.input.is_null() {
                    block.input = Value::Object(Map::new());
                }
            }
            ContentBlock::Other(map) => {
                if let Some(input) = input {
                    map.insert("input".to_owned(), input);
                }
            }
            // Only tool-use and unknown blocks take input JSON (see `apply`).
            _ => {}
        }
        parsed
    }
}

/// Appends the `citation` of a `citations_delta` to a text block's `citations` (a list,
/// created when absent or `null`; a delta without a citation adds nothing).
fn add_citation(
    extra: &mut Map<String, Value>,
    delta: &Map<String, Value>,
    index: u32,
) -> Result<(), AssembleError> {
    let Some(citation) = delta.get("citation").filter(|c| !c.is_null()) else {
        return Ok(());
    };
    let citations = extra
        .entry("citations")
        .or_insert_with(|| Value::Array(Vec::new()));
    if citations.is_null() {
        *citations = Value::Array(Vec::new());
    }
    match citations {
        Value::Array(list) => {
            list.push(citation.clone());
            Ok(())
        }
        _ => Err(AssembleError::DeltaMismatch {
            index,
            block: "text".to_owned(),
            delta: "citations_delta (the block's `citations` is not a list)".to_owned(),
        }),
    }
}

/// Appends `piece` to the string at `key` of an unknown block (created when absent).
fn append(
    map: &mut Map<String, Value>,
    key: &str,
    piece: &str,
    index: u32,
) -> Result<(), AssembleError> {
    match map
        .entry(key)
        .or_insert_with(|| Value::String(String::new()))
    {
        Value::String(text) => {
            text.push_str(piece);
            Ok(())
        }
        _ => Err(AssembleError::DeltaMismatch {
            index,
            block: map
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            delta: format!("{key} (the block's `{key}` is not a string)"),
        }),
    }
}

fn apply_message_delta(message: &mut MessagesResponse, event: &MessageDeltaEvent) {
    // Fields beside `delta` and `usage` (`context_management`, ...) belong to the message,
    // like those inside `delta` (`stop_details`, `container`, ...).
    for (key, value) in &event.extra {
        message.extra.insert(key.clone(), value.clone());
    }
    if let Some(reason) = &event.delta.stop_reason {
        message.stop_reason = Some(reason.clone());
    }
    if let Some(sequence) = &event.delta.stop_sequence {
        message.stop_sequence = Some(sequence.clone());
    }
    for (key, value) in &event.delta.extra {
        message.extra.insert(key.clone(), value.clone());
    }
    if let Some(usage) = &event.usage {
        merge_usage(&mut message.usage, usage);
    }
}

/// The counts a `message_delta` carries replace those of `message_start`.
fn merge_usage(usage: &mut Usage, delta: &DeltaUsage) {
    if let Some(tokens) = delta.input_tokens {
        usage.input_tokens = tokens;
    }
    if let Some(tokens) = delta.output_tokens {
        usage.output_tokens = tokens;
    }
    if delta.cache_creation_input_tokens.is_some() {
        usage.cache_creation_input_tokens = delta.cache_creation_input_tokens;
    }
    if delta.cache_read_input_tokens.is_some() {
        usage.cache_read_input_tokens = delta.cache_read_input_tokens;
    }
    if delta.cache_creation.is_some() {
        usage.cache_creation.clone_from(&delta.cache_creation);
    }
    for (key, value) in &delta.extra {
        usage.extra.insert(key.clone(), value.clone());
    }
}

/// Why a stream's events do not make a message.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AssembleError {
    /// The stream ended before `message_stop` (a cut connection, a crashed server).
    EndedEarly {
        /// Whether `message_start` had arrived.
        message_started: bool,
        /// How many blocks had started.
        blocks: usize,
    },
    /// The server sent an `error` event.
    Api(ErrorDetail),
    /// An event other than `message_start` (or `ping`) came first.
    NotStarted {
        /// The event's `type`.
        event: String,
    },
    /// A second `message_start`.
    DuplicateMessageStart,
    /// A block started out of order: `index` is not the next position.
    UnexpectedIndex {
        /// The index the event named.
        index: u32,
        /// The next position (the number of blocks started so far).
        expected: usize,
    },
    /// A delta or stop named a block that never started.
    UnknownBlock {
        /// The index the event named.
        index: u32,
    },
    /// A delta or stop came after the block's `content_block_stop`.
    BlockStopped {
        /// The block's index.
        index: u32,
    },
    /// A delta that does not fit its block (e.g. `text_delta` for a `tool_use` block).
    DeltaMismatch {
        /// The block's index.
        index: u32,
        /// The block's `type`.
        block: String,
        /// The delta's `type`.
        delta: String,
    },
    /// The joined `input_json_delta` pieces of a block are not valid JSON at its
    /// `content_block_stop`.
    InvalidToolInput {
        /// The block's index.
        index: u32,
        /// What the JSON parser said.
        error: String,
    },
    /// An event after `message_stop`.
    AfterMessageStop {
        /// The event's `type`.
        event: String,
    },
}

impl fmt::Display for AssembleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EndedEarly {
                message_started,
                blocks,
            } => {
                if *message_started {
                    write!(
                        f,
                        "the stream ended before message_stop ({blocks} content blocks started)"
                    )
                } else {
                    f.write_str("the stream ended before message_start")
                }
            }
            Self::Api(error) => write!(f, "the server sent an error event: {error}"),
            Self::NotStarted { event } => write!(f, "{event} arrived before message_start"),
            Self::DuplicateMessageStart => f.write_str("a second message_start"),
            Self::UnexpectedIndex { index, expected } => write!(
                f,
                "content_block_start for index {index}, expected index {expected}"
            ),
            Self::UnknownBlock { index } => {
                write!(f, "an event for content block {index}, which never started")
            }
            Self::BlockStopped { index } => {
                write!(f, "an event for content block {index} after its stop")
            }
            Self::DeltaMismatch {
                index,
                block,
                delta,
            } => write!(f, "a {delta} for content block {index}, a {block} block"),
            Self::InvalidToolInput { index, error } => write!(
                f,
                "the input JSON of content block {index} is not valid: {error}"
            ),
            Self::AfterMessageStop { event } => write!(f, "{event} arrived after message_stop"),
        }
    }
}

impl std::error::Error for AssembleError {}
