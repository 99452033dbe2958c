//! What a list is: its id (the capability in its URL) and its name. Shared by the server
//! and the browser.

use crate::text_rules;
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// A list's name when nobody gave it one.
pub const DEFAULT_NAME: &str = "My tasks";
/// Longest accepted name, in characters, after trimming (as a todo's title).
pub const NAME_MAX_CHARS: usize = 200;
/// How many lists "Your lists" remembers, newest first.
pub const REMEMBERED_MAX: usize = 20;

/// A list's id: 128 bits from a CSPRNG, written as 26 characters of Crockford's base32
/// in lower case (`/lists/0f3k…`). Knowing it is the permission to use the list, so it
/// must not be guessable: 2^128 possibilities, never sequential, never derived from
/// anything. Any 128-bit value is a valid id, so any well-formed URL names a list,
/// empty until its first write.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct ListId(u128);

/// Crockford's base32 alphabet: no I, L, O or U, so an id read aloud or retyped is not
/// misread.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// 26 characters of 5 bits hold 130 bits: the first character carries the top 3 bits
/// of the 128 (so it is `0`–`7`), each other one 5.
const ENCODED_LEN: usize = 26;

impl ListId {
    pub fn from_u128(bits: u128) -> Self {
        Self(bits)
    }

    pub fn as_u128(self) -> u128 {
        self.0
    }

    /// The list page's path.
    pub fn href(self) -> String {
        format!("/lists/{self}")
    }
}

impl fmt::Display for ListId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut encoded = [0u8; ENCODED_LEN];
        for (position, byte) in encoded.iter_mut().enumerate() {
            let shift = 5 * (ENCODED_LEN - 1 - position);
            *byte = ALPHABET[((self.0 >> shift) & 0x1f) as usize];
        }
        // Only ASCII from the alphabet was written.
        f.write_str(std::str::from_utf8(&encoded).map_err(|_| fmt::Error)?)
    }
}

/// Fresh ids, on the server only (the browser asks the server for a new list).
#[cfg(feature = "ssr")]
impl ListId {
    /// 128 bits from the operating system's CSPRNG.
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        Ok(Self(u128::from_le_bytes(bytes)))
    }
}

/// Ids are written to logs never (they are capabilities); `Debug` says so.
impl fmt::Debug for ListId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ListId(…)")
    }
}

/// Not a list id: anything but 26 characters of the alphabet (lower case, the first one
/// `0`–`7`). Carries nothing of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a list id")]
pub struct MalformedListId;

impl FromStr for ListId {
    type Err = MalformedListId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() != ENCODED_LEN {
            return Err(MalformedListId);
        }
        let mut bits: u128 = 0;
        for (position, byte) in text.bytes().enumerate() {
            let value = ALPHABET
                .iter()
                .position(|letter| *letter == byte)
                .ok_or(MalformedListId)? as u128;
            if position == 0 && value > 7 {
                return Err(MalformedListId);
            }
            bits = (bits << 5) | value;
        }
        Ok(Self(bits))
    }
}

impl From<ListId> for String {
    fn from(id: ListId) -> Self {
        id.to_string()
    }
}

impl TryFrom<String> for ListId {
    type Error = MalformedListId;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

/// Checks a list's name (trimmed first) with the rules of a todo's title.
pub fn parse_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    match text_rules::line_error("Name", name, NAME_MAX_CHARS) {
        Some(problem) => Err(problem),
        None => Ok(name.to_owned()),
    }
}

/// A list as a link: "Your lists" shows these.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListLink {
    pub id: ListId,
    pub name: String,
}

/// What the list page shows around the todos.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListHeader {
    pub name: String,
    /// The list's full URL, to share.
    pub link: String,
    /// The lists this browser used, newest first, this one included.
    pub yours: Vec<ListLink>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_26_characters() {
        for bits in [0, 1, u128::MAX, 0x0123_4567_89ab_cdef_0123_4567_89ab_cdef] {
            let id = ListId::from_u128(bits);
            let text = id.to_string();
            assert_eq!(text.len(), 26);
            assert!(text.bytes().all(|b| ALPHABET.contains(&b)));
            assert_eq!(text.parse::<ListId>(), Ok(id), "{text}");
        }
        assert_eq!(
            ListId::from_u128(u128::MAX).to_string(),
            "7zzzzzzzzzzzzzzzzzzzzzzzzz"
        );
        assert_eq!(
            ListId::from_u128(0).to_string(),
            "00000000000000000000000000"
        );
    }

    #[test]
    fn malformed_ids_are_refused() {
        for text in [
            "",
            "0000000000000000000000000",   // 25
            "000000000000000000000000000", // 27
            "8zzzzzzzzzzzzzzzzzzzzzzzzz",  // beyond 128 bits
            "0000000000000000000000000i",  // not in the alphabet
            "0000000000000000000000000A",  // upper case
            "000000000000000000000000/.",
            "0000000000000000000000000é",
        ] {
            assert_eq!(text.parse::<ListId>(), Err(MalformedListId), "{text:?}");
        }
    }

    #[test]
    fn an_id_is_never_shown_by_debug() {
        let id = ListId::from_u128(42);
        assert!(!format!("{id:?}").contains(&id.to_string()));
    }

    #[test]
    fn names_follow_the_rules_of_a_title() {
        assert_eq!(parse_name("  Groceries "), Ok("Groceries".to_owned()));
        assert_eq!(
            parse_name(" \u{200B} "),
            Err("Name can't be empty.".to_owned())
        );
        assert!(parse_name(&"n".repeat(201)).is_err());
        assert!(parse_name("a\u{202E}b").is_err());
    }
}
