//! Helpers for enums tagged by a `type` field with an `Other` fallback (see `tagged_enum!`).

use serde::Serialize;
use serde::de::{DeserializeOwned, Error};
use serde_json::{Map, Value};

/// Serializes `body`'s fields with a leading `"type": tag`.
#[derive(Serialize)]
pub(crate) struct Tagged<'a, T: Serialize> {
    #[serde(rename = "type")]
    pub(crate) tag: &'a str,
    #[serde(flatten)]
    pub(crate) body: &'a T,
}

/// The object's `type`, when it is a string.
pub(crate) fn tag_of(map: &Map<String, Value>) -> Option<String> {
    map.get("type").and_then(Value::as_str).map(str::to_owned)
}

/// Deserializes a payload struct from the object's remaining fields.
pub(crate) fn from_fields<T: DeserializeOwned, E: Error>(map: Map<String, Value>) -> Result<T, E> {
    serde_json::from_value(Value::Object(map)).map_err(E::custom)
}
