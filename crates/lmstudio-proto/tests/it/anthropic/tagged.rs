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
fn unknown_null_or_missing_types_keep_the_whole_object() {
    for json in [
        json!({"type": "thread.note", "n": 1}),
        json!({"type": null, "n": 1}),
        json!({"n": 1}),
        json!({"n": 1, "type": "thread.note"}),
        json!({}),
    ] {
        let event: StreamEvent = serde_json::from_value(json.clone()).unwrap();
        let StreamEvent::Other(map) = &event else {
            panic!("{json}: kept whole")
        };
        assert_eq!(&Value::Object(map.clone()), &json);
        assert_eq!(serde_json::to_value(&event).unwrap(), json);
        // From text (one pass) as from a value.
        let from_text: StreamEvent = serde_json::from_str(&json.to_string()).unwrap();
        assert_eq!(from_text, event);
    }
    let block: ContentBlock =
        serde_json::from_str(r#"{"type":"container_upload","file_id":"f"}"#).unwrap();
    assert_eq!(block.kind(), "container_upload");
}

#[test]
fn repeated_keys_a_non_string_type_and_non_objects_are_errors() {
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
    let err = serde_json::from_str::<StreamEvent>(r#"{"type":7}"#).unwrap_err();
    assert!(err.to_string().contains("invalid type"), "{err}");
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
