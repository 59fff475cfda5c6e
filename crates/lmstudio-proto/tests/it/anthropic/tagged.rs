//! The one-pass reading of `type`-tagged objects gives what the two-pass reading gives, wherever
//! `type` is, and refuses what it must.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lmstudio_proto::anthropic::{ContentBlock, ContentDelta, StreamEvent};
use serde_json::{Value, json};

#[test]
fn type_first_or_last_reads_the_same() {
    let first = r#"{"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"hi","x":1},"y":2}"#;
    let last = r#"{"index":3,"delta":{"text":"hi","x":1,"type":"text_delta"},"y":2,"type":"content_block_delta"}"#;
    let a: StreamEvent = serde_json::from_str(first).unwrap();
    let b: StreamEvent = serde_json::from_str(last).unwrap();
    assert_eq!(a, b);
    let StreamEvent::ContentBlockDelta(event) = &a else {
        panic!("a delta event: {a:?}")
    };
    assert_eq!(event.index, 3);
    assert_eq!(event.extra["y"], 2);
    let ContentDelta::TextDelta(delta) = &event.delta else {
        panic!("a text delta")
    };
    assert_eq!((delta.text.as_str(), &delta.extra["x"]), ("hi", &json!(1)));
    // Written back with `type` first.
    assert!(
        serde_json::to_string(&b)
            .unwrap()
            .starts_with(r#"{"type":"content_block_delta""#)
    );
    // Escaped keys and tags are read too.
    let escaped = r#"{"t\u0079pe":"content_block_stop","ind\u0065x":1}"#;
    let stop: StreamEvent = serde_json::from_str(escaped).unwrap();
    assert_eq!(
        stop,
        serde_json::from_str(r#"{"type":"content_block_stop","index":1}"#).unwrap()
    );
}

#[test]
fn unknown_null_non_string_or_missing_types_keep_the_whole_object() {
    // Raw text, so `type` really comes first where it is written first (`json!` sorts keys):
    // the one-pass and the buffered reading must agree.
    for text in [
        r#"{"type":"thread.note","n":1}"#,
        r#"{"n":1,"type":"thread.note"}"#,
        r#"{"type":null,"n":1}"#,
        r#"{"n":1,"type":null}"#,
        r#"{"type":7,"n":1}"#,
        r#"{"n":1,"type":7}"#,
        r#"{"type":-2.5,"n":1}"#,
        r#"{"type":true,"n":{"a":[1]}}"#,
        r#"{"type":["message_stop"],"n":1}"#,
        r#"{"type":{"name":"ping"},"n":1}"#,
        r#"{"n":{"type":"ping"},"type":{"name":"ping"}}"#,
        r#"{"n":1}"#,
        r#"{}"#,
    ] {
        let original: Value = serde_json::from_str(text).unwrap();
        let event: StreamEvent = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("{text}: kept whole, not an error: {e}"));
        let StreamEvent::Other(map) = &event else {
            panic!("{text}: kept whole: {event:?}")
        };
        assert_eq!(Value::Object(map.clone()), original, "{text}");
        assert_eq!(serde_json::to_value(&event).unwrap(), original, "{text}");
        // From a value (keys sorted) as from the text.
        let from_value: StreamEvent = serde_json::from_value(original.clone()).unwrap();
        assert_eq!(from_value, event, "{text}");
        assert_eq!(event.kind(), original["type"].as_str().unwrap_or(""));
    }
    let block: ContentBlock =
        serde_json::from_str(r#"{"type":"container_upload","file_id":"f"}"#).unwrap();
    assert_eq!(block.kind(), "container_upload");
}

#[test]
fn an_unknown_type_is_written_back_first() {
    for text in [
        r#"{"a":1,"type":"thread.note","z":2}"#,
        r#"{"type":"thread.note","a":1,"z":2}"#,
    ] {
        let event: StreamEvent = serde_json::from_str(text).unwrap();
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            r#"{"type":"thread.note","a":1,"z":2}"#
        );
    }
    let delta: ContentDelta =
        serde_json::from_str(r#"{"citation":{"type":"char_location"},"type":"citations_delta"}"#)
            .unwrap();
    assert!(
        serde_json::to_string(&delta)
            .unwrap()
            .starts_with(r#"{"type":"citations_delta","#)
    );
    // Without a `type`, the object is written as it is.
    let event: StreamEvent = serde_json::from_str(r#"{"b":1,"a":2}"#).unwrap();
    assert_eq!(serde_json::to_string(&event).unwrap(), r#"{"a":2,"b":1}"#);
}

#[test]
fn repeated_keys_and_non_objects_are_errors() {
    for text in [
        r#"{"type":"ping","type":"ping"}"#,
        r#"{"type":"message_stop","x":1,"type":"ping"}"#,
        r#"{"type":"thread.note","n":1,"n":2}"#,
        r#"{"n":1,"type":"ping","n":2}"#,
        r#"{"type":"content_block_stop","index":1,"index":2}"#,
    ] {
        let err = serde_json::from_str::<StreamEvent>(text).unwrap_err();
        assert!(err.to_string().contains("duplicate field"), "{text}: {err}");
    }
    for text in [
        r#"{"type":7,"type":7}"#,
        r#"{"type":null,"n":1,"type":"ping"}"#,
    ] {
        let err = serde_json::from_str::<StreamEvent>(text).unwrap_err();
        assert!(err.to_string().contains("duplicate field"), "{text}: {err}");
    }
    for text in ["[]", "\"ping\"", "null", "3"] {
        let err = serde_json::from_str::<StreamEvent>(text).unwrap_err();
        assert!(
            err.to_string()
                .contains("a JSON object with a `type` (StreamEvent)"),
            "{text}: {err}"
        );
    }
    // A payload field of the wrong type is an error, not an `Other`.
    let err = serde_json::from_str::<StreamEvent>(r#"{"type":"content_block_stop","index":"one"}"#)
        .unwrap_err();
    assert!(err.to_string().contains("invalid type"), "{err}");
}
