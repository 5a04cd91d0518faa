//! The service locations with their opening hours. Everyone reads them; staff change them;
//! deleting one is for admins.

use sea_orm::{ActiveModelTrait, IntoActiveModel, PaginatorTrait, TransactionTrait};

use super::*;
use crate::bookings::entity::{location, opening_hours};
use crate::bookings::types::{self, Hours};
use crate::clock;
use crate::input;

pub struct LocationInput {
    pub name: String,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub timezone: String,
    pub phone: Option<String>,
    pub bays: i32,
}

/// At most this many opening intervals per location (four a day).
pub const MAX_HOURS: u64 = 7 * 4;

/// At most this many bays per location.
const MAX_BAYS: i32 = 500;

impl LocationInput {
    fn apply(&self, row: &mut location::Model) -> AppResult<()> {
        row.name = input::required("name", &self.name, 120)?;
        row.address = input::required("address", &self.address, 300)?;
        if !self.latitude.is_finite() || !(-90.0..=90.0).contains(&self.latitude) {
            return Err(AppError::bad_input(
                "latitude",
                "Latitude runs from -90 to 90.",
            ));
        }
        if !self.longitude.is_finite() || !(-180.0..=180.0).contains(&self.longitude) {
            return Err(AppError::bad_input(
                "longitude",
                "Longitude runs from -180 to 180.",
            ));
        }
        row.latitude = self.latitude;
        row.longitude = self.longitude;
        row.timezone = types::zone("timezone", &self.timezone)?.name().to_string();
        row.phone = input::optional("phone", self.phone.as_deref(), 40)?;
        if !(1..=MAX_BAYS).contains(&self.bays) {
            return Err(AppError::bad_input(
                "bays",
                format!("A location has 1 to {MAX_BAYS} bays."),
            ));
        }
        row.bays = self.bays;
        Ok(())
    }
}

/// Every location, by name.
#[tracing::instrument(skip_all)]
pub async fn locations(state: &AppState) -> AppResult<Vec<location::Model>> {
    Ok(location::Entity::find()
        .order_by_asc(location::Column::Name)
        .order_by_asc(location::Column::Id)
        .all(&state.db)
        .await?)
}

/// The locations with these ids (public).
#[tracing::instrument(skip_all, fields(ids = ids.len()))]
pub async fn locations_by_id(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<Vec<location::Model>> {
    Ok(location::Entity::find()
        .filter(location::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// A location an input names: `BAD_USER_INPUT` on `field` when there is none.
pub(super) async fn location_named_in(
    db: &impl ConnectionTrait,
    field: &str,
    id: Uuid,
) -> AppResult<location::Model> {
    location::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input(field, "No such service location."))
}

#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn create_location(
    state: &AppState,
    viewer: &Viewer,
    input: LocationInput,
) -> AppResult<location::Model> {
    viewer.staff()?;
    let now = clock::now();
    let mut row = location::Model {
        id: Uuid::now_v7(),
        name: String::new(),
        address: String::new(),
        latitude: 0.0,
        longitude: 0.0,
        timezone: String::new(),
        phone: None,
        bays: 1,
        created_at: now,
        updated_at: now,
    };
    input.apply(&mut row)?;
    let active: location::ActiveModel = row.into();
    Ok(active.insert(&state.db).await?)
}

#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn update_location(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    input: LocationInput,
) -> AppResult<location::Model> {
    viewer.staff()?;
    let mut row = location::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("Service location"))?;
    input.apply(&mut row)?;
    row.updated_at = clock::now();
    Ok(row
        .into_active_model()
        .reset_all()
        .update(&state.db)
        .await?)
}

/// An admin deletes a location no booking names.
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn delete_location(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<bool> {
    viewer.admin()?;
    let booked = booking::Entity::find()
        .filter(booking::Column::LocationId.eq(id))
        .count(&state.db)
        .await?;
    if booked > 0 {
        return Err(AppError::conflict(
            "This location has bookings; it cannot be deleted.",
        ));
    }
    if crate::offers::service::offers_at_location(&state.db, id).await? > 0 {
        return Err(AppError::conflict(
            "Offers name this location; remove it from them first.",
        ));
    }
    let result = location::Entity::delete_by_id(id).exec(&state.db).await?;
    if result.rows_affected == 0 {
        return Err(AppError::not_found("Service location"));
    }
    Ok(true)
}

pub struct HoursInput {
    pub weekday: i32,
    pub opens_at: String,
    pub closes_at: String,
}

/// A week's opening hours as the input list `list` gives them (a location's, the shop's): at
/// most four intervals a weekday, each valid, none overlapping another of its weekday.
pub fn parse_hours(list: &str, hours: &[HoursInput]) -> AppResult<Vec<Hours>> {
    if hours.len() as u64 > MAX_HOURS {
        return Err(AppError::bad_input(
            list,
            "At most four intervals per weekday.",
        ));
    }
    let parsed = hours
        .iter()
        .enumerate()
        .map(|(i, h)| Hours::parse(list, i, h.weekday, &h.opens_at, &h.closes_at))
        .collect::<AppResult<Vec<Hours>>>()?;
    Hours::check_disjoint(list, &parsed)?;
    Ok(parsed)
}

/// Replaces a location's opening hours whole.
#[tracing::instrument(skip_all, fields(viewer = %viewer, location_id = %location_id))]
pub async fn set_opening_hours(
    state: &AppState,
    viewer: &Viewer,
    location_id: Uuid,
    hours: Vec<HoursInput>,
) -> AppResult<location::Model> {
    viewer.staff()?;
    let parsed = parse_hours("hours", &hours)?;
    let txn = state.db.begin().await?;
    // First statement a write: SQLite never has to upgrade a read lock mid-transaction.
    opening_hours::Entity::delete_many()
        .filter(opening_hours::Column::LocationId.eq(location_id))
        .exec(&txn)
        .await?;
    let location = location::Entity::find_by_id(location_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("Service location"))?;
    if !parsed.is_empty() {
        opening_hours::Entity::insert_many(parsed.iter().map(|h| opening_hours::ActiveModel {
            id: sea_orm::Set(Uuid::now_v7()),
            location_id: sea_orm::Set(location_id),
            weekday: sea_orm::Set(h.weekday),
            opens_minute: sea_orm::Set(h.opens),
            closes_minute: sea_orm::Set(h.closes),
        }))
        .exec(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(location)
}

/// The opening hours of these locations, by weekday and time.
#[tracing::instrument(skip_all, fields(ids = ids.len()))]
pub async fn hours_of(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<Vec<opening_hours::Model>> {
    Ok(opening_hours::Entity::find()
        .filter(opening_hours::Column::LocationId.is_in(ids.iter().copied()))
        .order_by_asc(opening_hours::Column::Weekday)
        .order_by_asc(opening_hours::Column::OpensMinute)
        .all(db)
        .await?)
}
