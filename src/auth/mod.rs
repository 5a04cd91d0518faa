//! Authentication mechanics (not the user domain): tokens, password hashing, one-time codes,
//! throttling, and the `Viewer` every operation is evaluated for.

pub mod jwt;
pub mod limiter;
pub mod otp;
pub mod password;
pub mod providers;
pub mod sessions;
pub mod viewer;

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub use viewer::Viewer;

/// A URL-safe random token of `bytes` random bytes.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 of the parts, hex encoded: how opaque tokens and codes are stored.
pub fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        // Length-prefix each part so that ("ab","c") and ("a","bc") differ.
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}
