//! `type`-tagged enums of the Anthropic API (blocks, events, deltas), read in one pass.
//!
//! The crate's `tagged_enum!` reads every object into a `serde_json::Map` first and then the
//! payload from it: two passes. Messages streams are made of such objects (an event whose
//! `delta` is another tagged object), so [`anthropic_tagged!`] reads the payload straight
//! from the input when `type` is the object's first key (as Anthropic's API and llama.cpp
//! write it), and falls back to the two passes otherwise. Either way: an unknown `type` (or a
//! `null` one, or none) keeps the whole object in `Other`, a repeated `type` is an error, and
//! `Serialize` writes `type` first.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{BorrowedStrDeserializer, MapAccessDeserializer, StringDeserializer};
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// Declares an enum tagged by `type` whose unknown tags land in `Other(Map)` (the whole
/// object, `type` included). Every variant wraps a payload struct that keeps unknown fields in
/// a flattened `extra`. Generates `kind()`, `Serialize` and a one-pass `Deserialize`.
macro_rules! anthropic_tagged {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident($payload:ty) = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant($payload), )+
            /// A `type` this crate does not know (yet): the whole JSON object, `type` included.
            Other(::serde_json::Map<String, ::serde_json::Value>),
        }

        impl $name {
            /// The `type` tag (empty for an [`Other`](Self::Other) without a string `type`).
            pub fn kind(&self) -> &str {
                match self {
                    $( Self::$variant(_) => $wire, )+
                    Self::Other(map) => map
                        .get("type")
                        .and_then(::serde_json::Value::as_str)
                        .unwrap_or(""),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( Self::$variant(body) => $crate::tagged::Tagged { tag: $wire, body }
                        .serialize(serializer), )+
                    Self::Other(map) => map.serialize(serializer),
                }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct TaggedVisitor;

                impl<'de> ::serde::de::Visitor<'de> for TaggedVisitor {
                    type Value = $name;

                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a JSON object with a `type` (", stringify!($name), ")"))
                    }

                    fn visit_map<A: ::serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<$name, A::Error> {
                        use $crate::anthropic::tagged::{First, Rest, first_key};
                        match first_key(&mut map)? {
                            First::Tag(tag) => {
                                let name = tag.as_ref().map(|tag| tag.as_str());
                                match name {
                                    $( Some($wire) => Rest::new(map).payload().map($name::$variant), )+
                                    _ => Rest::new(map).other(name).map($name::Other),
                                }
                            }
                            First::Buffered(mut fields) => {
                                let tag = $crate::tagged::tag_of(&fields);
                                match tag.as_deref() {
                                    $( Some($wire) => {
                                        fields.remove("type");
                                        $crate::tagged::from_fields(fields).map($name::$variant)
                                    } )+
                                    _ => Ok($name::Other(fields)),
                                }
                            }
                        }
                    }
                }

                deserializer.deserialize_map(TaggedVisitor)
            }
        }
    };
}

/// What the first key of a tagged object told.
pub(crate) enum First<'de> {
    /// `type` came first: its value (`None` when `null`); the rest is still to read.
    Tag(Option<Key<'de>>),
    /// Another key came first (or none): the whole object, read into a map.
    Buffered(Map<String, Value>),
}

/// Reads the first key; when it is not `type`, reads the whole object.
pub(crate) fn first_key<'de, A: MapAccess<'de>>(map: &mut A) -> Result<First<'de>, A::Error> {
    let Some(key) = map.next_key::<Key<'de>>()? else {
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
    while let Some(key) = map.next_key::<Key<'de>>()? {
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
    pub(crate) fn other(mut self, tag: Option<&str>) -> Result<Map<String, Value>, A::Error> {
        let mut fields = Map::new();
        fields.insert("type".to_owned(), tag.map_or(Value::Null, Value::from));
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
        let Some(key) = self.map.next_key::<Key<'de>>()? else {
            return Ok(None);
        };
        match key.0 {
            Cow::Borrowed("type") => Err(de::Error::duplicate_field("type")),
            Cow::Owned(key) if key == "type" => Err(de::Error::duplicate_field("type")),
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

/// An object key or a `type` value, borrowed from the input when it has no escapes.
pub(crate) struct Key<'de>(Cow<'de, str>);

impl Key<'_> {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(Key(Cow::Borrowed(value)))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Key(Cow::Owned(value.to_owned())))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(Key(Cow::Owned(value)))
    }
}
