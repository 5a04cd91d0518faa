//! The workshop's DataLoaders: service records, only those the loader's viewer sees (staff all,
//! a customer those of their units).

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use super::entity::service_record;
use super::service;
use crate::graphql::loaders::{grouped, ids, Lane, LoadError};
use crate::units::loaders::UnitId;

crate::id_key!(
    /// A service record's id.
    RecordId
);

/// The lane of records' units (see `graphql::loaders::Lane`).
pub struct RecordUnits;
impl Lane for RecordUnits {}

/// The lane of records' technicians (see `graphql::loaders::Lane`).
pub struct Technicians;
impl Lane for Technicians {}

crate::scoped_loaders!(
    /// Service records by id (a room's subject).
    Records,
    /// A unit's service history, newest first: empty unless the viewer is its owner or staff.
    History,
);

impl Loader<RecordId> for Records {
    type Value = service_record::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[RecordId],
    ) -> Result<HashMap<RecordId, service_record::Model>, LoadError> {
        let rows =
            service::visible_records_by_id(&self.0.state.db, &self.0.viewer, &ids(keys, |k| k.0))
                .await?;
        Ok(rows.into_iter().map(|r| (RecordId(r.id), r)).collect())
    }
}

/// A unit and its owner, as the unit's row says: what the history loader is keyed by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HistoryOf {
    pub unit: UnitId,
    pub owner: Option<uuid::Uuid>,
}

impl Loader<HistoryOf> for History {
    type Value = Vec<service_record::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[HistoryOf],
    ) -> Result<HashMap<HistoryOf, Vec<service_record::Model>>, LoadError> {
        let units: Vec<_> = keys.iter().map(|k| (k.unit.0, k.owner)).collect();
        let rows =
            service::visible_records_of_units(&self.0.state.db, &self.0.viewer, &units).await?;
        let mut by_unit = grouped(rows, |r| r.unit_id);
        Ok(keys
            .iter()
            .filter_map(|k| by_unit.remove(&k.unit.0).map(|rows| (*k, rows)))
            .collect())
    }
}
