//! The demo's bookings: two service locations with their hours, a catalog with prices per make
//! and model, and test drives and service appointments in every status.

use chrono::{Days, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{viewer_of, why};
use crate::accounts::entity::user;
use crate::app::AppState;
use crate::bookings::entity::{booking, BookingStatus};
use crate::bookings::service::{
    self as bookings, HoursInput, LocationInput, NewAppointment, OfferingInput,
};

/// A price of a service for a make (every model) or a model.
type MakePrice = (&'static str, Option<&'static str>, i64);

/// A service of the catalog: category, code, name, minutes, base price, prices per make or model.
type Service = (
    &'static str,
    &'static str,
    &'static str,
    i32,
    i64,
    &'static [MakePrice],
);

const CATALOG: &[Service] = &[
    (
        "Maintenance",
        "OIL-CHANGE",
        "Oil and filter change",
        45,
        89,
        &[
            ("BMW", None, 129),
            ("BMW", Some("X5"), 149),
            ("Ford", Some("Transit"), 109),
        ],
    ),
    (
        "Maintenance",
        "INSPECTION",
        "Annual inspection",
        60,
        129,
        &[("Tesla", None, 99), ("BMW", None, 159)],
    ),
    (
        "Repairs",
        "BRAKES-FRONT",
        "Brake pads, front axle",
        90,
        249,
        &[
            ("BMW", None, 349),
            ("Tesla", Some("Model 3"), 299),
            ("Kia", Some("Rio"), 199),
        ],
    ),
    (
        "Repairs",
        "AC-SERVICE",
        "Air-conditioning service",
        60,
        119,
        &[],
    ),
    (
        "Tyres",
        "TYRE-SWAP",
        "Seasonal tyre change",
        30,
        49,
        &[("BMW", Some("X5"), 69)],
    ),
];

/// Two locations with their hours, the catalog, and bookings in every status.
pub(super) async fn seed(
    state: &AppState,
    admin: &user::Model,
    staff: &[user::Model],
    customers: &[user::Model],
    stock: &[Uuid],
    owned: &[(Uuid, user::Model)],
) -> Result<usize, String> {
    let admin_viewer = viewer_of(admin);
    let hours = |days: std::ops::RangeInclusive<i32>, opens: &str, closes: &str| {
        days.map(|weekday| HoursInput {
            weekday,
            opens_at: opens.into(),
            closes_at: closes.into(),
        })
        .collect::<Vec<_>>()
    };
    let mut locations = Vec::new();
    for (name, address, lat, lon, bays, open) in [
        (
            "AutoHub Main Workshop",
            "Torstraße 1, 10119 Berlin",
            52.5293,
            13.4010,
            4,
            hours(1..=5, "08:00", "18:00")
                .into_iter()
                .chain(hours(6..=6, "09:00", "14:00"))
                .collect(),
        ),
        (
            "AutoHub North",
            "Müllerstraße 30, 13353 Berlin",
            52.5482,
            13.3530,
            2,
            hours(1..=6, "07:30", "19:00"),
        ),
    ] {
        let location = bookings::create_location(
            state,
            &admin_viewer,
            LocationInput {
                name: name.into(),
                address: address.into(),
                latitude: lat,
                longitude: lon,
                timezone: "Europe/Berlin".into(),
                phone: Some("+49 30 1234 5678".into()),
                bays,
            },
        )
        .await
        .map_err(why)?;
        bookings::set_opening_hours(state, &admin_viewer, location.id, open)
            .await
            .map_err(why)?;
        locations.push(location);
    }
    let mut categories = std::collections::HashMap::new();
    let mut offerings = Vec::new();
    for (category, code, name, minutes, base, prices) in CATALOG {
        let category_id = match categories.get(category) {
            Some(id) => *id,
            None => {
                let c = bookings::create_category(state, &admin_viewer, category, None)
                    .await
                    .map_err(why)?;
                categories.insert(*category, c.id);
                c.id
            }
        };
        let offering = bookings::create_offering(
            state,
            &admin_viewer,
            OfferingInput {
                code: (*code).into(),
                name: (*name).into(),
                description: None,
                category_id: Some(category_id),
                duration_minutes: *minutes,
                base_price: Decimal::from(*base),
                is_active: Some(true),
            },
        )
        .await
        .map_err(why)?;
        for (make, model, price) in *prices {
            bookings::set_model_price(
                state,
                &admin_viewer,
                offering.id,
                make,
                *model,
                Decimal::from(*price),
            )
            .await
            .map_err(why)?;
        }
        offerings.push(offering.id);
    }

    // Test drives of stock over the next days, one per customer and day, moved along the table.
    let zone = state.config.bookings.showroom_timezone;
    let first_hour = state.config.bookings.test_drive_first_hour;
    let staff_viewer = viewer_of(&staff[0]);
    let local_today = state.today();
    let at = |days: u64, hour: u32, minute: u32| {
        let local = (local_today + Days::new(days)).and_hms_opt(hour, minute, 0);
        local.and_then(|l| {
            chrono::TimeZone::from_local_datetime(&zone, &l)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        })
    };
    let drives: [&[BookingStatus]; 8] = [
        &[],
        &[BookingStatus::Confirmed],
        &[BookingStatus::Declined],
        &[BookingStatus::Cancelled],
        &[BookingStatus::Confirmed],
        &[BookingStatus::Confirmed, BookingStatus::Completed],
        &[BookingStatus::Confirmed, BookingStatus::Completed],
        &[BookingStatus::Confirmed, BookingStatus::NoShow],
    ];
    let mut made = 0;
    for (n, path) in drives.iter().enumerate() {
        let (Some(unit), Some(customer)) = (stock.get(n), customers.get(n % customers.len()))
        else {
            break;
        };
        let Some(starts_at) = at(2 + n as u64 % 5, first_hour + n as u32 % 6, 0) else {
            continue;
        };
        let b = bookings::book_test_drive(
            state,
            &viewer_of(customer),
            *unit,
            starts_at,
            Some("Would like to try the motorway."),
        )
        .await
        .map_err(why)?;
        made += 1;
        for to in *path {
            if matches!(to, BookingStatus::Completed | BookingStatus::NoShow) {
                // A drive of last week: the demo moves it into the past, as time would have.
                let past = starts_at - chrono::Duration::days(9);
                booking::Entity::update_many()
                    .col_expr(booking::Column::StartsAt, Expr::value(past))
                    .col_expr(
                        booking::Column::EndsAt,
                        Expr::value(past + chrono::Duration::hours(1)),
                    )
                    .col_expr(
                        booking::Column::RemindAt,
                        Expr::value(Option::<chrono::DateTime<Utc>>::None),
                    )
                    .filter(booking::Column::Id.eq(b.id))
                    .exec(&state.db)
                    .await
                    .map_err(|e| format!("seed-demo: {e}"))?;
            }
            bookings::move_booking(state, &staff_viewer, b.id, *to, None)
                .await
                .map_err(why)?;
        }
    }

    // Service appointments for customers' cars at both locations.
    let advisor = viewer_of(&staff[2]);
    let appointments: [&[BookingStatus]; 6] = [
        &[],
        &[BookingStatus::Confirmed],
        &[BookingStatus::Confirmed, BookingStatus::InProgress],
        &[
            BookingStatus::Confirmed,
            BookingStatus::InProgress,
            BookingStatus::Completed,
        ],
        &[BookingStatus::Declined],
        &[BookingStatus::Cancelled],
    ];
    for (n, path) in appointments.iter().enumerate() {
        let Some((unit, owner)) = owned.get(n * 3) else {
            break;
        };
        let location = &locations[n % locations.len()];
        // A weekday morning next week or the week after.
        let mut day = 7 + n as u64;
        while crate::bookings::types::weekday(local_today + Days::new(day)) > 5 {
            day += 1;
        }
        let Some(starts_at) = at(day, 9 + n as u32 % 4, 30) else {
            continue;
        };
        let services = vec![
            offerings[n % offerings.len()],
            offerings[(n + 2) % offerings.len()],
        ];
        let b = bookings::book_service_appointment(
            state,
            &viewer_of(owner),
            NewAppointment {
                unit_id: *unit,
                location_id: location.id,
                starts_at,
                service_ids: services,
                notes: Some("Please call before starting extra work.".into()),
            },
        )
        .await
        .map_err(why)?;
        made += 1;
        for to in *path {
            bookings::move_booking(state, &advisor, b.id, *to, None)
                .await
                .map_err(why)?;
        }
    }
    Ok(made)
}
