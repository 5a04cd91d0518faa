//! Access tokens: HS256 JWTs carrying `sub`, `role`, `sid` (the session), `iat` and `exp`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::cache::Bounded;
use crate::error::AppError;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub role: String,
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
}

/// Signs and checks access tokens with one secret.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Tokens whose signature checked out, with their claims: a client sends the same token
    /// with every request until it expires, and checking an HMAC costs more than the rest of
    /// a small request's own work. Only expiry is checked again.
    verified: Arc<Bounded<String, Claims>>,
}

/// At most this many verified tokens are remembered.
const VERIFIED_TOKENS: usize = 4096;

impl JwtKeys {
    pub fn new(secret: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is exact: a token is refused the second it expires.
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            verified: Arc::new(Bounded::new(VERIFIED_TOKENS)),
        }
    }

    pub fn issue(
        &self,
        user_id: Uuid,
        role: &str,
        session_id: Uuid,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<String, AppError> {
        let claims = Claims {
            sub: user_id,
            role: role.to_string(),
            sid: session_id,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(AppError::internal)
    }

    /// Checks signature, algorithm and expiry. Whether the session still lives is the caller's check.
    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        let refused =
            || AppError::Unauthenticated("Your sign-in is invalid or has expired.".into());
        // Expired the second after `exp`, as `decode` with no leeway has it.
        let live = |claims: &Claims| claims.exp >= jsonwebtoken::get_current_timestamp() as i64;
        if let Some(claims) = self.verified.lock().get(token) {
            return if live(claims) {
                Ok(claims.clone())
            } else {
                Err(refused())
            };
        }
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| refused())?
            .claims;
        self.verified
            .lock()
            .insert(token.to_string(), claims.clone());
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    /// A customer's token, issued at `at` and expiring at `until`.
    fn issued(keys: &JwtKeys, at: DateTime<Utc>, until: DateTime<Utc>) -> String {
        keys.issue(Uuid::now_v7(), "CUSTOMER", Uuid::now_v7(), at, until)
            .expect("issued")
    }

    #[test]
    fn a_token_round_trips_and_a_tampered_one_does_not() {
        let keys = JwtKeys::new("0123456789abcdef0123456789abcdef");
        let now = Utc::now();
        let token = issued(&keys, now, now + chrono::Duration::minutes(5));
        assert!(keys.verify(&token).is_ok());
        let other = JwtKeys::new("another-secret-another-secret-123");
        assert!(other.verify(&token).is_err());
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        let keys = JwtKeys::new("0123456789abcdef0123456789abcdef");
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let exp = Utc::now().timestamp() + 600;
        let body = b64.encode(format!(
            r#"{{"sub":"{}","role":"ADMIN","sid":"{}","iat":0,"exp":{exp}}}"#,
            Uuid::now_v7(),
            Uuid::now_v7()
        ));
        assert!(keys.verify(&format!("{header}.{body}.")).is_err());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let keys = JwtKeys::new("0123456789abcdef0123456789abcdef");
        let now = Utc::now();
        let token = issued(
            &keys,
            now - chrono::Duration::minutes(10),
            now - chrono::Duration::seconds(1),
        );
        assert!(keys.verify(&token).is_err());
    }

    #[test]
    fn a_remembered_token_is_refused_once_it_expires() {
        let keys = JwtKeys::new("0123456789abcdef0123456789abcdef");
        let now = Utc::now();
        let token = issued(&keys, now, now + chrono::Duration::minutes(5));
        assert!(keys.verify(&token).is_ok());
        assert!(keys.verify(&token).is_ok());
        if let Some(claims) = keys.verified.lock().get_mut(&token) {
            claims.exp = now.timestamp() - 1;
        }
        assert!(keys.verify(&token).is_err());
        // Another key's cache never saw it: its signature is checked, and fails.
        let other = JwtKeys::new("another-secret-another-secret-123");
        assert!(other.verify(&token).is_err());
    }
}
