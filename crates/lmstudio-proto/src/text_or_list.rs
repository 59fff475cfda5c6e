//! Values that are either a string or an array (message content in the OpenAI and Anthropic
//! APIs), read in one pass: no `untagged` buffering on the streaming hot path.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserializer;
use serde::de::{self, Deserialize, SeqAccess, Visitor};

/// At most this many elements are reserved up front: the size hint comes from the input.
const MAX_RESERVED: usize = 64;

/// Reads a string into `text(..)` or an array of `E` into `list(..)`; anything else is an
/// error naming `expecting`.
pub(crate) fn deserialize_text_or_list<'de, D, T, E>(
    deserializer: D,
    expecting: &'static str,
    text: fn(String) -> T,
    list: fn(Vec<E>) -> T,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    E: Deserialize<'de>,
{
    deserializer.deserialize_any(TextOrList {
        expecting,
        text,
        list,
        marker: PhantomData,
    })
}

struct TextOrList<T, E> {
    expecting: &'static str,
    text: fn(String) -> T,
    list: fn(Vec<E>) -> T,
    marker: PhantomData<E>,
}

impl<'de, T, E: Deserialize<'de>> Visitor<'de> for TextOrList<T, E> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<Er: de::Error>(self, text: &str) -> Result<T, Er> {
        Ok((self.text)(text.to_owned()))
    }

    fn visit_string<Er: de::Error>(self, text: String) -> Result<T, Er> {
        Ok((self.text)(text))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_RESERVED));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok((self.list)(items))
    }
}
