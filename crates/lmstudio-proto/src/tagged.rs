//! Reading and writing enums tagged by a `type` field with an `Other` fallback (see
//! `tagged_enum!`).
//!
//! Most servers write `type` as an object's first key. Then the tag is known before the rest
//! is read, and [`first_key`] hands the rest of the input straight to the variant's payload
//! struct ([`Rest::payload`]): no `serde_json::Map` is built. (A payload that deserializes
//! with [`deserialize_with_extra!`] reads in one pass; a derived one with
//! `#[serde(flatten)] extra` still buffers its own fields, as serde's `flatten` does.) When
//! another key comes first, the whole object is read into a map and the payload from it.
//!
//! Both ways give the same result: a known `type` reads its payload; an unknown one, a `null`
//! or non-string `type`, or none keeps the whole object in `Other` (the `type` value as it
//! came); a repeated key is an error. [`Tagged`] and [`serialize_other`] write `type` first.
//! One exception, opted into per enum (`untyped:` in `tagged_enum!`): an object with no
//! `type` key but a given other key reads as one chosen variant (a Responses `Item` with a
//! `role` is a message).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{BorrowedStrDeserializer, MapAccessDeserializer, StringDeserializer};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor,
};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use crate::extra::FieldKey;

/// Serializes `body`'s fields with a leading `"type": tag`.
#[derive(Serialize)]
pub(crate) struct Tagged<'a, T: Serialize> {
    #[serde(rename = "type")]
    pub(crate) tag: &'a str,
    #[serde(flatten)]
    pub(crate) body: &'a T,
}

/// Serializes an `Other` object with its `type` (if any) first, then the other keys in order.
pub(crate) fn serialize_other<S: Serializer>(
    map: &Map<String, Value>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut out = serializer.serialize_map(Some(map.len()))?;
    if let Some(tag) = map.get("type") {
        out.serialize_entry("type", tag)?;
    }
    for (key, value) in map.iter().filter(|(key, _)| key.as_str() != "type") {
        out.serialize_entry(key, value)?;
    }
    out.end()
}

/// The object's `type`, when it is a string.
pub(crate) fn tag_of(map: &Map<String, Value>) -> Option<String> {
    map.get("type").and_then(Value::as_str).map(str::to_owned)
}

/// Deserializes a payload struct from the object's remaining fields (or, given a whole
/// object, a tagged enum: the Responses stream events whose `type` comes from the SSE name).
pub(crate) fn from_fields<T: DeserializeOwned, E: Error>(map: Map<String, Value>) -> Result<T, E> {
    serde_json::from_value(Value::Object(map)).map_err(E::custom)
}

/// What the first key of a tagged object told.
pub(crate) enum First<'de> {
    /// `type` came first, with this value; the rest is still to read.
    Tag(TagValue<'de>),
    /// Another key came first (or none): the whole object, read into a map.
    Buffered(Map<String, Value>),
}

/// The value of a `type` key.
pub(crate) enum TagValue<'de> {
    /// A string, borrowed from the input when it has no escapes.
    Str(Cow<'de, str>),
    /// Anything else (`null`, a number, an object, ...): never a known tag, kept as it came.
    NotAString(Value),
}

/// Reads the first key; when it is not `type`, reads the whole object.
pub(crate) fn first_key<'de, A: MapAccess<'de>>(map: &mut A) -> Result<First<'de>, A::Error> {
    let Some(key) = map.next_key::<FieldKey<'de>>()? else {
        return Ok(First::Buffered(Map::new()));
    };
    if key.as_str() == "type" {
        return Ok(First::Tag(map.next_value()?));
    }
    let mut fields = Map::new();
    fields.insert(key.into_string(), map.next_value()?);
    drain_into(map, &mut fields)?;
    Ok(First::Buffered(fields))
}

/// Reads the remaining entries into `fields`; a repeated key is an error.
fn drain_into<'de, A: MapAccess<'de>>(
    map: &mut A,
    fields: &mut Map<String, Value>,
) -> Result<(), A::Error> {
    while let Some(key) = map.next_key::<FieldKey<'de>>()? {
        let value: Value = map.next_value()?;
        if fields.insert(key.into_string(), value).is_some() {
            return Err(de::Error::custom("duplicate field in an object"));
        }
    }
    Ok(())
}

/// The rest of an object whose `type` has been read.
pub(crate) struct Rest<'de, A> {
    map: A,
    marker: PhantomData<&'de ()>,
}

impl<'de, A: MapAccess<'de>> Rest<'de, A> {
    pub(crate) fn new(map: A) -> Self {
        Self {
            map,
            marker: PhantomData,
        }
    }

    /// Reads the payload struct from the remaining keys (a second `type` is an error).
    pub(crate) fn payload<T: DeserializeOwned>(self) -> Result<T, A::Error> {
        T::deserialize(MapAccessDeserializer::new(self))
    }

    /// Reads the remaining keys into a map that starts with the `type` that was read.
    pub(crate) fn other(mut self, tag: TagValue<'_>) -> Result<Map<String, Value>, A::Error> {
        let tag = match tag {
            TagValue::Str(tag) => Value::String(tag.into_owned()),
            TagValue::NotAString(value) => value,
        };
        let mut fields = Map::new();
        fields.insert("type".to_owned(), tag);
        drain_into(&mut self.map, &mut fields)?;
        Ok(fields)
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Rest<'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let Some(key) = self.map.next_key::<FieldKey<'de>>()? else {
            return Ok(None);
        };
        if key.as_str() == "type" {
            return Err(de::Error::duplicate_field("type"));
        }
        match key.0 {
            Cow::Borrowed(key) => seed
                .deserialize(BorrowedStrDeserializer::<A::Error>::new(key))
                .map(Some),
            Cow::Owned(key) => seed
                .deserialize(StringDeserializer::<A::Error>::new(key))
                .map(Some),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

impl<'de> Deserialize<'de> for TagValue<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TagVisitor)
    }
}

/// Reads a `type` value: strings without copying when possible, anything else as a `Value`.
struct TagVisitor;

impl<'de> Visitor<'de> for TagVisitor {
    type Value = TagValue<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_borrowed_str<E: Error>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(TagValue::Str(Cow::Borrowed(value)))
    }

    fn visit_str<E: Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(TagValue::Str(Cow::Owned(value.to_owned())))
    }

    fn visit_string<E: Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(TagValue::Str(Cow::Owned(value)))
    }

    fn visit_bool<E: Error>(self, value: bool) -> Result<Self::Value, E> {
        Ok(TagValue::NotAString(Value::Bool(value)))
    }

    fn visit_i64<E: Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(TagValue::NotAString(Value::from(value)))
    }

    fn visit_u64<E: Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(TagValue::NotAString(Value::from(value)))
    }

    fn visit_f64<E: Error>(self, value: f64) -> Result<Self::Value, E> {
        // JSON has no NaN or infinity, so a number from JSON always fits.
        Ok(TagValue::NotAString(
            Number::from_f64(value).map_or(Value::Null, Value::Number),
        ))
    }

    fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
        Ok(TagValue::NotAString(Value::Null))
    }

    fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
        Ok(TagValue::NotAString(Value::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        Value::deserialize(deserializer).map(TagValue::NotAString)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(TagValue::NotAString)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map)).map(TagValue::NotAString)
    }
}
