//! Builds a streamed response from its events: text, reasoning, summaries and function
//! calls from the deltas (not copied from `response.completed`), and the response's id,
//! status and usage from its lifecycle events.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde_json::Map;

use super::events::ResponseStreamEvent;
use super::items::{FunctionCallItem, Item, ItemStatus, McpCallItem, MessageItem, ReasoningItem};
use super::parts::{ContentPart, OutputText, TextPart};
use super::response::{Response, ResponseStatus, ResponseUsage};
use crate::openai::Role;

/// A stream that ended before `response.completed`, `response.failed` or
/// `response.incomplete`: the answer is not whole.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamEndedEarly {
    /// How many events arrived.
    pub events: usize,
    /// The `type` of the last event that arrived.
    pub last_event: Option<String>,
}

impl fmt::Display for StreamEndedEarly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the Responses stream ended after {} events without response.completed, \
             response.failed or response.incomplete",
            self.events
        )?;
        match &self.last_event {
            Some(last) => write!(f, " (the last was {last})"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for StreamEndedEarly {}

/// The most output items a [`ResponseAssembler`] keeps. A real response has a handful (a
/// message, a reasoning item, some calls); the cap keeps a hostile stream (a new `item_id`
/// per event) from growing the assembler without bound.
pub const MAX_ITEMS: usize = 4096;

/// An event for a new output item arrived when the assembler already held
/// [`MAX_ITEMS`] items ([`ResponseAssembler::try_push`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TooManyItems {
    /// The cap, [`MAX_ITEMS`].
    pub limit: usize,
    /// The `type` of the refused event.
    pub event: String,
}

impl fmt::Display for TooManyItems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the Responses stream opened more than {} output items (at a {} event)",
            self.limit, self.event
        )
    }
}

impl std::error::Error for TooManyItems {}

/// Collects a Responses stream's events into the answer.
///
/// The text, reasoning (`reasoning_text`), reasoning summaries and function-call arguments
/// are joined from their delta events. A `*.done` event's whole text is used only for a part
/// no delta arrived for (LM Studio has sent reasoning as `response.reasoning_text.done`
/// alone), and an `output_item.done` item only for an item that had neither. Items are told
/// apart by `item_id`, else `output_index`, so the interleaving llama.cpp sends (the next
/// item added before the last one is done, no `output_index`) assembles too.
///
/// ```
/// use lmstudio_proto::responses::{ResponseAssembler, ResponseStreamEvent};
///
/// let mut assembler = ResponseAssembler::new();
/// for data in [
///     r#"{"type":"response.created","response":{"id":"resp_1","status":"in_progress"}}"#,
///     r#"{"type":"response.output_item.added","item":{"type":"message","id":"msg_1","role":"assistant","content":[]}}"#,
///     r#"{"type":"response.output_text.delta","item_id":"msg_1","delta":"Hel"}"#,
///     r#"{"type":"response.output_text.delta","item_id":"msg_1","delta":"lo"}"#,
///     r#"{"type":"response.completed","response":{"id":"resp_1","status":"completed","usage":{"input_tokens":3,"output_tokens":2,"total_tokens":5}}}"#,
/// ] {
///     let event: ResponseStreamEvent = serde_json::from_str(data).unwrap();
///     assembler.push(&event);
/// }
/// assert_eq!(assembler.text(), "Hello");
/// let response = assembler.finish().unwrap();
/// assert_eq!(response.output_text(), "Hello");
/// assert_eq!(response.usage.unwrap().total_tokens, 5);
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ResponseAssembler {
    items: Vec<PartialItem>,
    /// Each `item_id`'s first item.
    by_id: HashMap<String, usize>,
    /// Each `output_index`'s first item.
    by_index: HashMap<u32, usize>,
    /// The latest lifecycle event's response (id, model, status, usage).
    response: Option<Response>,
    terminal: bool,
    events: usize,
    last_event: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Message,
    Reasoning,
    FunctionCall,
    McpCall,
    Other,
}

/// One kind of text of an item: deltas win over the whole texts of `*.done` events.
#[derive(Debug, Clone, Default)]
struct Text {
    text: String,
    deltas: bool,
    /// The parts (`content_index` / `summary_index`) whose whole text was taken: one part's
    /// text comes in several `*.done` events (`output_text.done`, `content_part.done`).
    done: HashSet<Option<u32>>,
}

impl Text {
    fn delta(&mut self, piece: &str) {
        if !self.deltas {
            // A `*.done` text taken before the first delta is replaced by the deltas.
            self.text.clear();
            self.deltas = true;
        }
        self.text.push_str(piece);
    }

    fn done(&mut self, part: Option<u32>, whole: &str) {
        if !self.deltas && self.done.insert(part) {
            self.text.push_str(whole);
        }
    }
}

#[derive(Debug, Clone)]
struct PartialItem {
    id: String,
    output_index: Option<u32>,
    kind: Kind,
    text: Text,
    reasoning: Text,
    summary: Text,
    arguments: Text,
    /// From `output_item.added`, then `.done`: ids, names, status, unknown fields.
    item: Option<Item>,
    done: bool,
}

impl PartialItem {
    fn new(id: &str, output_index: Option<u32>, kind: Kind) -> Self {
        Self {
            id: id.to_owned(),
            output_index,
            kind,
            text: Text::default(),
            reasoning: Text::default(),
            summary: Text::default(),
            arguments: Text::default(),
            item: None,
            done: false,
        }
    }

    fn nothing_streamed(&self) -> bool {
        [&self.text, &self.reasoning, &self.summary, &self.arguments]
            .iter()
            .all(|t| t.text.is_empty() && !t.deltas)
    }
}

fn kind_of(item: &Item) -> Kind {
    match item {
        Item::Message(_) => Kind::Message,
        Item::Reasoning(_) => Kind::Reasoning,
        Item::FunctionCall(_) => Kind::FunctionCall,
        Item::McpCall(_) => Kind::McpCall,
        Item::FunctionCallOutput(_) | Item::Other(_) => Kind::Other,
    }
}

impl ResponseAssembler {
    /// An empty assembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one event. An event for a new item beyond [`MAX_ITEMS`] is left out (it still
    /// counts as an event); [`try_push`](Self::try_push) says so instead.
    pub fn push(&mut self, event: &ResponseStreamEvent) {
        // Dropping the event is what this method documents; `try_push` reports it.
        let _ = self.try_push(event);
    }

    /// Feeds one event, or refuses one that would open an item beyond [`MAX_ITEMS`] (the
    /// event is then left out; the assembler stays usable).
    pub fn try_push(&mut self, event: &ResponseStreamEvent) -> Result<(), TooManyItems> {
        self.events += 1;
        self.last_event = Some(event.kind().to_owned());
        if self.items.len() >= MAX_ITEMS && self.opens_an_item(event) {
            return Err(TooManyItems {
                limit: MAX_ITEMS,
                event: event.kind().to_owned(),
            });
        }
        self.apply(event);
        Ok(())
    }

    /// Whether `event` would append an item (it names none the assembler holds).
    fn opens_an_item(&self, event: &ResponseStreamEvent) -> bool {
        use ResponseStreamEvent as E;
        let (id, output_index, kind) = match event {
            E::OutputItemAdded(e) | E::OutputItemDone(e) => match &e.item {
                Some(item) => (item.id().unwrap_or_default(), e.output_index, kind_of(item)),
                None => return false,
            },
            E::ContentPartDone(e) => match &e.part {
                Some(ContentPart::OutputText(_)) => {
                    (e.item_id.as_str(), e.output_index, Kind::Message)
                }
                _ => return false,
            },
            E::OutputTextDelta(e) => (e.item_id.as_str(), e.output_index, Kind::Message),
            E::OutputTextDone(e) => (e.item_id.as_str(), e.output_index, Kind::Message),
            E::ReasoningTextDelta(e) | E::ReasoningSummaryTextDelta(e) => {
                (e.item_id.as_str(), e.output_index, Kind::Reasoning)
            }
            E::ReasoningTextDone(e) | E::ReasoningSummaryTextDone(e) => {
                (e.item_id.as_str(), e.output_index, Kind::Reasoning)
            }
            E::FunctionCallArgumentsDelta(e) => {
                (e.item_id.as_str(), e.output_index, Kind::FunctionCall)
            }
            E::FunctionCallArgumentsDone(e) => {
                (e.item_id.as_str(), e.output_index, Kind::FunctionCall)
            }
            E::McpCallArgumentsDelta(e) => (e.item_id.as_str(), e.output_index, Kind::McpCall),
            E::McpCallArgumentsDone(e) => (e.item_id.as_str(), e.output_index, Kind::McpCall),
            _ => return false,
        };
        self.lookup(id, output_index, kind).is_none()
    }

    fn apply(&mut self, event: &ResponseStreamEvent) {
        use ResponseStreamEvent as E;
        match event {
            E::Created(e) | E::Queued(e) | E::InProgress(e) => self.lifecycle(&e.response),
            E::Completed(e) | E::Failed(e) | E::Incomplete(e) => {
                self.lifecycle(&e.response);
                self.terminal = true;
            }
            E::OutputItemAdded(e) | E::OutputItemDone(e) => {
                let done = matches!(event, E::OutputItemDone(_));
                if let Some(item) = &e.item {
                    self.item_event(item, e.output_index, done);
                }
            }
            E::ContentPartDone(e) => {
                if let Some(ContentPart::OutputText(part)) = &e.part {
                    self.part(&e.item_id, e.output_index, Kind::Message)
                        .text
                        .done(e.content_index, &part.text);
                }
            }
            E::OutputTextDelta(e) => self
                .part(&e.item_id, e.output_index, Kind::Message)
                .text
                .delta(&e.delta),
            E::OutputTextDone(e) => self
                .part(&e.item_id, e.output_index, Kind::Message)
                .text
                .done(e.content_index, &e.text),
            E::ReasoningTextDelta(e) => self
                .part(&e.item_id, e.output_index, Kind::Reasoning)
                .reasoning
                .delta(&e.delta),
            E::ReasoningTextDone(e) => self
                .part(&e.item_id, e.output_index, Kind::Reasoning)
                .reasoning
                .done(e.content_index, &e.text),
            E::ReasoningSummaryTextDelta(e) => self
                .part(&e.item_id, e.output_index, Kind::Reasoning)
                .summary
                .delta(&e.delta),
            E::ReasoningSummaryTextDone(e) => self
                .part(&e.item_id, e.output_index, Kind::Reasoning)
                .summary
                .done(e.summary_index, &e.text),
            E::FunctionCallArgumentsDelta(e) => self
                .part(&e.item_id, e.output_index, Kind::FunctionCall)
                .arguments
                .delta(&e.delta),
            E::FunctionCallArgumentsDone(e) => {
                let item = self.part(&e.item_id, e.output_index, Kind::FunctionCall);
                item.arguments.done(None, &e.arguments);
                if let Some(name) = e.name.as_deref().filter(|n| !n.is_empty()) {
                    let call = item
                        .item
                        .get_or_insert_with(|| Item::FunctionCall(FunctionCallItem::default()));
                    if let Item::FunctionCall(call) = call
                        && call.name.is_empty()
                    {
                        call.name = name.to_owned();
                    }
                }
            }
            E::McpCallArgumentsDelta(e) => self
                .part(&e.item_id, e.output_index, Kind::McpCall)
                .arguments
                .delta(&e.delta),
            E::McpCallArgumentsDone(e) => self
                .part(&e.item_id, e.output_index, Kind::McpCall)
                .arguments
                .done(None, &e.arguments),
            _ => {}
        }
    }

    fn lifecycle(&mut self, response: &Response) {
        let mut kept = response.clone();
        // The items come from the deltas; keep the rest.
        kept.output.clear();
        if let Some(old) = &self.response {
            if kept.id.is_empty() {
                kept.id.clone_from(&old.id);
            }
            if kept.model.is_empty() {
                kept.model.clone_from(&old.model);
            }
        }
        self.response = Some(kept);
    }

    fn item_event(&mut self, item: &Item, output_index: Option<u32>, done: bool) {
        let kind = kind_of(item);
        let id = item.id().unwrap_or_default().to_owned();
        let position = self.find(&id, output_index, kind);
        let partial = &mut self.items[position];
        partial.kind = kind;
        if done {
            partial.done = true;
            if partial.nothing_streamed() {
                // Nothing streamed for this item: its whole form is all there is.
                match item {
                    Item::Message(message) => partial.text.done(None, &message.text()),
                    Item::Reasoning(reasoning) => {
                        partial.reasoning.done(None, &reasoning.text());
                        partial.summary.done(None, &reasoning.summary_text());
                    }
                    Item::FunctionCall(call) => partial.arguments.done(None, &call.arguments),
                    Item::McpCall(call) => partial.arguments.done(None, &call.arguments),
                    _ => {}
                }
            }
        }
        // Keep a name an `*_arguments.done` event supplied when the item has none.
        let name = match (&partial.item, item) {
            (Some(Item::FunctionCall(old)), Item::FunctionCall(new)) if new.name.is_empty() => {
                Some(old.name.clone())
            }
            _ => None,
        };
        let mut item = item.clone();
        if let (Some(name), Item::FunctionCall(call)) = (name, &mut item) {
            call.name = name;
        }
        partial.item = Some(item);
    }

    /// The item an event without a whole item belongs to (created when it is new).
    fn part(&mut self, item_id: &str, output_index: Option<u32>, kind: Kind) -> &mut PartialItem {
        let position = self.find(item_id, output_index, kind);
        &mut self.items[position]
    }

    /// Finds an item by id, else by output index, else (no id and no index) the last item
    /// of that kind; appends a new one when none matches.
    fn find(&mut self, id: &str, output_index: Option<u32>, kind: Kind) -> usize {
        match self.lookup(id, output_index, kind) {
            Some(position) => {
                let item = &mut self.items[position];
                if item.output_index.is_none()
                    && let Some(index) = output_index
                {
                    item.output_index = Some(index);
                    self.by_index.entry(index).or_insert(position);
                }
                position
            }
            None => {
                let position = self.items.len();
                self.items.push(PartialItem::new(id, output_index, kind));
                if !id.is_empty() {
                    self.by_id.entry(id.to_owned()).or_insert(position);
                }
                if let Some(index) = output_index {
                    self.by_index.entry(index).or_insert(position);
                }
                position
            }
        }
    }

    /// The item [`find`](Self::find) would pick, if there is one: by id and by index through
    /// the maps; the last open item of `kind` (an event with neither) by a scan, bounded by
    /// [`MAX_ITEMS`].
    fn lookup(&self, id: &str, output_index: Option<u32>, kind: Kind) -> Option<usize> {
        if !id.is_empty() {
            self.by_id.get(id).copied()
        } else if let Some(index) = output_index {
            self.by_index.get(&index).copied()
        } else {
            self.items
                .iter()
                .rposition(|item| item.kind == kind && !item.done)
        }
    }

    /// How many events were fed.
    pub fn events(&self) -> usize {
        self.events
    }

    /// Whether a terminal event (`response.completed`, `.failed`, `.incomplete`) arrived.
    pub fn is_finished(&self) -> bool {
        self.terminal
    }

    /// The answer text so far: every message's text, in item order.
    pub fn text(&self) -> String {
        self.joined(Kind::Message, |item| &item.text)
    }

    /// The reasoning so far (`reasoning_text`), in item order.
    pub fn reasoning(&self) -> String {
        self.joined(Kind::Reasoning, |item| &item.reasoning)
    }

    /// The reasoning summaries so far (`summary_text`), in item order.
    pub fn reasoning_summary(&self) -> String {
        self.joined(Kind::Reasoning, |item| &item.summary)
    }

    fn joined(&self, kind: Kind, text: impl Fn(&PartialItem) -> &Text) -> String {
        self.items
            .iter()
            .filter(|item| item.kind == kind)
            .map(|item| text(item).text.as_str())
            .collect()
    }

    /// The function calls so far, in order; arguments from the deltas.
    pub fn function_calls(&self) -> Vec<FunctionCallItem> {
        self.items
            .iter()
            .filter(|item| item.kind == Kind::FunctionCall)
            .map(function_call)
            .collect()
    }

    /// The response's status, from the latest lifecycle event.
    pub fn status(&self) -> Option<&ResponseStatus> {
        self.response.as_ref()?.status.as_ref()
    }

    /// The response's id, from the lifecycle events.
    pub fn response_id(&self) -> Option<&str> {
        Some(self.response.as_ref()?.id.as_str()).filter(|id| !id.is_empty())
    }

    /// The token counts, from the terminal event.
    pub fn usage(&self) -> Option<&ResponseUsage> {
        self.response.as_ref()?.usage.as_ref()
    }

    /// The response as the events built it: the terminal event's id, status, usage and other
    /// fields, with output items assembled from the deltas. A stream without a terminal
    /// event is [`StreamEndedEarly`].
    pub fn finish(&self) -> Result<Response, StreamEndedEarly> {
        if !self.terminal {
            return Err(StreamEndedEarly {
                events: self.events,
                last_event: self.last_event.clone(),
            });
        }
        Ok(self.snapshot())
    }

    /// The response as far as it has arrived (see [`finish`](Self::finish)).
    pub fn snapshot(&self) -> Response {
        let mut response = self.response.clone().unwrap_or_default();
        response.output = self.items.iter().map(output_item).collect();
        response
    }
}

fn status_of(item: &PartialItem) -> Option<ItemStatus> {
    let status = match &item.item {
        Some(Item::Message(m)) => m.status.clone(),
        Some(Item::Reasoning(r)) => r.status.clone(),
        Some(Item::FunctionCall(c)) => c.status.clone(),
        _ => None,
    };
    status.or_else(|| item.done.then_some(ItemStatus::Completed))
}

fn function_call(item: &PartialItem) -> FunctionCallItem {
    let mut call = match &item.item {
        Some(Item::FunctionCall(call)) => call.clone(),
        _ => FunctionCallItem::default(),
    };
    if call.id.is_empty() {
        call.id.clone_from(&item.id);
    }
    call.arguments.clone_from(&item.arguments.text);
    call.status = status_of(item);
    call
}

fn output_item(item: &PartialItem) -> Item {
    match item.kind {
        Kind::Message => {
            let mut message = match &item.item {
                Some(Item::Message(message)) => message.clone(),
                _ => MessageItem::new(Role::Assistant, Vec::new()),
            };
            if !item.id.is_empty() {
                message.id = Some(item.id.clone());
            }
            message.status = status_of(item);
            message.content = vec![ContentPart::OutputText(OutputText {
                text: item.text.text.clone(),
                ..OutputText::default()
            })]
            .into();
            Item::Message(message)
        }
        Kind::Reasoning => {
            let mut reasoning = match &item.item {
                Some(Item::Reasoning(reasoning)) => reasoning.clone(),
                _ => ReasoningItem::default(),
            };
            if reasoning.id.is_empty() {
                reasoning.id.clone_from(&item.id);
            }
            reasoning.status = status_of(item);
            reasoning.content = text_parts(&item.reasoning, ContentPart::ReasoningText);
            reasoning.summary = text_parts(&item.summary, ContentPart::SummaryText);
            Item::Reasoning(reasoning)
        }
        Kind::FunctionCall => Item::FunctionCall(function_call(item)),
        Kind::McpCall => {
            let mut call = match &item.item {
                Some(Item::McpCall(call)) => call.clone(),
                _ => McpCallItem::default(),
            };
            if call.id.is_empty() {
                call.id.clone_from(&item.id);
            }
            call.arguments.clone_from(&item.arguments.text);
            Item::McpCall(call)
        }
        Kind::Other => item.item.clone().unwrap_or_else(|| Item::Other(Map::new())),
    }
}

fn text_parts(text: &Text, part: fn(TextPart) -> ContentPart) -> Vec<ContentPart> {
    if text.text.is_empty() {
        Vec::new()
    } else {
        vec![part(TextPart::new(text.text.clone()))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(assembler: &mut ResponseAssembler, events: &[&str]) {
        for data in events {
            assembler.push(&serde_json::from_str(data).unwrap());
        }
    }

    #[test]
    fn done_texts_fill_in_only_where_no_delta_arrived() {
        let mut assembler = ResponseAssembler::new();
        feed(
            &mut assembler,
            &[
                r#"{"type":"response.reasoning_text.done","item_id":"rs","text":"whole reasoning"}"#,
                r#"{"type":"response.output_text.delta","item_id":"m","delta":"a"}"#,
                r#"{"type":"response.output_text.done","item_id":"m","text":"DIFFERENT"}"#,
            ],
        );
        assert_eq!(assembler.reasoning(), "whole reasoning");
        assert_eq!(assembler.text(), "a");
        assert!(assembler.finish().is_err());
    }

    #[test]
    fn a_delta_after_a_done_text_replaces_it() {
        let mut assembler = ResponseAssembler::new();
        feed(
            &mut assembler,
            &[
                r#"{"type":"response.output_text.done","item_id":"m","text":"early"}"#,
                r#"{"type":"response.output_text.delta","item_id":"m","delta":"late"}"#,
            ],
        );
        assert_eq!(assembler.text(), "late");
    }

    #[test]
    fn items_without_ids_or_indexes_continue_the_last_of_their_kind() {
        let mut assembler = ResponseAssembler::new();
        feed(
            &mut assembler,
            &[
                r#"{"type":"response.function_call_arguments.delta","delta":"{\"a\":"}"#,
                r#"{"type":"response.function_call_arguments.delta","delta":"1}"}"#,
                r#"{"type":"response.function_call_arguments.done","arguments":"{\"a\":1}","name":"f"}"#,
            ],
        );
        let calls = assembler.function_calls();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].arguments, r#"{"a":1}"#);
        assert_eq!(calls[0].name, "f");
    }

    #[test]
    fn ended_early_names_the_last_event() {
        let mut assembler = ResponseAssembler::new();
        feed(
            &mut assembler,
            &[r#"{"type":"response.created","response":{"id":"r"}}"#],
        );
        let err = assembler.finish().unwrap_err();
        assert_eq!(err.events, 1);
        assert_eq!(err.last_event.as_deref(), Some("response.created"));
        assert!(err.to_string().contains("response.created"), "{err}");
        assert_eq!(assembler.response_id(), Some("r"));
    }

    #[test]
    fn items_beyond_the_cap_are_a_typed_error() {
        let mut assembler = ResponseAssembler::new();
        let event = |n: usize| -> ResponseStreamEvent {
            serde_json::from_str(&format!(
                r#"{{"type":"response.output_text.delta","item_id":"m{n}","delta":"x"}}"#
            ))
            .unwrap()
        };
        for n in 0..MAX_ITEMS {
            assembler.try_push(&event(n)).unwrap();
        }
        // An item already there is still fed; a new one is refused.
        assembler.try_push(&event(0)).unwrap();
        let err = assembler.try_push(&event(MAX_ITEMS)).unwrap_err();
        assert_eq!(err.limit, MAX_ITEMS);
        assert!(err.to_string().contains("4096"), "{err}");
        assert_eq!(assembler.text().len(), MAX_ITEMS + 1);
        // `push` drops it the same way.
        assembler.push(&event(MAX_ITEMS + 1));
        assert_eq!(assembler.text().len(), MAX_ITEMS + 1);
    }
}
