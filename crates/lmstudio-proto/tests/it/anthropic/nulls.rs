//! `null` wherever an answer, event or error has a key: each key of a fully populated sample
//! set to `null` in turn, at every depth, must still parse (see `common::nulls`). The samples
//! are in `data/anthropic/populated/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lmstudio_proto::anthropic::{
    CountTokensResponse, ErrorResponse, MessagesResponse, StreamEvent,
};

use crate::common::nulls::{assert_nulls_tolerated, assert_populated, populated};

/// For each `name: Type = "sample.json"`, a module `name` with two tests: the sample is fully
/// populated, and every key of it may be `null`.
macro_rules! populated_samples {
    ($($name:ident: $ty:ty = $file:literal;)+) => {$(
        mod $name {
            use super::*;

            const SAMPLE: &str = include_str!(concat!("../../data/anthropic/populated/", $file));

            #[test]
            fn sample_is_fully_populated() {
                let (value, serialized) = populated::<$ty>($file, SAMPLE);
                assert_populated($file, &value, &serialized);
            }

            #[test]
            fn every_key_may_be_null() {
                let (_, serialized) = populated::<$ty>($file, SAMPLE);
                assert_nulls_tolerated::<$ty>($file, &serialized);
            }
        }
    )+};
}

populated_samples! {
    messages_response: MessagesResponse = "messages_response.json";
    stream_events: Vec<StreamEvent> = "stream_events.json";
    error_response: ErrorResponse = "error_response.json";
    count_tokens: CountTokensResponse = "count_tokens.json";
}

#[test]
fn null_reads_as_absent_in_an_answer() {
    let message: MessagesResponse = serde_json::from_str(
        r#"{"id":null,"type":null,"role":null,"content":null,"model":null,"stop_reason":null,"stop_sequence":null,"usage":null}"#,
    )
    .unwrap();
    assert_eq!(message, MessagesResponse::default());
    // `content` is required: an error body is not a message.
    assert!(serde_json::from_str::<MessagesResponse>(r#"{"id":"x"}"#).is_err());
}
