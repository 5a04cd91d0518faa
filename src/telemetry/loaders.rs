//! The DataLoaders of telemetry: a unit's dongle and a unit's summary over a range, for the
//! unit's owner and staff only (others get nothing).

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use super::entity::dongle;
use super::service::{self, may_read, Summary};
use crate::graphql::loaders::LoadError;

/// A unit, with its owner (who may read its telemetry besides staff).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DongleOf {
    pub unit: Uuid,
    pub owner: Option<Uuid>,
}

/// A unit with its owner, and a range `[from, to)` in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SummaryOf {
    pub unit: Uuid,
    pub owner: Option<Uuid>,
    pub range: (i64, i64),
}

crate::scoped_loaders!(
    /// A unit's dongle.
    Dongles,
    /// A unit's telemetry summary over a range.
    Summaries,
);

impl Loader<DongleOf> for Dongles {
    type Value = dongle::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[DongleOf]) -> Result<HashMap<DongleOf, dongle::Model>, LoadError> {
        let readable: Vec<&DongleOf> = keys
            .iter()
            .filter(|k| may_read(&self.0.viewer, k.owner))
            .collect();
        let units: Vec<Uuid> = readable.iter().map(|k| k.unit).collect();
        let found = service::dongles_of(&self.0.state.db, &units).await?;
        Ok(readable
            .into_iter()
            .filter_map(|k| {
                let d = found.iter().find(|d| d.unit_id == k.unit)?;
                Some((*k, d.clone()))
            })
            .collect())
    }
}

impl Loader<SummaryOf> for Summaries {
    type Value = Summary;
    type Error = LoadError;

    async fn load(&self, keys: &[SummaryOf]) -> Result<HashMap<SummaryOf, Summary>, LoadError> {
        let mut by_range: HashMap<(i64, i64), Vec<SummaryOf>> = HashMap::new();
        for key in keys.iter().filter(|k| may_read(&self.0.viewer, k.owner)) {
            by_range.entry(key.range).or_default().push(*key);
        }
        let mut out = HashMap::new();
        // One statement per distinct range (a page asks one).
        for (range, keys) in by_range {
            let units: Vec<Uuid> = keys.iter().map(|k| k.unit).collect();
            let found = service::summaries(&self.0.state.db, &units, range).await?;
            for key in keys {
                let summary = found.get(&key.unit).cloned().unwrap_or(Summary {
                    unit_id: key.unit,
                    ..Summary::default()
                });
                out.insert(key, summary);
            }
        }
        Ok(out)
    }
}
