//! One-time codes: six random digits, stored only as a keyed hash.

use rand::Rng;

use super::sha256_hex;

/// What a code is for; part of its stored hash, so a code for one purpose never works for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    PhoneLogin,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "VERIFY_EMAIL",
            Self::ResetPassword => "RESET_PASSWORD",
            Self::PhoneLogin => "PHONE_LOGIN",
        }
    }
}

/// A fresh six-digit code, leading zeros included.
pub fn generate() -> String {
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32))
}

/// The stored form of a code: keyed with the server secret, the purpose and the address, so a
/// leaked table does not give codes away by a lookup of the million possible hashes.
pub fn hash(secret: &str, purpose: Purpose, target: &str, code: &str) -> String {
    sha256_hex(&[
        secret.as_bytes(),
        purpose.as_str().as_bytes(),
        target.as_bytes(),
        code.as_bytes(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..100 {
            let c = generate();
            assert_eq!(c.len(), 6);
            assert!(c.chars().all(|ch| ch.is_ascii_digit()));
        }
    }

    #[test]
    fn a_hash_depends_on_purpose_and_target() {
        let a = hash("k", Purpose::VerifyEmail, "a@b.c", "123456");
        assert_ne!(a, hash("k", Purpose::ResetPassword, "a@b.c", "123456"));
        assert_ne!(a, hash("k", Purpose::VerifyEmail, "x@b.c", "123456"));
        assert_eq!(a, hash("k", Purpose::VerifyEmail, "a@b.c", "123456"));
    }
}
