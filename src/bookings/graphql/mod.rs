//! The GraphQL face of bookings: queries and mutations of test drives, service appointments,
//! the catalog and the locations. Resolvers convert and call the service.

use async_graphql::{Context, Object, Result, ID};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

mod inputs;
mod objects;

pub use inputs::*;
pub use objects::*;

use super::entity::BookingStatus;
use super::service::{self, BookingFilter, LocationInput, NewAppointment, OfferingInput};
use crate::graphql::pagination::{self, Page};
use crate::graphql::{parse_id, parse_optional_id, state, viewer};
use crate::paging::PageArgs;

fn slots(found: Vec<service::Slot>) -> Vec<TimeSlot> {
    found
        .into_iter()
        .map(|(starts_at, ends_at)| TimeSlot { starts_at, ends_at })
        .collect()
}

#[derive(Default)]
pub struct BookingsQuery;

#[Object]
impl BookingsQuery {
    /// One booking; null when missing or not the viewer's (staff see every booking).
    async fn booking(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Booking>> {
        let id = parse_id("id", &id)?;
        Ok(service::booking(state(ctx)?, viewer(ctx)?, id)
            .await?
            .map(Booking))
    }

    /// The viewer's bookings, soonest first.
    async fn my_bookings(
        &self,
        ctx: &Context<'_>,
        statuses: Option<Vec<BookingStatus>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Booking>> {
        let args = PageArgs::forward(first, after);
        let (slice, total) = service::my_bookings(
            state(ctx)?,
            viewer(ctx)?,
            statuses,
            &args,
            pagination::wants_total(ctx),
        )
        .await?;
        Ok(pagination::connection(slice, total, Booking))
    }

    /// Every booking (staff), filtered, soonest first.
    async fn bookings(
        &self,
        ctx: &Context<'_>,
        filter: Option<BookingFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Booking>> {
        let filter = BookingFilter::try_from(filter.unwrap_or_default())?;
        let args = PageArgs::forward(first, after);
        let (slice, total) = service::list_bookings(
            state(ctx)?,
            viewer(ctx)?,
            &filter,
            &args,
            pagination::wants_total(ctx),
        )
        .await?;
        Ok(pagination::connection(slice, total, Booking))
    }

    /// The free one-hour test-drive slots of a unit on a day (showroom time): each can be
    /// booked by the viewer at this moment.
    async fn available_test_drive_slots(
        &self,
        ctx: &Context<'_>,
        unit_id: ID,
        date: NaiveDate,
    ) -> Result<Vec<TimeSlot>> {
        let unit_id = parse_id("unitId", &unit_id)?;
        Ok(slots(
            service::test_drive_slots(state(ctx)?, viewer(ctx)?, unit_id, date).await?,
        ))
    }

    /// The free appointment slots of a location on a day (its local time) for these services.
    async fn appointment_availability(
        &self,
        ctx: &Context<'_>,
        location_id: ID,
        date: NaiveDate,
        service_ids: Vec<ID>,
    ) -> Result<Vec<TimeSlot>> {
        let location_id = parse_id("locationId", &location_id)?;
        let service_ids = parse_ids("serviceIds", &service_ids)?;
        Ok(slots(
            service::appointment_slots(state(ctx)?, location_id, date, &service_ids).await?,
        ))
    }

    /// Every service location, by name.
    async fn service_locations(&self, ctx: &Context<'_>) -> Result<Vec<ServiceLocation>> {
        Ok(service::locations(state(ctx)?)
            .await?
            .into_iter()
            .map(ServiceLocation)
            .collect())
    }

    /// The services that can be booked (of one category when given), by name; staff also see
    /// withdrawn ones.
    async fn service_catalog(
        &self,
        ctx: &Context<'_>,
        category_id: Option<ID>,
    ) -> Result<Vec<ServiceOffering>> {
        let category_id = parse_optional_id("categoryId", category_id.as_ref())?;
        Ok(service::catalog(state(ctx)?, viewer(ctx)?, category_id)
            .await?
            .into_iter()
            .map(ServiceOffering)
            .collect())
    }

    /// Bookings starting in a period (showroom days), counted (staff).
    async fn booking_stats(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<BookingStats> {
        Ok(service::booking_stats(state(ctx)?, viewer(ctx)?, from, to)
            .await?
            .into())
    }
}

#[derive(Default)]
pub struct BookingsMutation;

/// Moves a booking along the transition table.
async fn moved(
    ctx: &Context<'_>,
    id: ID,
    to: BookingStatus,
    reason: Option<String>,
) -> Result<Booking> {
    let id = parse_id("id", &id)?;
    Ok(Booking(
        service::move_booking(state(ctx)?, viewer(ctx)?, id, to, reason.as_deref()).await?,
    ))
}

#[Object]
impl BookingsMutation {
    /// Books a one-hour test drive of a listed unit (PENDING until staff confirm).
    async fn book_test_drive(
        &self,
        ctx: &Context<'_>,
        unit_id: ID,
        starts_at: DateTime<Utc>,
        notes: Option<String>,
    ) -> Result<Booking> {
        let unit_id = parse_id("unitId", &unit_id)?;
        Ok(Booking(
            service::book_test_drive(
                state(ctx)?,
                viewer(ctx)?,
                unit_id,
                starts_at,
                notes.as_deref(),
            )
            .await?,
        ))
    }

    /// Books services for the customer's own unit at a location (PENDING until staff confirm).
    async fn book_service_appointment(
        &self,
        ctx: &Context<'_>,
        input: BookServiceAppointmentInput,
    ) -> Result<Booking> {
        let new = NewAppointment::try_from(input)?;
        Ok(Booking(
            service::book_service_appointment(state(ctx)?, viewer(ctx)?, new).await?,
        ))
    }

    /// Moves a PENDING or CONFIRMED booking to a new time; it is PENDING again.
    async fn reschedule_booking(
        &self,
        ctx: &Context<'_>,
        id: ID,
        starts_at: DateTime<Utc>,
    ) -> Result<Booking> {
        let id = parse_id("id", &id)?;
        Ok(Booking(
            service::reschedule(state(ctx)?, viewer(ctx)?, id, starts_at).await?,
        ))
    }

    /// Cancels a PENDING or CONFIRMED booking (the customer's own, or staff).
    async fn cancel_booking(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: Option<String>,
    ) -> Result<Booking> {
        moved(ctx, id, BookingStatus::Cancelled, reason).await
    }

    /// Accepts a PENDING booking (staff).
    async fn confirm_booking(&self, ctx: &Context<'_>, id: ID) -> Result<Booking> {
        moved(ctx, id, BookingStatus::Confirmed, None).await
    }

    /// Refuses a PENDING booking (staff).
    async fn decline_booking(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: Option<String>,
    ) -> Result<Booking> {
        moved(ctx, id, BookingStatus::Declined, reason).await
    }

    /// A confirmed service appointment's car is in the workshop (staff; also before its start).
    async fn start_booking(&self, ctx: &Context<'_>, id: ID) -> Result<Booking> {
        moved(ctx, id, BookingStatus::InProgress, None).await
    }

    /// Completes a started service appointment, or a confirmed test drive after its start (staff).
    async fn complete_booking(&self, ctx: &Context<'_>, id: ID) -> Result<Booking> {
        moved(ctx, id, BookingStatus::Completed, None).await
    }

    /// The customer did not come to a confirmed test drive (staff, after its start).
    async fn mark_no_show(&self, ctx: &Context<'_>, id: ID) -> Result<Booking> {
        moved(ctx, id, BookingStatus::NoShow, None).await
    }

    /// Adds a service location (staff).
    async fn create_service_location(
        &self,
        ctx: &Context<'_>,
        input: ServiceLocationInput,
    ) -> Result<ServiceLocation> {
        Ok(ServiceLocation(
            service::create_location(state(ctx)?, viewer(ctx)?, LocationInput::from(input)).await?,
        ))
    }

    /// Changes a service location (staff).
    async fn update_service_location(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ServiceLocationInput,
    ) -> Result<ServiceLocation> {
        let id = parse_id("id", &id)?;
        Ok(ServiceLocation(
            service::update_location(state(ctx)?, viewer(ctx)?, id, LocationInput::from(input))
                .await?,
        ))
    }

    /// Deletes a service location no booking names (admin).
    async fn delete_service_location(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let id = parse_id("id", &id)?;
        Ok(service::delete_location(state(ctx)?, viewer(ctx)?, id).await?)
    }

    /// Replaces a location's opening hours whole (staff).
    async fn set_opening_hours(
        &self,
        ctx: &Context<'_>,
        location_id: ID,
        hours: Vec<OpeningHoursInput>,
    ) -> Result<ServiceLocation> {
        let location_id = parse_id("locationId", &location_id)?;
        let hours = hours.into_iter().map(Into::into).collect();
        Ok(ServiceLocation(
            service::set_opening_hours(state(ctx)?, viewer(ctx)?, location_id, hours).await?,
        ))
    }

    /// Adds a category to the catalog (staff).
    async fn create_service_category(
        &self,
        ctx: &Context<'_>,
        name: String,
        description: Option<String>,
    ) -> Result<ServiceCategory> {
        Ok(ServiceCategory(
            service::create_category(state(ctx)?, viewer(ctx)?, &name, description.as_deref())
                .await?,
        ))
    }

    /// Adds a service to the catalog (staff).
    async fn create_service_offering(
        &self,
        ctx: &Context<'_>,
        input: ServiceOfferingInput,
    ) -> Result<ServiceOffering> {
        let input = OfferingInput::try_from(input)?;
        Ok(ServiceOffering(
            service::create_offering(state(ctx)?, viewer(ctx)?, input).await?,
        ))
    }

    /// Changes a service of the catalog (staff).
    async fn update_service_offering(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ServiceOfferingInput,
    ) -> Result<ServiceOffering> {
        let id = parse_id("id", &id)?;
        let input = OfferingInput::try_from(input)?;
        Ok(ServiceOffering(
            service::update_offering(state(ctx)?, viewer(ctx)?, id, input).await?,
        ))
    }

    /// Sets an offering's price for a make (model absent: every model) or one model (staff).
    async fn set_model_price(
        &self,
        ctx: &Context<'_>,
        offering_id: ID,
        make: String,
        model: Option<String>,
        price: Decimal,
    ) -> Result<ServiceOffering> {
        let offering_id = parse_id("offeringId", &offering_id)?;
        Ok(ServiceOffering(
            service::set_model_price(
                state(ctx)?,
                viewer(ctx)?,
                offering_id,
                &make,
                model.as_deref(),
                price,
            )
            .await?,
        ))
    }

    /// Removes an offering's price for a make or model (staff).
    async fn remove_model_price(
        &self,
        ctx: &Context<'_>,
        offering_id: ID,
        make: String,
        model: Option<String>,
    ) -> Result<ServiceOffering> {
        let offering_id = parse_id("offeringId", &offering_id)?;
        Ok(ServiceOffering(
            service::remove_model_price(
                state(ctx)?,
                viewer(ctx)?,
                offering_id,
                &make,
                model.as_deref(),
            )
            .await?,
        ))
    }
}
