//! The DataLoaders of bookings: bookings (only the viewer's own, or all for staff), what hangs
//! off them (their units, services and history, of visible bookings only), and the public
//! catalog and locations.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use super::entity::{
    booking, booking_service, category, location, model_price, offering, opening_hours,
    status_change,
};
use super::service;
use crate::graphql::loaders::{grouped, ids, Lane, LoadError};
use crate::units::entity::unit;
use crate::units::loaders::UnitId;

crate::id_key!(
    /// A booking's id.
    BookingId
);
crate::id_key!(
    /// A service location's id.
    LocationId
);
crate::id_key!(
    /// A service offering's id.
    OfferingId
);
crate::id_key!(
    /// A service category's id.
    CategoryId
);

/// The lane of bookings' customers (see `graphql::loaders::Lane`).
pub struct Customers;
impl Lane for Customers {}

/// The lane of the staff who handled bookings (see `graphql::loaders::Lane`).
pub struct Handlers;
impl Lane for Handlers {}

crate::scoped_loaders!(
    /// Bookings by id (a room's subject).
    Bookings,
    /// The unit of a booking the viewer sees, also once it is sold or unlisted.
    BookingUnits,
    /// A booking's services with the prices they were booked at.
    Services,
    /// A booking's status changes, oldest first.
    History,
    /// Service locations by id.
    Locations,
    /// A location's opening hours.
    Hours,
    /// An offering's prices per make and model.
    ModelPrices,
    /// Service categories by id.
    Categories,
    /// A category's offerings the viewer may pick from.
    CategoryOfferings,
);

impl Loader<BookingId> for Bookings {
    type Value = booking::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[BookingId],
    ) -> Result<HashMap<BookingId, booking::Model>, LoadError> {
        let rows =
            service::visible_bookings_by_id(&self.0.state.db, &self.0.viewer, &ids(keys, |k| k.0))
                .await?;
        Ok(rows.into_iter().map(|b| (BookingId(b.id), b)).collect())
    }
}

impl Loader<(BookingId, UnitId)> for BookingUnits {
    type Value = unit::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[(BookingId, UnitId)],
    ) -> Result<HashMap<(BookingId, UnitId), unit::Model>, LoadError> {
        let units = service::units_of_visible_bookings(
            &self.0.state.db,
            &self.0.viewer,
            &ids(keys, |k| k.0 .0),
        )
        .await?;
        let units: HashMap<_, _> = units.into_iter().map(|u| (u.id, u)).collect();
        Ok(keys
            .iter()
            .filter_map(|key| units.get(&key.1 .0).map(|u| (*key, u.clone())))
            .collect())
    }
}

impl Loader<BookingId> for Services {
    type Value = Vec<(booking_service::Model, offering::Model)>;
    type Error = LoadError;

    async fn load(&self, keys: &[BookingId]) -> Result<HashMap<BookingId, Self::Value>, LoadError> {
        let rows =
            service::services_of(&self.0.state.db, &self.0.viewer, &ids(keys, |k| k.0)).await?;
        Ok(grouped(rows, |(line, _)| BookingId(line.booking_id)))
    }
}

impl Loader<BookingId> for History {
    type Value = Vec<status_change::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[BookingId]) -> Result<HashMap<BookingId, Self::Value>, LoadError> {
        let rows =
            service::history_of(&self.0.state.db, &self.0.viewer, &ids(keys, |k| k.0)).await?;
        Ok(grouped(rows, |c| BookingId(c.booking_id)))
    }
}

impl Loader<LocationId> for Locations {
    type Value = location::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[LocationId],
    ) -> Result<HashMap<LocationId, location::Model>, LoadError> {
        let rows = service::locations_by_id(&self.0.state.db, &ids(keys, |k| k.0)).await?;
        Ok(rows.into_iter().map(|l| (LocationId(l.id), l)).collect())
    }
}

impl Loader<LocationId> for Hours {
    type Value = Vec<opening_hours::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[LocationId],
    ) -> Result<HashMap<LocationId, Self::Value>, LoadError> {
        let rows = service::hours_of(&self.0.state.db, &ids(keys, |k| k.0)).await?;
        Ok(grouped(rows, |h| LocationId(h.location_id)))
    }
}

impl Loader<OfferingId> for ModelPrices {
    type Value = Vec<model_price::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[OfferingId],
    ) -> Result<HashMap<OfferingId, Self::Value>, LoadError> {
        let rows = service::model_prices_of(&self.0.state.db, &ids(keys, |k| k.0)).await?;
        Ok(grouped(rows, |p| OfferingId(p.offering_id)))
    }
}

impl Loader<CategoryId> for Categories {
    type Value = category::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[CategoryId],
    ) -> Result<HashMap<CategoryId, category::Model>, LoadError> {
        let rows = service::categories_by_id(&self.0.state.db, &ids(keys, |k| k.0)).await?;
        Ok(rows.into_iter().map(|c| (CategoryId(c.id), c)).collect())
    }
}

impl Loader<CategoryId> for CategoryOfferings {
    type Value = Vec<offering::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[CategoryId],
    ) -> Result<HashMap<CategoryId, Self::Value>, LoadError> {
        let rows =
            service::offerings_of_categories(&self.0.state.db, &self.0.viewer, &ids(keys, |k| k.0))
                .await?;
        // Every row has one of the asked categories: the statement selected by it.
        Ok(grouped(rows, |o| {
            CategoryId(o.category_id.unwrap_or_default())
        }))
    }
}
