//! The units' DataLoaders: units and their photos, only those the loader's viewer sees.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use super::entity::{unit, unit_photo};
use super::service;
use crate::accounts::loaders::Lane;
use crate::graphql::loaders::{grouped, ids, LoadError};

crate::id_key!(
    /// A unit's id.
    UnitId
);

/// The lane of units' owners (see `accounts::loaders::Lane`).
pub struct Owners;
impl Lane for Owners {}

crate::scoped_loaders!(
    /// Units by id, when the viewer sees them (a service record's unit, a room's subject…).
    Units,
    /// A unit's photos in order (which also give its primary photo); none for a unit the viewer
    /// does not see.
    Photos,
);

impl Loader<UnitId> for Units {
    type Value = unit::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[UnitId]) -> Result<HashMap<UnitId, unit::Model>, LoadError> {
        let Self(on) = self;
        let rows =
            service::visible_units_by_id(&on.state.db, &on.viewer, &ids(keys, |k| k.0)).await?;
        Ok(rows.into_iter().map(|u| (UnitId(u.id), u)).collect())
    }
}

impl Loader<UnitId> for Photos {
    type Value = Vec<unit_photo::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[UnitId],
    ) -> Result<HashMap<UnitId, Vec<unit_photo::Model>>, LoadError> {
        let Self(on) = self;
        let rows =
            service::visible_photos_of(&on.state.db, &on.viewer, &ids(keys, |k| k.0)).await?;
        Ok(grouped(rows, |p| UnitId(p.unit_id)))
    }
}
