//! What a todo is and which todos are acceptable. Compiled into both the server and the
//! browser bundle, so the form checks input with exactly the rules the server enforces.

use crate::text_rules;
use serde::{Deserialize, Serialize};

/// Longest accepted title, in characters (Unicode scalar values), after trimming.
pub const TITLE_MAX_CHARS: usize = 200;
/// Longest accepted text, in characters (Unicode scalar values), after trimming.
pub const TEXT_MAX_CHARS: usize = 4000;

/// A stored todo, as the list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Todo {
    pub id: i64,
    pub title: String,
    pub text: String,
    pub created_at: CreatedAt,
    pub completed: bool,
    /// Raised by every change; a change made against an older version is refused.
    pub version: i32,
}

impl Todo {
    /// Whether only its id, version and state are known: it came with the server's
    /// HTML, which shows the rest, to be read from there (`listing::ShownPage`). A
    /// stored todo always has a title (the input rules refuse an empty one).
    pub fn awaits_html(&self) -> bool {
        self.title.is_empty()
    }
}

/// When a todo was created, formatted once, on the server: for machines (ISO 8601, UTC,
/// for `<time datetime>`) and for people (in UTC on both sides, so the server's HTML and
/// the hydrated page agree). The browser bundle then needs no date library: chrono is a
/// server-only dependency, which keeps the WebAssembly smaller.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedAt {
    iso: String,
    display: String,
}

impl CreatedAt {
    /// The two forms as the server wrote them, read back from its HTML.
    pub fn from_html(iso: String, display: String) -> Self {
        Self { iso, display }
    }

    /// `2026-03-05T07:08:09.123Z`
    pub fn iso(&self) -> &str {
        &self.iso
    }

    /// `5 Mar 2026, 07:08 UTC`
    pub fn display(&self) -> &str {
        &self.display
    }
}

/// A title and text that passed validation, for a new todo or an edit: trimmed and
/// within limits. `TodoInput::parse` is the only way to make one, so holding a
/// `TodoInput` proves the input was checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TodoInput {
    title: String,
    text: String,
}

impl TodoInput {
    /// Trims both fields and checks every rule, reporting all broken rules at once.
    pub fn parse(title: &str, text: &str) -> Result<Self, FieldErrors> {
        let title = title.trim();
        let text = text.trim();
        let errors = FieldErrors {
            title: title_error(title),
            text: text_error(text),
        };
        if errors.is_empty() {
            Ok(Self {
                title: title.to_owned(),
                text: text.to_owned(),
            })
        } else {
            Err(errors)
        }
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

/// One message per field that broke a rule; `None` where the field is fine.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors {
    pub title: Option<String>,
    pub text: Option<String>,
}

impl FieldErrors {
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.text.is_none()
    }

    /// The errors after the user changed the input, while errors show: each one goes
    /// away once fixed. `None` while none show, since errors appear only on submit.
    pub fn rechecked(&self, title: &str, text: &str) -> Option<Self> {
        (!self.is_empty()).then(|| TodoInput::parse(title, text).err().unwrap_or_default())
    }
}

fn title_error(trimmed: &str) -> Option<String> {
    text_rules::line_error("Title", trimmed, TITLE_MAX_CHARS)
}

fn text_error(trimmed: &str) -> Option<String> {
    text_rules::lines_error("Text", trimmed, TEXT_MAX_CHARS)
}

/// How creation times come from the database (server only: chrono stays out of the
/// browser bundle).
#[cfg(feature = "ssr")]
mod ssr {
    use super::CreatedAt;

    impl CreatedAt {
        pub fn new(at: chrono::DateTime<chrono::Utc>) -> Self {
            Self {
                iso: at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                display: at.format("%-d %b %Y, %H:%M UTC").to_string(),
            }
        }
    }

    /// Read straight from a `timestamptz` column.
    impl sqlx::Type<sqlx::Postgres> for CreatedAt {
        fn type_info() -> sqlx::postgres::PgTypeInfo {
            <chrono::DateTime<chrono::Utc> as sqlx::Type<sqlx::Postgres>>::type_info()
        }
    }

    impl<'r> sqlx::Decode<'r, sqlx::Postgres> for CreatedAt {
        fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
            let at =
                <chrono::DateTime<chrono::Utc> as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
            Ok(Self::new(at))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_title_and_trims_both_fields() {
        let todo = TodoInput::parse("  Buy milk \n", "\t2 litres  ").unwrap();
        assert_eq!(todo.title(), "Buy milk");
        assert_eq!(todo.text(), "2 litres");
    }

    #[test]
    fn text_is_optional() {
        assert_eq!(TodoInput::parse("Call Bob", "").unwrap().text(), "");
    }

    #[test]
    fn rejects_an_empty_title() {
        let errors = TodoInput::parse("", "some text").unwrap_err();
        assert_eq!(errors.title.as_deref(), Some("Title can't be empty."));
        assert_eq!(errors.text, None);
    }

    #[test]
    fn rejects_a_whitespace_only_title_including_unicode_spaces() {
        for blank in [" ", "\t\n", "\u{3000}\u{a0} "] {
            let errors = TodoInput::parse(blank, "").unwrap_err();
            assert!(errors.title.is_some(), "{blank:?} was accepted");
        }
    }

    #[test]
    fn title_limit_is_inclusive_and_counts_characters_not_bytes() {
        let at_limit = "é".repeat(TITLE_MAX_CHARS);
        assert!(TodoInput::parse(&at_limit, "").is_ok());

        let over = "é".repeat(TITLE_MAX_CHARS + 1);
        let errors = TodoInput::parse(&over, "").unwrap_err();
        assert_eq!(
            errors.title.as_deref(),
            Some("Title must be at most 200 characters (it has 201).")
        );
    }

    #[test]
    fn limits_apply_after_trimming() {
        let padded = format!("  {}  ", "a".repeat(TITLE_MAX_CHARS));
        assert!(TodoInput::parse(&padded, "").is_ok());
        let padded_text = format!("\n{}\n", "b".repeat(TEXT_MAX_CHARS));
        assert!(TodoInput::parse("t", &padded_text).is_ok());
    }

    #[test]
    fn rejects_text_over_the_limit() {
        let errors = TodoInput::parse("ok", &"x".repeat(TEXT_MAX_CHARS + 5)).unwrap_err();
        assert_eq!(errors.title, None);
        assert_eq!(
            errors.text.as_deref(),
            Some("Text must be at most 4000 characters (it has 4005).")
        );
    }

    #[test]
    fn rejects_nul_characters_which_postgres_cannot_store() {
        let errors = TodoInput::parse("a\0b", "c\0").unwrap_err();
        assert_eq!(
            errors.title.as_deref(),
            Some("Title contains a NUL character, which can't be stored.")
        );
        assert_eq!(
            errors.text.as_deref(),
            Some("Text contains a NUL character, which can't be stored.")
        );
    }

    #[test]
    fn errors_are_rechecked_only_while_they_show() {
        assert_eq!(FieldErrors::default().rechecked("", ""), None);
        let showing = TodoInput::parse("", "").unwrap_err();
        assert_eq!(showing.rechecked("fixed", ""), Some(FieldErrors::default()));
        assert_eq!(showing.rechecked(" ", ""), Some(showing.clone()));
    }

    #[test]
    fn reports_every_broken_rule_at_once() {
        let errors = TodoInput::parse(" ", &"x".repeat(TEXT_MAX_CHARS + 1)).unwrap_err();
        assert!(errors.title.is_some() && errors.text.is_some());
    }

    #[test]
    fn rejects_control_characters_but_tabs_and_line_breaks_in_the_text() {
        for bad in ["a\u{7}b", "a\u{1B}[31mb", "a\u{7F}b", "a\u{85}b", "a\nb"] {
            let errors = TodoInput::parse(bad, "").unwrap_err();
            assert_eq!(
                errors.title.as_deref(),
                Some("Title contains a control character."),
                "{bad:?}"
            );
        }
        assert!(TodoInput::parse("a\tb", "line one\r\nline two\tend").is_ok());
        let errors = TodoInput::parse("ok", "bell\u{7}").unwrap_err();
        assert_eq!(
            errors.text.as_deref(),
            Some("Text contains a control character.")
        );
    }

    #[test]
    fn rejects_text_direction_overrides() {
        for bad in ["pay \u{202E}gnp.exe", "\u{2066}x\u{2069}", "a\u{202A}b"] {
            let errors = TodoInput::parse(bad, bad).unwrap_err();
            let message = "contains a character that changes the text's direction.";
            assert_eq!(errors.title.unwrap(), format!("Title {message}"));
            assert_eq!(errors.text.unwrap(), format!("Text {message}"));
        }
        // Right-to-left text itself is fine.
        assert!(TodoInput::parse("שלום", "مرحبا").is_ok());
    }

    #[test]
    fn rejects_a_title_with_no_visible_character() {
        for invisible in [
            "\u{200B}",
            "\u{200B}\u{200D}\u{FEFF}",
            "\u{2060}\u{00AD}",
            "\u{3164}",
        ] {
            let errors = TodoInput::parse(invisible, "").unwrap_err();
            assert_eq!(
                errors.title.as_deref(),
                Some("Title can't be empty."),
                "{invisible:?}"
            );
        }
        // Joiners inside visible text are kept (emoji sequences use them).
        assert!(TodoInput::parse("👩\u{200D}💻 setup", "").is_ok());
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn formats_creation_time_for_machines_and_people() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-03-05T07:08:09.123456Z")
            .unwrap()
            .to_utc();
        let created_at = CreatedAt::new(at);
        assert_eq!(created_at.iso(), "2026-03-05T07:08:09.123Z");
        assert_eq!(created_at.display(), "5 Mar 2026, 07:08 UTC");
    }
}
