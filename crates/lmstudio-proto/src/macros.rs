//! Crate-internal macros: open string enums (`Other(String)` fallback) and `type`-tagged enums.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Visitor};

/// Declares a string enum whose unknown values land in `Other(String)` and round-trip.
///
/// Generates `as_str()`, `From<&str>`, `From<String>`, `FromStr` (infallible), `Display`,
/// and string `Serialize`/`Deserialize`.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this crate does not know (yet), kept verbatim so it round-trips.
            Other(String),
        }

        impl $name {
            /// The value as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $wire => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    $( $wire => Self::$variant, )+
                    _ => Self::Other(value),
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str($crate::macros::StrVisitor::<Self>::new(stringify!($name)))
            }
        }
    };
}

/// Declares an enum tagged by a `type` field, whose unknown tags land in `Other(Map)` (the
/// whole object, `type` included) and round-trip.
///
/// Every known variant wraps a payload struct (which should keep unknown fields in a
/// flattened `extra`). Generates `kind()` plus `Serialize` (`type` first, for `Other` too) and
/// `Deserialize`, which reads the payload from the rest of the input when `type` is the first
/// key and through a map otherwise (see [`crate::tagged`]). Attributes on the enum (docs,
/// `#[non_exhaustive]`) are passed through.
///
/// An optional `untyped: "key" => "tag";` after the enum reads an object that has no `type`
/// key but has `key` as if its `type` were `tag` (the Responses API's `Item`: a message may
/// leave out `"type":"message"`); it is written back with its `type`.
macro_rules! tagged_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident($payload:ty) = $wire:literal, )+
        }
        $( untyped: $untyped_key:literal => $untyped_tag:literal; )?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $name {
            $( $(#[$vmeta])* $variant($payload), )+
            /// A `type` this crate does not know (yet): the whole JSON object, `type` included.
            Other(::serde_json::Map<String, ::serde_json::Value>),
        }

        impl $name {
            /// The `type` tag of this value (empty for an [`Other`](Self::Other) without a
            /// string `type`).
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
                    Self::Other(map) => $crate::tagged::serialize_other(map, serializer),
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
                        use $crate::tagged::{First, Rest, TagValue, first_key};
                        match first_key(&mut map)? {
                            First::Tag(TagValue::Str(tag)) => match &*tag {
                                $( $wire => Rest::new(map).payload().map($name::$variant), )+
                                _ => Rest::new(map).other(TagValue::Str(tag)).map($name::Other),
                            },
                            First::Tag(tag) => Rest::new(map).other(tag).map($name::Other),
                            First::Buffered(mut fields) => {
                                let tag = $crate::tagged::tag_of(&fields);
                                $( let tag = tag.or_else(|| {
                                    let untyped = !fields.contains_key("type")
                                        && fields.contains_key($untyped_key);
                                    untyped.then(|| $untyped_tag.to_owned())
                                }); )?
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

/// Deserializes any string into a `From<String>` type (used by [`open_enum!`]).
pub(crate) struct StrVisitor<T> {
    name: &'static str,
    marker: PhantomData<T>,
}

impl<T> StrVisitor<T> {
    pub(crate) fn new(name: &'static str) -> Self {
        Self {
            name,
            marker: PhantomData,
        }
    }
}

impl<T: From<String> + for<'a> From<&'a str>> Visitor<'_> for StrVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a string ({})", self.name)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
        Ok(T::from(value))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<T, E> {
        Ok(T::from(value))
    }
}
