//! DataLoaders, created per request (so nothing is cached across viewers or requests): every
//! field that loads a related row goes through one of these, one query per batch.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::accounts::entity::user;
use crate::error::AppError;

pub struct Loaders {
    pub users: DataLoader<UserLoader>,
}

impl Loaders {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            users: DataLoader::new(UserLoader { db }, tokio::spawn),
        }
    }
}

pub struct UserLoader {
    db: DatabaseConnection,
}

/// `Loader::Error` must be `Clone`; `AppError` is, and keeps its code.
#[derive(Clone)]
pub struct LoadError(pub AppError);

impl From<LoadError> for async_graphql::Error {
    fn from(err: LoadError) -> Self {
        err.0.into()
    }
}

impl Loader<Uuid> for UserLoader {
    type Value = user::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = user::Entity::find()
            .filter(user::Column::Id.is_in(keys.iter().copied()))
            .all(&self.db)
            .await
            .map_err(|e| LoadError(e.into()))?;
        Ok(rows.into_iter().map(|u| (u.id, u)).collect())
    }
}
