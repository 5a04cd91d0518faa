//! The DataLoaders of offers: offers by id (a booking's offer) and whom, what and where each is
//! for. Offers are public once one sees them, so these take no viewer rule.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use super::entity::offer;
use super::service::{self, Scope};
use crate::graphql::loaders::{ids, LoadError};

crate::id_key!(
    /// An offer's id.
    OfferId
);

crate::scoped_loaders!(
    /// Offers by id.
    Offers,
    /// An offer's tiers, makes and locations.
    Scopes,
);

impl Loader<OfferId> for Offers {
    type Value = offer::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[OfferId]) -> Result<HashMap<OfferId, offer::Model>, LoadError> {
        let rows = service::offers_by_id(&self.0.state.db, &ids(keys, |k| k.0)).await?;
        Ok(rows.into_iter().map(|o| (OfferId(o.id), o)).collect())
    }
}

impl Loader<OfferId> for Scopes {
    type Value = Scope;
    type Error = LoadError;

    async fn load(&self, keys: &[OfferId]) -> Result<HashMap<OfferId, Scope>, LoadError> {
        let scopes = service::scopes_of(&self.0.state.db, &ids(keys, |k| k.0)).await?;
        Ok(scopes
            .into_iter()
            .map(|(id, scope)| (OfferId(id), scope))
            .collect())
    }
}
