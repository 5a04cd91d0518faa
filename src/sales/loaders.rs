//! The sales' DataLoaders: sales, and the units they sold, only those the loader's viewer sees
//! (staff all, a customer their purchases and their units' sales).

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use super::entity::sale;
use super::service;
use crate::graphql::loaders::{ids, Lane, LoadError};
use crate::units::entity::unit;
use crate::units::loaders::UnitId;

crate::id_key!(
    /// A sale's id.
    SaleId
);

/// The lane of sales' salespeople (see `graphql::loaders::Lane`).
pub struct Salespeople;
impl Lane for Salespeople {}

crate::scoped_loaders!(
    /// Sales by id (a room's subject).
    Sales,
    /// A unit's sale (`Unit.sale`).
    SaleOfUnit,
    /// The unit a sale sold (`Sale.unit`): seen by whoever sees the sale. Keyed by the sale and
    /// its unit; a key whose sale the viewer does not see finds nothing.
    SoldUnits,
);

impl Loader<SaleId> for Sales {
    type Value = sale::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[SaleId]) -> Result<HashMap<SaleId, sale::Model>, LoadError> {
        let Self(on) = self;
        let rows =
            service::visible_sales_by_id(&on.state.db, &on.viewer, &ids(keys, |k| k.0)).await?;
        Ok(rows.into_iter().map(|s| (SaleId(s.id), s)).collect())
    }
}

impl Loader<UnitId> for SaleOfUnit {
    type Value = sale::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[UnitId]) -> Result<HashMap<UnitId, sale::Model>, LoadError> {
        let Self(on) = self;
        let rows =
            service::visible_sales_of_units(&on.state.db, &on.viewer, &ids(keys, |k| k.0)).await?;
        Ok(rows.into_iter().map(|s| (UnitId(s.unit_id), s)).collect())
    }
}

impl Loader<(SaleId, UnitId)> for SoldUnits {
    type Value = unit::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[(SaleId, UnitId)],
    ) -> Result<HashMap<(SaleId, UnitId), unit::Model>, LoadError> {
        let Self(on) = self;
        let units =
            service::units_of_visible_sales(&on.state.db, &on.viewer, &ids(keys, |k| k.0 .0))
                .await?;
        let units: HashMap<_, _> = units.into_iter().map(|u| (u.id, u)).collect();
        Ok(keys
            .iter()
            .filter_map(|key| units.get(&key.1 .0).map(|u| (*key, u.clone())))
            .collect())
    }
}
