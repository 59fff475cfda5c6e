//! `type`-tagged enums that read a `type`-first object without an intermediate `Map`: the
//! Responses stream events and content parts, parsed once per token.

use serde::de::MapAccess;
use serde_json::{Map, Value};

use crate::extra::FieldKey;

/// Declares an enum tagged by `type` like `tagged_enum!` does (variants wrapping payload
/// structs, `kind()`, `Serialize`, an `Other(Map)` fallback that round-trips), with a
/// `Deserialize` that reads a `type`-first object (as servers write them) straight into the
/// variant's payload, without an intermediate `Map` (see [`visit_tagged`]).
macro_rules! fast_tagged_enum {
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
            /// An event type this crate does not know (yet): the whole JSON object, `type`
            /// included.
            Other(::serde_json::Map<String, ::serde_json::Value>),
        }

        impl $name {
            /// The event's `type` (empty for an [`Other`](Self::Other) without one).
            pub fn kind(&self) -> &str {
                match self {
                    $( Self::$variant(_) => $wire, )+
                    Self::Other(map) => map.get("type").and_then(::serde_json::Value::as_str).unwrap_or(""),
                }
            }

            /// The rest of a `type`-first object read into the payload of the event `tag`;
            /// `None` for a tag this crate does not know.
            fn read_rest<'de, A: ::serde::de::MapAccess<'de>>(
                tag: &str,
                map: A,
            ) -> Result<Result<Self, A>, A::Error> {
                match tag {
                    $( $wire => <$payload as ::serde::Deserialize>::deserialize(::serde::de::value::MapAccessDeserializer::new(map))
                        .map(|payload| Ok(Self::$variant(payload))), )+
                    _ => Ok(Err(map)),
                }
            }

            /// An event from a whole object (the slow path: `type` not first, or added from
            /// the SSE name).
            fn from_object<E: ::serde::de::Error>(
                mut map: ::serde_json::Map<String, ::serde_json::Value>,
            ) -> Result<Self, E> {
                match $crate::tagged::tag_of(&map).as_deref() {
                    $( Some($wire) => {
                        map.remove("type");
                        $crate::tagged::from_fields::<$payload, E>(map).map(Self::$variant)
                    } )+
                    _ => Ok(Self::Other(map)),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( Self::$variant(body) => $crate::tagged::Tagged { tag: $wire, body }.serialize(serializer), )+
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
                        f.write_str(concat!("a JSON object (", stringify!($name), ")"))
                    }

                    fn visit_map<A: ::serde::de::MapAccess<'de>>(self, map: A) -> Result<$name, A::Error> {
                        $crate::responses::fast_tagged::visit_tagged(map, $name::read_rest, $name::from_object)
                    }
                }

                deserializer.deserialize_map(TaggedVisitor)
            }
        }
    };
}

/// Reads a `type`-tagged object. When `type` comes first (as OpenAI, llama.cpp and LM Studio
/// write it), `read_rest` reads the rest of the object straight into the variant of that tag
/// (or hands the map back for a tag it does not know); otherwise, and for unknown tags, the
/// whole object is collected and `from_object` decides.
pub(crate) fn visit_tagged<'de, A, T>(
    mut map: A,
    read_rest: impl FnOnce(&str, A) -> Result<Result<T, A>, A::Error>,
    from_object: impl FnOnce(Map<String, Value>) -> Result<T, A::Error>,
) -> Result<T, A::Error>
where
    A: MapAccess<'de>,
{
    let mut object = Map::new();
    if let Some(first) = map.next_key::<FieldKey<'de>>()? {
        let value: Value = map.next_value()?;
        if first.as_str() == "type"
            && let Some(tag) = value.as_str()
        {
            match read_rest(tag, map)? {
                Ok(value) => return Ok(value),
                Err(rest) => map = rest,
            }
        }
        object.insert(first.into_string(), value);
    }
    while let Some(key) = map.next_key::<FieldKey<'de>>()? {
        let value: Value = map.next_value()?;
        if object.insert(key.into_string(), value).is_some() {
            return Err(serde::de::Error::custom("duplicate field in an object"));
        }
    }
    from_object(object)
}
