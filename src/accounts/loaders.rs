//! The accounts' DataLoaders: people by id, as the viewer may see them, and whether they are
//! online.

use std::collections::HashMap;
use std::marker::PhantomData;

use async_graphql::dataloader::Loader;

use super::service::{self, Person};
use crate::app::AppState;
use crate::auth::Viewer;
use crate::graphql::loaders::{ids, LoadError, RequestLoader, Scope};
pub use crate::graphql::loaders::{Direct, Lane};

crate::id_key!(
    /// A user's id.
    UserId
);

/// Users by id, as `Person`s: the privacy rule is applied here, for the loader's viewer.
pub struct Users<L: Lane = Direct> {
    state: AppState,
    viewer: Viewer,
    lane: PhantomData<fn() -> L>,
}

impl<L: Lane> RequestLoader for Users<L> {
    fn new(scope: &Scope) -> Self {
        Self {
            state: scope.state.clone(),
            viewer: scope.viewer.clone(),
            lane: PhantomData,
        }
    }
}

impl<L: Lane> Loader<UserId> for Users<L> {
    type Value = Person;
    type Error = LoadError;

    async fn load(&self, keys: &[UserId]) -> Result<HashMap<UserId, Person>, LoadError> {
        let rows = service::users_by_ids(&self.state.db, &ids(keys, |k| k.0)).await?;
        Ok(rows
            .into_iter()
            .map(|u| (UserId(u.id), Person::seen_by(&self.viewer, u)))
            .collect())
    }
}

/// Whether users are online: one question to the presence store per batch, however many users.
pub struct Online {
    state: AppState,
}

impl RequestLoader for Online {
    fn new(scope: &Scope) -> Self {
        Self {
            state: scope.state.clone(),
        }
    }
}

impl Loader<UserId> for Online {
    type Value = bool;
    type Error = LoadError;

    async fn load(&self, keys: &[UserId]) -> Result<HashMap<UserId, bool>, LoadError> {
        let online = self.state.presence.online_among(&ids(keys, |k| k.0)).await;
        Ok(keys.iter().map(|k| (*k, online.contains(&k.0))).collect())
    }
}
