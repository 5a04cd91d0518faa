//! Argon2id password hashing on the blocking pool, with a bound on how many hashes run at once,
//! so that a storm of logins cannot starve the rest of the API of threads or CPU.

use std::sync::Arc;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use tokio::sync::{OnceCell, Semaphore};

use crate::error::AppError;

#[derive(Clone)]
pub struct PasswordHashing {
    permits: Arc<Semaphore>,
    /// A hash of a random password with the same parameters, made on first use.
    dummy: Arc<OnceCell<String>>,
}

impl PasswordHashing {
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy: Arc::default(),
        }
    }

    /// Hashes a password with Argon2id (19 MiB, t = 2, p = 1) and a random salt.
    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        let password = password.to_owned();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(AppError::internal)
        })
        .await
    }

    /// True when `password` matches the stored hash.
    pub async fn verify(&self, password: &str, stored_hash: &str) -> Result<bool, AppError> {
        let password = password.to_owned();
        let stored_hash = stored_hash.to_owned();
        self.run(move || {
            let parsed = PasswordHash::new(&stored_hash).map_err(AppError::internal)?;
            Ok(Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await
    }

    /// Spends the same time as a verification, for accounts that do not exist, so that timing
    /// does not tell which addresses have accounts.
    pub async fn verify_dummy(&self, password: &str) -> Result<(), AppError> {
        let dummy = self
            .dummy
            .get_or_try_init(|| async { self.hash(&super::random_token(16)).await })
            .await?;
        self.verify(password, dummy).await.map(|_| ())
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(AppError::internal)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hashing = PasswordHashing::new(2);
        let hash = hashing.hash("correct horse").await.expect("hashed");
        assert!(hash.starts_with("$argon2id$"));
        assert!(hashing
            .verify("correct horse", &hash)
            .await
            .expect("verified"));
        assert!(!hashing
            .verify("wrong horse", &hash)
            .await
            .expect("verified"));
    }
}
