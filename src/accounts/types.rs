//! Value types that parse account input: an `Email`, a `Phone`, a `Password` that meets the policy.

use crate::error::{AppError, AppResult};

/// A normalised email address: trimmed, lower case, one `@`, a dotted domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, raw: &str) -> AppResult<Self> {
        let value = raw.trim().to_lowercase();
        let bad = || AppError::bad_input(field, "Enter a valid email address.");
        if value.is_empty() || value.len() > 254 || value.chars().any(char::is_whitespace) {
            return Err(bad());
        }
        let (local, domain) = value.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || local.len() > 64
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(bad());
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A phone number: an optional `+` and 7 to 15 digits; spaces, dots, dashes and brackets dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(field: &str, raw: &str) -> AppResult<Self> {
        let trimmed = raw.trim();
        let (plus, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => ("+", rest),
            None => ("", trimmed),
        };
        let digits: String = rest
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        if !(7..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(AppError::bad_input(field, "Enter a valid phone number."));
        }
        Ok(Self(format!("{plus}{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Passwords people pick first; refused whatever the rest of the policy says.
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password1",
    "password123",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "qwerty123",
    "qwertyuiop",
    "qwerty12",
    "qwerty1234",
    "iloveyou",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "welcome1",
    "welcome123",
    "letmein1",
    "letmein123",
    "abc12345",
    "abcd1234",
    "1q2w3e4r",
    "1qaz2wsx",
    "zaq12wsx",
    "trustno1",
    "superman",
    "batman123",
    "dragon123",
    "monkey123",
    "master123",
    "admin123",
    "administrator",
    "changeme",
    "changeme1",
    "whatever",
    "starwars",
    "pokemon1",
    "computer",
    "internet",
    "asdfghjk",
    "asdfghjkl",
    "zxcvbnm1",
    "michael1",
    "jennifer",
    "jordan23",
    "liverpool",
    "chelsea1",
    "arsenal1",
    "freedom1",
    "shadow12",
    "mustang1",
    "corvette",
    "ferrari1",
    "porsche1",
    "mercedes",
    "test1234",
    "testtest",
    "secret123",
    "samsung1",
    "hello123",
    "loveyou1",
    "charlie1",
    "summer2024",
    "winter2024",
    "spring2025",
    "autumn2025",
    "qwerty123456",
    "password12",
    "password1234",
    "aa123456",
    "a1b2c3d4",
    "11111111a",
    "letmein!",
    "welcome!",
    "password!",
    "passport",
    "blink182",
    "ncc1701d",
    "access14",
    "carpassword",
    "autohub1",
    "autohub123",
];

/// A password that meets the policy of the product.
#[derive(Clone)]
pub struct Password(String);

/// Who the password is for: it must not contain their email's local part or their names.
pub struct PasswordOwner<'a> {
    pub email: &'a Email,
    pub first_name: &'a str,
    pub last_name: &'a str,
}

pub const PASSWORD_MIN_LEN: usize = 8;
/// Long enough for any passphrase; short enough that hashing stays cheap.
pub const PASSWORD_MAX_LEN: usize = 128;

impl Password {
    pub fn parse(field: &str, raw: &str, owner: &PasswordOwner<'_>) -> AppResult<Self> {
        let bad = |message: &str| AppError::bad_input(field, message);
        let length = raw.chars().count();
        if length < PASSWORD_MIN_LEN {
            return Err(bad("Password must be at least 8 characters long."));
        }
        if length > PASSWORD_MAX_LEN {
            return Err(bad("Password must be at most 128 characters long."));
        }
        if raw.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad("Password cannot be only digits."));
        }
        let lower = raw.to_lowercase();
        if COMMON_PASSWORDS.contains(&lower.as_str()) {
            return Err(bad("This password is too common. Choose another."));
        }
        let local = owner.email.local_part().to_lowercase();
        if local.chars().count() >= 3 && lower.contains(&local) {
            return Err(bad("Password cannot contain your email address."));
        }
        for name in [owner.first_name, owner.last_name] {
            let name = name.trim().to_lowercase();
            if name.chars().count() >= 3 && lower.contains(&name) {
                return Err(bad("Password cannot contain your name."));
            }
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(email: &Email) -> PasswordOwner<'_> {
        PasswordOwner {
            email,
            first_name: "Maria",
            last_name: "Lopez",
        }
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("email", "  Ann@Example.COM ")
                .expect("ok")
                .as_str(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "a@b@c.com",
            "ann@.com",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn phones_keep_digits_and_plus() {
        assert_eq!(
            Phone::parse("phone", "+1 (555) 010-2030")
                .expect("ok")
                .as_str(),
            "+15550102030"
        );
        assert!(Phone::parse("phone", "12345").is_err());
        assert!(Phone::parse("phone", "+1555abc0102").is_err());
    }

    #[test]
    fn the_password_policy_refuses_each_weak_kind() {
        let email = Email::parse("email", "maria.l@example.com").expect("ok");
        let o = owner(&email);
        assert!(Password::parse("password", "Sh0rt!", &o).is_err());
        assert!(Password::parse("password", "1234567890", &o).is_err());
        assert!(Password::parse("password", "Password123", &o).is_err());
        assert!(Password::parse("password", "xxmaria.lxx99", &o).is_err());
        assert!(Password::parse("password", "lopez-rocks-7", &o).is_err());
        assert!(Password::parse("password", "blue-Tractor-42", &o).is_ok());
    }
}
