//! Input hygiene shared by every domain: strings are trimmed, empty required
//! strings are refused, every free-text field has a maximum length.

use crate::error::{AppError, AppResult};

/// A required string: trimmed, not empty, at most `max` characters.
pub fn required(field: &str, value: &str, max: usize) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::bad_input(
            field,
            format!("{} is required.", label(field)),
        ));
    }
    within(field, value, max)
}

/// An optional string: trimmed; empty becomes absent; at most `max` characters.
pub fn optional(field: &str, value: Option<&str>, max: usize) -> AppResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => within(field, v, max).map(Some),
    }
}

fn within(field: &str, value: &str, max: usize) -> AppResult<String> {
    if value.chars().count() > max {
        return Err(AppError::bad_input(
            field,
            format!("{} must be at most {max} characters.", label(field)),
        ));
    }
    Ok(value.to_string())
}

/// `firstName` → `First name`, for messages.
pub fn label(field: &str) -> String {
    let mut out = String::new();
    for (i, ch) in field.chars().enumerate() {
        if i == 0 {
            out.extend(ch.to_uppercase());
        } else if ch.is_uppercase() {
            out.push(' ');
            out.extend(ch.to_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_refuses_empty_or_long_strings() {
        assert_eq!(required("firstName", "  Ann ", 10).expect("ok"), "Ann");
        let e = required("firstName", "   ", 10).unwrap_err();
        assert_eq!(
            e,
            AppError::bad_input("firstName", "First name is required.")
        );
        assert!(required("bio", "abcdef", 5).is_err());
        assert_eq!(optional("bio", Some("  "), 5).expect("ok"), None);
    }
}
