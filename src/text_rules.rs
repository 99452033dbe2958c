//! The rules every piece of text a user names something with must follow: a todo's
//! title and text, a list's name. Compiled into the server and the browser bundle, so
//! forms check input with exactly the rules the server enforces. Imports nothing.

/// Why a one-line name (`field`: "Title", "Name") is refused, trimmed: a forbidden
/// character, nothing visible, or more than `max_chars` characters (Unicode scalar
/// values).
pub fn line_error(field: &str, trimmed: &str, max_chars: usize) -> Option<String> {
    let chars = trimmed.chars().count();
    if let Some(problem) = forbidden_character(trimmed, field, false) {
        Some(problem)
    } else if !trimmed.chars().any(is_visible) {
        // Also a name of zero-width spaces or other invisible characters: it would
        // look empty on the page.
        Some(format!("{field} can't be empty."))
    } else if chars > max_chars {
        Some(format!(
            "{field} must be at most {max_chars} characters (it has {chars})."
        ))
    } else {
        None
    }
}

/// Why an optional text of several lines is refused, trimmed: a forbidden character or
/// more than `max_chars` characters.
pub fn lines_error(field: &str, trimmed: &str, max_chars: usize) -> Option<String> {
    let chars = trimmed.chars().count();
    if let Some(problem) = forbidden_character(trimmed, field, true) {
        Some(problem)
    } else {
        (chars > max_chars)
            .then(|| format!("{field} must be at most {max_chars} characters (it has {chars})."))
    }
}

/// What no field may hold, whatever its length: NUL (PostgreSQL text cannot store it);
/// other control characters (C0 and C1, DEL), except tab, and line breaks in the text;
/// and the characters that override or isolate text direction, which can make a todo
/// read differently from what it says ("Trojan source").
fn forbidden_character(value: &str, field: &str, multi_line: bool) -> Option<String> {
    let allowed_control = |c: char| c == '\t' || (multi_line && (c == '\n' || c == '\r'));
    if value.contains('\0') {
        Some(format!(
            "{field} contains a NUL character, which can't be stored."
        ))
    } else if value.chars().any(|c| c.is_control() && !allowed_control(c)) {
        Some(format!("{field} contains a control character."))
    } else if value.chars().any(is_direction_control) {
        Some(format!(
            "{field} contains a character that changes the text's direction."
        ))
    } else {
        None
    }
}

/// Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
fn is_direction_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` puts ink on the screen: not white space, and not one of the characters
/// that render as nothing (zero-width spaces and joiners, word joiner, byte order mark,
/// soft hyphen, invisible operators, variation selectors, fillers, blank braille).
fn is_visible(c: char) -> bool {
    !c.is_whitespace()
        && !c.is_control()
        && !matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2060}'..='\u{2064}'
                | '\u{206A}'..='\u{206F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
        )
}
