//! The units' DataLoaders: units and their photos, only those the loader's viewer sees.

use std::collections::HashMap;
use std::marker::PhantomData;

use async_graphql::dataloader::Loader;

use super::entity::{unit, unit_photo};
use super::service;
use crate::graphql::loaders::{grouped, ids, Direct, Lane, LoadError, RequestLoader, Scope};

crate::id_key!(
    /// A unit's id.
    UnitId
);

/// The lane of units' owners (see `graphql::loaders::Lane`).
pub struct Owners;
impl Lane for Owners {}

/// Units by id, when the viewer sees them (a room's subject; a service record's unit in the
/// record's lane).
pub struct Units<L: Lane = Direct>(Scope, PhantomData<fn() -> L>);

impl<L: Lane> RequestLoader for Units<L> {
    fn new(scope: &Scope) -> Self {
        Self(scope.clone(), PhantomData)
    }
}

crate::scoped_loaders!(
    /// A unit's photos in order (which also give its primary photo); none for a unit the viewer
    /// does not see.
    Photos,
);

impl<L: Lane> Loader<UnitId> for Units<L> {
    type Value = unit::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[UnitId]) -> Result<HashMap<UnitId, unit::Model>, LoadError> {
        let Self(on, _) = self;
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
