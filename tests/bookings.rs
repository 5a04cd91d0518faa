//! Bookings, first half: test-drive availability and its refusals, the database's invariants
//! under concurrent requests, service appointments with their prices and service records, and
//! daylight-saving days.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};

use crate::common::{code, field, Actor, TestApp};

pub(crate) const BOOK_DRIVE: &str = "mutation($u: ID!, $s: DateTime!) { bookTestDrive(unitId: $u, startsAt: $s) { id status startsAt endsAt kind } }";
pub(crate) const SLOTS: &str =
    "query($u: ID!, $d: NaiveDate!) { availableTestDriveSlots(unitId: $u, date: $d) { startsAt endsAt } }";
pub(crate) const BOOK_SERVICE: &str = "mutation($i: BookServiceAppointmentInput!) { bookServiceAppointment(input: $i) { id status startsAt endsAt estimatedPrice services { code } } }";
pub(crate) const AVAILABILITY: &str = "query($l: ID!, $d: NaiveDate!, $s: [ID!]!) { appointmentAvailability(locationId: $l, date: $d, serviceIds: $s) { startsAt endsAt } }";

pub(crate) const BERLIN: Tz = chrono_tz::Europe::Berlin;

/// A showroom-local day `days` from today.
pub(crate) fn local_day(days: i64) -> NaiveDate {
    (Utc::now().with_timezone(&BERLIN).date_naive()) + Duration::days(days)
}

/// An instant at a local time of a Berlin day, as RFC 3339.
pub(crate) fn at(day: NaiveDate, hour: u32, minute: u32) -> String {
    let local = day.and_hms_opt(hour, minute, 0).unwrap();
    BERLIN
        .from_local_datetime(&local)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
        .to_rfc3339()
}

pub(crate) fn instant(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .unwrap_or_else(|| panic!("not a DateTime: {v}"))
        .with_timezone(&Utc)
}

pub(crate) fn starts(r: &Value, field: &str) -> Vec<DateTime<Utc>> {
    r["data"][field]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|s| instant(&s["startsAt"]))
        .collect()
}

pub(crate) async fn listed_unit(app: &TestApp, staff: &Actor) -> String {
    app.create_unit(
        &staff.access,
        json!({ "isListed": true, "listPrice": "20000" }),
    )
    .await
}

pub(crate) async fn book_drive(app: &TestApp, who: &Actor, unit: &str, starts_at: &str) -> Value {
    app.gql_as(
        &who.access,
        BOOK_DRIVE,
        json!({ "u": unit, "s": starts_at }),
    )
    .await
}

pub(crate) fn id_of(r: &Value, op: &str) -> String {
    r["data"][op]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{op}: {r}"))
        .to_string()
}

#[tokio::test]
async fn a_unit_has_eight_test_drive_hours_that_close_when_booked_and_reopen_when_cancelled() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let unit = listed_unit(&app, &staff).await;
    let alice = app.customer("alice-slots@example.com").await;
    let bob = app.customer("bob-slots@example.com").await;
    let day = local_day(2);

    let r = app
        .gql_as(&alice.access, SLOTS, json!({ "u": unit, "d": day }))
        .await;
    let listed = starts(&r, "availableTestDriveSlots");
    let hours: Vec<String> = listed
        .iter()
        .map(|s| s.with_timezone(&BERLIN).format("%H:%M").to_string())
        .collect();
    assert_eq!(
        hours,
        ["09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"],
        "{r}"
    );
    let first = &r["data"]["availableTestDriveSlots"][0];
    assert_eq!(
        instant(&first["endsAt"]) - instant(&first["startsAt"]),
        Duration::hours(1)
    );
    // Today: nothing in the past. Beyond 30 days: nothing.
    let r = app
        .gql_as(
            &alice.access,
            SLOTS,
            json!({ "u": unit, "d": local_day(0) }),
        )
        .await;
    assert!(starts(&r, "availableTestDriveSlots")
        .iter()
        .all(|s| *s > Utc::now()));
    let r = app
        .gql_as(
            &alice.access,
            SLOTS,
            json!({ "u": unit, "d": local_day(31) }),
        )
        .await;
    assert!(starts(&r, "availableTestDriveSlots").is_empty(), "{r}");
    // Anyone may look at a listed unit's slots.
    let r = app.gql(SLOTS, json!({ "u": unit, "d": day })).await;
    assert_eq!(starts(&r, "availableTestDriveSlots").len(), 8, "{r}");

    let ten = at(day, 10, 0);
    let r = book_drive(&app, &alice, &unit, &ten).await;
    assert_eq!(r["data"]["bookTestDrive"]["status"], "PENDING", "{r}");
    let booking = id_of(&r, "bookTestDrive");
    for who in [&alice, &bob] {
        let r = app
            .gql_as(&who.access, SLOTS, json!({ "u": unit, "d": day }))
            .await;
        let left = starts(&r, "availableTestDriveSlots");
        assert_eq!(left.len(), 7);
        assert!(!left.contains(&instant(&json!(ten))));
    }
    // Omitted means refused.
    let r = book_drive(&app, &bob, &unit, &ten).await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    let r = app
        .gql_as(
            &alice.access,
            "mutation($id: ID!) { cancelBooking(id: $id, reason: \"Plans changed\") { status } }",
            json!({ "id": booking }),
        )
        .await;
    assert_eq!(r["data"]["cancelBooking"]["status"], "CANCELLED", "{r}");
    let r = app
        .gql_as(&bob.access, SLOTS, json!({ "u": unit, "d": day }))
        .await;
    assert_eq!(starts(&r, "availableTestDriveSlots").len(), 8, "{r}");
    let r = book_drive(&app, &bob, &unit, &ten).await;
    assert_eq!(r["data"]["bookTestDrive"]["status"], "PENDING", "{r}");
}

#[tokio::test]
async fn test_drives_and_appointments_outside_the_rules_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let unit = listed_unit(&app, &staff).await;
    let other = listed_unit(&app, &staff).await;
    let carol = app.customer("carol-refusals@example.com").await;
    let day = local_day(3);

    let cases = [
        (at(day, 10, 30), "off the hour"),
        (at(local_day(-1), 10, 0), "in the past"),
        (at(local_day(31), 10, 0), "beyond 30 days"),
        (at(day, 8, 0), "before the first hour"),
        (at(day, 17, 0), "after the last hour"),
    ];
    for (starts_at, why) in cases {
        let r = book_drive(&app, &carol, &unit, &starts_at).await;
        assert_eq!(code(&r), "BAD_USER_INPUT", "{why}: {r}");
        assert_eq!(field(&r), "startsAt", "{why}: {r}");
    }
    // Units that take no test drives.
    let unlisted = app.create_unit(&staff.access, json!({})).await;
    let r = book_drive(&app, &carol, &unlisted, &at(day, 10, 0)).await;
    assert_eq!(
        (code(&r), field(&r)),
        ("BAD_USER_INPUT", "unitId"),
        "a customer cannot see it: {r}"
    );
    let r = book_drive(&app, &staff, &unlisted, &at(day, 10, 0)).await;
    assert_eq!((code(&r), field(&r)), ("CONFLICT", "unitId"), "{r}");
    let inactive = listed_unit(&app, &staff).await;
    let r = app
        .gql_as(
            &staff.access,
            "mutation($id: ID!) { updateUnit(id: $id, input: { status: INACTIVE }) { status } }",
            json!({ "id": inactive }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let r = book_drive(&app, &staff, &inactive, &at(day, 10, 0)).await;
    assert_eq!(
        (code(&r), field(&r)),
        ("CONFLICT", "unitId"),
        "inactive: {r}"
    );
    let sold = listed_unit(&app, &staff).await;
    let r = app
        .gql_as(&staff.access, "mutation($u: ID!) { recordSale(input: { unitId: $u, price: \"1000\", soldOn: \"2026-01-01\", buyerName: \"B\", paymentMethod: CASH }) { id } }", json!({ "u": sold }))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let r = book_drive(&app, &staff, &sold, &at(day, 10, 0)).await;
    assert_eq!((code(&r), field(&r)), ("CONFLICT", "unitId"), "sold: {r}");

    // One customer, one test drive per start, whichever unit.
    let r = book_drive(&app, &carol, &unit, &at(day, 11, 0)).await;
    assert!(r["errors"].is_null(), "{r}");
    let r = book_drive(&app, &carol, &other, &at(day, 11, 0)).await;
    assert_eq!((code(&r), field(&r)), ("CONFLICT", "startsAt"), "{r}");
    let r = app
        .gql_as(&carol.access, SLOTS, json!({ "u": other, "d": day }))
        .await;
    assert_eq!(
        starts(&r, "availableTestDriveSlots").len(),
        7,
        "her own start is not offered to her again: {r}"
    );

    // A unit with bookings ahead is not deleted under its customers.
    let r = app
        .gql_as(
            &staff.access,
            "mutation($id: ID!) { deleteUnit(id: $id) }",
            json!({ "id": unit }),
        )
        .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");

    // A service for someone else's unit.
    let (location, services) = workshop_setup(&app, &staff, 2).await;
    let dave = app.customer("dave-refusals@example.com").await;
    let daves = app.create_unit(&dave.access, json!({})).await;
    let r = app
        .gql_as(
            &carol.access,
            BOOK_SERVICE,
            json!({ "i": { "unitId": daves, "locationId": location, "startsAt": at(day, 9, 0), "serviceIds": [services[0]] } }),
        )
        .await;
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "unitId"), "{r}");
    // Unknown and inactive services, a closed day, a bad time zone, bays and hours.
    let mine = app.create_unit(&carol.access, json!({})).await;
    let book = |starts_at: String, service: Value| json!({ "i": { "unitId": mine, "locationId": location, "startsAt": starts_at, "serviceIds": [service] } });
    let r = app
        .gql_as(
            &carol.access,
            BOOK_SERVICE,
            book(at(day, 9, 0), json!(uuid::Uuid::now_v7().to_string())),
        )
        .await;
    assert_eq!(
        (code(&r), field(&r)),
        ("BAD_USER_INPUT", "serviceIds.0"),
        "{r}"
    );
    let r = app
        .gql_as(&staff.access, "mutation($id: ID!) { updateServiceOffering(id: $id, input: { code: \"WASH\", name: \"Wash\", durationMinutes: 30, basePrice: \"10\", isActive: false }) { isActive } }", json!({ "id": services[1] }))
        .await;
    assert_eq!(r["data"]["updateServiceOffering"]["isActive"], false, "{r}");
    let r = app
        .gql_as(
            &carol.access,
            BOOK_SERVICE,
            book(at(day, 9, 0), json!(services[1])),
        )
        .await;
    assert_eq!(
        (code(&r), field(&r)),
        ("BAD_USER_INPUT", "serviceIds.0"),
        "{r}"
    );
    let closed = location_closed_on(day);
    let r = app
        .gql_as(&staff.access, "mutation($l: ID!, $h: [OpeningHoursInput!]!) { setOpeningHours(locationId: $l, hours: $h) { openingHours { weekday } } }", json!({ "l": location, "h": hours_except(closed) }))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let r = app
        .gql_as(
            &carol.access,
            BOOK_SERVICE,
            book(at(day, 9, 0), json!(services[0])),
        )
        .await;
    assert_eq!(
        (code(&r), field(&r)),
        ("BAD_USER_INPUT", "startsAt"),
        "closed: {r}"
    );
    for (input, bad) in [
        (
            json!({ "name": "X", "address": "Y", "latitude": 1.0, "longitude": 1.0, "timezone": "Mars/Olympus", "bays": 1 }),
            "timezone",
        ),
        (
            json!({ "name": "X", "address": "Y", "latitude": 1.0, "longitude": 1.0, "timezone": "Europe/Berlin", "bays": 0 }),
            "bays",
        ),
        (
            json!({ "name": "X", "address": "Y", "latitude": 91.0, "longitude": 1.0, "timezone": "Europe/Berlin", "bays": 1 }),
            "latitude",
        ),
    ] {
        let r = app
            .gql_as(
                &staff.access,
                "mutation($i: ServiceLocationInput!) { createServiceLocation(input: $i) { id } }",
                json!({ "i": input }),
            )
            .await;
        assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", bad), "{r}");
    }
    let r = app
        .gql_as(&staff.access, "mutation($l: ID!) { setOpeningHours(locationId: $l, hours: [{ weekday: 1, opensAt: \"18:00\", closesAt: \"08:00\" }]) { id } }", json!({ "l": location }))
        .await;
    assert_eq!(
        (code(&r), field(&r)),
        ("BAD_USER_INPUT", "hours.0.opensAt"),
        "{r}"
    );
    let r = app
        .gql_as(&carol.access, "mutation { createServiceLocation(input: { name: \"X\", address: \"Y\", latitude: 1, longitude: 1, timezone: \"UTC\", bays: 1 }) { id } }", json!({}))
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
}

/// The weekday (1 = Monday) of a date.
fn location_closed_on(day: NaiveDate) -> u32 {
    chrono::Datelike::weekday(&day).number_from_monday()
}

/// 08:00–18:00 on every weekday but one.
fn hours_except(closed: u32) -> Value {
    json!((1..=7)
        .filter(|d| *d != closed)
        .map(|d| json!({ "weekday": d, "opensAt": "08:00", "closesAt": "18:00" }))
        .collect::<Vec<_>>())
}

/// A Berlin location open 08:00–18:00 every day with `bays` bays, and two services: OIL (45
/// minutes, 100.00; Toyota 150.00; Toyota Corolla 170.00) and WASH (20 minutes, 50.00).
pub(crate) async fn workshop_setup(
    app: &TestApp,
    staff: &Actor,
    bays: i32,
) -> (String, Vec<String>) {
    let r = app
        .gql_as(&staff.access, "mutation($i: ServiceLocationInput!) { createServiceLocation(input: $i) { id timezone bays } }", json!({ "i": {
            "name": "Mitte", "address": "Torstraße 1, Berlin", "latitude": 52.53, "longitude": 13.40,
            "timezone": "Europe/Berlin", "phone": "+49 30 123", "bays": bays } }))
        .await;
    let location = id_of(&r, "createServiceLocation");
    let r = app
        .gql_as(&staff.access, "mutation($l: ID!, $h: [OpeningHoursInput!]!) { setOpeningHours(locationId: $l, hours: $h) { openingHours { weekday opensAt closesAt } } }", json!({ "l": location, "h": hours_except(0) }))
        .await;
    assert_eq!(
        r["data"]["setOpeningHours"]["openingHours"][0],
        json!({ "weekday": 1, "opensAt": "08:00", "closesAt": "18:00" }),
        "{r}"
    );
    let r = app
        .gql_as(
            &staff.access,
            "mutation { createServiceCategory(name: \"Maintenance\") { id } }",
            json!({}),
        )
        .await;
    let category = id_of(&r, "createServiceCategory");
    let mut services = Vec::new();
    for (code, minutes, price) in [("oil", 45, "100"), ("wash", 20, "50")] {
        let r = app
            .gql_as(&staff.access, "mutation($i: ServiceOfferingInput!) { createServiceOffering(input: $i) { id code } }", json!({ "i": {
                "code": code, "name": code, "categoryId": category, "durationMinutes": minutes, "basePrice": price } }))
            .await;
        services.push(id_of(&r, "createServiceOffering"));
    }
    for (model, price) in [(Value::Null, "150"), (json!("Corolla"), "170")] {
        let r = app
            .gql_as(&staff.access, "mutation($o: ID!, $m: String, $p: Decimal!) { setModelPrice(offeringId: $o, make: \"TOYOTA\", model: $m, price: $p) { modelPrices { make model price } } }", json!({ "o": services[0], "m": model, "p": price }))
            .await;
        assert!(r["errors"].is_null(), "{r}");
    }
    (location, services)
}

#[tokio::test]
async fn concurrent_bookings_of_one_slot_one_customer_or_one_bay_keep_every_invariant() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let unit = listed_unit(&app, &staff).await;
    let day = local_day(4);
    let mut customers = Vec::new();
    for i in 0..20 {
        customers.push(app.customer(&format!("racer{i}@example.com")).await);
    }
    let starts_at = at(day, 12, 0);
    let results = futures_util::future::join_all(
        customers
            .iter()
            .map(|c| book_drive(&app, c, &unit, &starts_at)),
    )
    .await;
    let won = results
        .iter()
        .filter(|r| r["data"]["bookTestDrive"]["status"] == "PENDING")
        .count();
    let conflicts = results
        .iter()
        .filter(|r| r["errors"][0]["extensions"]["code"] == "CONFLICT")
        .count();
    assert_eq!((won, conflicts), (1, 19), "{results:?}");

    // One customer booking five units at one start at once: one test drive.
    let mut five = Vec::new();
    for _ in 0..5 {
        five.push(listed_unit(&app, &staff).await);
    }
    let starts_at = at(day, 13, 0);
    let results = futures_util::future::join_all(
        five.iter()
            .map(|u| book_drive(&app, &customers[0], u, &starts_at)),
    )
    .await;
    let won = results
        .iter()
        .filter(|r| r["data"]["bookTestDrive"]["status"] == "PENDING")
        .count();
    assert_eq!(won, 1, "{results:?}");

    let (location, services) = workshop_setup(&app, &staff, 2).await;
    let mut units = Vec::new();
    for c in customers.iter().take(10) {
        units.push(app.create_unit(&c.access, json!({})).await);
    }
    let starts_at = at(day, 10, 0);
    let results = futures_util::future::join_all(customers.iter().zip(&units).map(|(c, u)| {
        app.gql_as(
            &c.access,
            BOOK_SERVICE,
            json!({ "i": { "unitId": u, "locationId": location, "startsAt": starts_at, "serviceIds": [services[0]] } }),
        )
    }))
    .await;
    let won = results
        .iter()
        .filter(|r| r["data"]["bookServiceAppointment"]["status"] == "PENDING")
        .count();
    let conflicts = results
        .iter()
        .filter(|r| r["errors"][0]["extensions"]["code"] == "CONFLICT")
        .count();
    assert_eq!((won, conflicts), (2, 8), "{results:?}");
    let r = app
        .gql_as(
            &customers[15].access,
            AVAILABILITY,
            json!({ "l": location, "d": day, "s": [services[0]] }),
        )
        .await;
    let free = starts(&r, "appointmentAvailability");
    assert!(
        !free.contains(&instant(&json!(starts_at))),
        "full at 10:00: {r}"
    );
    assert!(
        !free.contains(&instant(&json!(at(day, 9, 30)))),
        "09:30 + 60 minutes overlaps 10:00: {r}"
    );
    assert!(free.contains(&instant(&json!(at(day, 11, 0)))), "{r}");
}

#[tokio::test]
async fn an_appointment_is_priced_by_make_and_model_and_carries_its_service_record() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let (location, services) = workshop_setup(&app, &staff, 3).await;
    let (referrer, erin) = crate::referral_credit::referred_pair(&app, "erin").await;
    let corolla = app
        .create_unit(
            &erin.access,
            json!({ "make": "Toyota", "model": "Corolla" }),
        )
        .await;
    let yaris = app
        .create_unit(&erin.access, json!({ "make": "toyota", "model": "Yaris" }))
        .await;
    let golf = app
        .create_unit(
            &erin.access,
            json!({ "make": "Volkswagen", "model": "Golf" }),
        )
        .await;
    let day = local_day(5);

    // 45 + 20 minutes → 90: half-hour starts from 08:00 to 16:30 (ends by 18:00).
    let r = app
        .gql_as(
            &erin.access,
            AVAILABILITY,
            json!({ "l": location, "d": day, "s": services }),
        )
        .await;
    let free = starts(&r, "appointmentAvailability");
    assert_eq!(free.len(), 18, "{r}");
    assert_eq!(free[0], instant(&json!(at(day, 8, 0))));
    assert_eq!(free[17], instant(&json!(at(day, 16, 30))));
    assert_eq!(
        instant(&r["data"]["appointmentAvailability"][0]["endsAt"]) - free[0],
        Duration::minutes(90)
    );
    // Prices: the model's, the make's (any case), the base.
    let r = app
        .gql_as(&erin.access, "query($c: ID!, $y: ID!, $g: ID!) { serviceCatalog { code c: priceFor(unitId: $c) y: priceFor(unitId: $y) g: priceFor(unitId: $g) } }", json!({ "c": corolla, "y": yaris, "g": golf }))
        .await;
    let oil = &r["data"]["serviceCatalog"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .find(|o| o["code"] == "OIL")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (&oil["c"], &oil["y"], &oil["g"]),
        (&json!("170.00"), &json!("150.00"), &json!("100.00")),
        "{r}"
    );

    let book = |unit: &str, h: u32, m: u32| json!({ "i": { "unitId": unit, "locationId": location, "startsAt": at(day, h, m), "serviceIds": services, "notes": "Rattle" } });
    let r = app
        .gql_as(&erin.access, BOOK_SERVICE, book(&corolla, 8, 30))
        .await;
    let b = &r["data"]["bookServiceAppointment"];
    assert_eq!(b["estimatedPrice"], "220.00", "170 + 50: {r}");
    assert_eq!(
        b["services"],
        json!([{ "code": "OIL" }, { "code": "WASH" }])
    );
    assert_eq!(
        instant(&b["endsAt"]) - instant(&b["startsAt"]),
        Duration::minutes(90)
    );
    let booking = id_of(&r, "bookServiceAppointment");
    let r = app
        .gql_as(&erin.access, BOOK_SERVICE, book(&golf, 9, 0))
        .await;
    assert_eq!(
        r["data"]["bookServiceAppointment"]["estimatedPrice"], "150.00",
        "{r}"
    );
    let r = app
        .gql_as(&erin.access, BOOK_SERVICE, book(&golf, 9, 15))
        .await;
    assert_eq!(
        (code(&r), field(&r)),
        ("BAD_USER_INPUT", "startsAt"),
        "half hours only: {r}"
    );

    // The price is kept when the table changes, and computed again on reschedule.
    let r = app
        .gql_as(&staff.access, "mutation($o: ID!) { setModelPrice(offeringId: $o, make: \"toyota\", model: \"COROLLA\", price: \"300\") { id } }", json!({ "o": services[0] }))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let r = app
        .gql_as(
            &erin.access,
            "query($id: ID!) { booking(id: $id) { estimatedPrice } }",
            json!({ "id": booking }),
        )
        .await;
    assert_eq!(r["data"]["booking"]["estimatedPrice"], "220.00", "{r}");
    let r = app
        .gql_as(&erin.access, "mutation($id: ID!, $s: DateTime!) { rescheduleBooking(id: $id, startsAt: $s) { status estimatedPrice } }", json!({ "id": booking, "s": at(day, 14, 0) }))
        .await;
    assert_eq!(
        r["data"]["rescheduleBooking"]["estimatedPrice"], "350.00",
        "{r}"
    );

    // Confirm → SCHEDULED record; start → IN_PROGRESS (unit IN_SERVICE); complete → COMPLETED.
    let q = "mutation($id: ID!) { OP(id: $id) { status serviceRecord { status location scheduledFor unit { status } } } }";
    let mut last = Value::Null;
    for (op, booking_status, record_status) in [
        ("confirmBooking", "CONFIRMED", "SCHEDULED"),
        ("startBooking", "IN_PROGRESS", "IN_PROGRESS"),
        ("completeBooking", "COMPLETED", "COMPLETED"),
    ] {
        let r = app
            .gql_as(
                &staff.access,
                &q.replace("OP", op),
                json!({ "id": booking }),
            )
            .await;
        let b = &r["data"][op];
        assert_eq!(b["status"], booking_status, "{r}");
        assert_eq!(b["serviceRecord"]["status"], record_status, "{r}");
        assert_eq!(b["serviceRecord"]["location"], "Mitte");
        assert_eq!(b["serviceRecord"]["scheduledFor"], json!(day));
        last = r;
    }
    assert_eq!(
        last["data"]["completeBooking"]["serviceRecord"]["unit"]["status"], "ACTIVE",
        "{last}"
    );
    // Completing credits the referral like any completed service.
    let r = app
        .gql_as(&referrer.access, "{ me { rewardsBalance } }", json!({}))
        .await;
    assert_eq!(r["data"]["me"]["rewardsBalance"], 500, "{r}");
}

#[tokio::test]
async fn daylight_saving_days_list_every_slot_once_and_only_at_times_that_exist() {
    let app = TestApp::spawn_with(&[
        ("SHOWROOM_TIMEZONE", "America/New_York"),
        ("TEST_DRIVE_FIRST_HOUR", "0"),
        ("TEST_DRIVE_LAST_HOUR", "23"),
        ("TEST_DRIVE_HORIZON_DAYS", "400"),
        ("APPOINTMENT_HORIZON_DAYS", "400"),
    ])
    .await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let unit = listed_unit(&app, &staff).await;
    let r = app
        .gql_as(&staff.access, "mutation { createServiceLocation(input: { name: \"Ring\", address: \"Berlin\", latitude: 52.5, longitude: 13.4, timezone: \"Europe/Berlin\", bays: 1 }) { id } }", json!({}))
        .await;
    let location = id_of(&r, "createServiceLocation");
    let all_day: Vec<Value> = (1..=7)
        .map(|d| json!({ "weekday": d, "opensAt": "00:00", "closesAt": "24:00" }))
        .collect();
    let r = app
        .gql_as(&staff.access, "mutation($l: ID!, $h: [OpeningHoursInput!]!) { setOpeningHours(locationId: $l, hours: $h) { id } }", json!({ "l": location, "h": all_day }))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let r = app
        .gql_as(&staff.access, "mutation { createServiceOffering(input: { code: \"CHECK\", name: \"Check\", durationMinutes: 30, basePrice: \"20\" }) { id } }", json!({}))
        .await;
    let check = id_of(&r, "createServiceOffering");

    let new_york = chrono_tz::America::New_York;
    let cases: [(&str, Tz, &str, usize); 4] = [
        ("drive", new_york, "2027-03-14", 23),
        ("drive", new_york, "2027-11-07", 25),
        ("service", BERLIN, "2027-03-28", 46),
        ("service", BERLIN, "2027-10-31", 50),
    ];
    for (what, zone, day, expected) in cases {
        let r = if what == "drive" {
            app.gql_as(&staff.access, SLOTS, json!({ "u": unit, "d": day }))
                .await
        } else {
            app.gql_as(
                &staff.access,
                AVAILABILITY,
                json!({ "l": location, "d": day, "s": [check] }),
            )
            .await
        };
        let op = if what == "drive" {
            "availableTestDriveSlots"
        } else {
            "appointmentAvailability"
        };
        let listed = starts(&r, op);
        assert_eq!(listed.len(), expected, "{what} {day}: {r}");
        let mut unique = listed.clone();
        unique.dedup();
        assert_eq!(unique.len(), listed.len(), "{what} {day}: listed twice");
        for s in &listed {
            let local = s.with_timezone(&zone);
            assert_eq!(local.date_naive().to_string(), day);
            // The local time exists: it maps back to an instant of that day.
            assert!(
                zone.from_local_datetime(&local.naive_local())
                    .earliest()
                    .is_some(),
                "{what} {day}: {local} does not exist"
            );
        }
        if day.ends_with("-03-14") || day.ends_with("-03-28") {
            assert!(
                listed
                    .iter()
                    .all(|s| s.with_timezone(&zone).format("%H").to_string() != "02"),
                "{what} {day}: 02:xx is skipped that night"
            );
        }
    }
    // 02:00 comes twice that night: both instants are listed, each once.
    let r = app
        .gql_as(
            &staff.access,
            AVAILABILITY,
            json!({ "l": location, "d": "2027-10-31", "s": [check] }),
        )
        .await;
    let twos: Vec<&Value> = r["data"]["appointmentAvailability"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .filter(|s| {
            instant(&s["startsAt"])
                .with_timezone(&BERLIN)
                .format("%H:%M")
                .to_string()
                == "02:00"
        })
        .collect();
    assert_eq!(
        twos.len(),
        2,
        "02:00 summer time and 02:00 winter time: {r}"
    );
}

#[tokio::test]
async fn every_time_of_a_day_can_be_booked_exactly_when_availability_lists_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let unit = listed_unit(&app, &staff).await;
    let lea = app.customer("lea-every@example.com").await;
    let max = app.customer("max-every@example.com").await;
    let (location, services) = workshop_setup(&app, &staff, 1).await;
    let own = app.create_unit(&lea.access, json!({})).await;
    let day = local_day(10);
    // Something already taken that day, by someone else.
    let r = book_drive(&app, &max, &unit, &at(day, 10, 0)).await;
    assert!(r["errors"].is_null(), "{r}");
    let maxs = app.create_unit(&max.access, json!({})).await;
    let r = app
        .gql_as(&max.access, BOOK_SERVICE, json!({ "i": { "unitId": maxs, "locationId": location, "startsAt": at(day, 12, 0), "serviceIds": [services[0]] } }))
        .await;
    assert!(r["errors"].is_null(), "{r}");

    let r = app
        .gql_as(&lea.access, SLOTS, json!({ "u": unit, "d": day }))
        .await;
    let drives = starts(&r, "availableTestDriveSlots");
    let r = app
        .gql_as(
            &lea.access,
            AVAILABILITY,
            json!({ "l": location, "d": day, "s": [services[0]] }),
        )
        .await;
    let appointments = starts(&r, "appointmentAvailability");
    let cancel = "mutation($id: ID!) { cancelBooking(id: $id) { status } }";
    for minutes in (0..24 * 60).step_by(30) {
        let starts_at = at(day, minutes / 60, minutes % 60);
        let listed = drives.contains(&instant(&json!(starts_at)));
        let r = book_drive(&app, &lea, &unit, &starts_at).await;
        assert_eq!(
            r["errors"].is_null(),
            listed,
            "test drive at {starts_at}: {r}"
        );
        if listed {
            app.gql_as(
                &lea.access,
                cancel,
                json!({ "id": id_of(&r, "bookTestDrive") }),
            )
            .await;
        }
        let listed = appointments.contains(&instant(&json!(starts_at)));
        let r = app
            .gql_as(&lea.access, BOOK_SERVICE, json!({ "i": { "unitId": own, "locationId": location, "startsAt": starts_at, "serviceIds": [services[0]] } }))
            .await;
        assert_eq!(
            r["errors"].is_null(),
            listed,
            "appointment at {starts_at}: {r}"
        );
        if listed {
            app.gql_as(
                &lea.access,
                cancel,
                json!({ "id": id_of(&r, "bookServiceAppointment") }),
            )
            .await;
        }
    }
    assert_eq!(drives.len(), 7);
    // 08:00–18:00 in half hours for one hour of work, less 11:30, 12:00 and 12:30 (the bay is
    // taken 12:00–13:00).
    assert_eq!(appointments.len(), 19 - 3);
}

#[tokio::test]
async fn staff_keep_the_catalog_and_the_locations_and_admins_delete_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let nia = app.customer("nia-catalog@example.com").await;
    let (location, services) = workshop_setup(&app, &staff, 2).await;

    // Everyone reads; customers see active offerings only, by category.
    let catalog = "query($c: ID) { serviceCatalog(categoryId: $c) { code isActive category { name offerings { code } } } }";
    let r = app.gql(catalog, json!({ "c": null })).await;
    assert_eq!(
        r["data"]["serviceCatalog"].as_array().map(Vec::len),
        Some(2),
        "{r}"
    );
    assert_eq!(
        r["data"]["serviceCatalog"][0]["category"]["name"],
        "Maintenance"
    );
    let r = app
        .gql_as(&staff.access, "mutation($id: ID!) { updateServiceOffering(id: $id, input: { code: \"wash\", name: \"Wash\", durationMinutes: 20, basePrice: \"55\", isActive: false }) { code basePrice isActive category { id } } }", json!({ "id": services[1] }))
        .await;
    let updated = &r["data"]["updateServiceOffering"];
    assert_eq!(
        (
            &updated["code"],
            &updated["basePrice"],
            &updated["isActive"]
        ),
        (&json!("WASH"), &json!("55.00"), &json!(false)),
        "{r}"
    );
    assert!(
        updated["category"].is_null(),
        "the input names no category: {r}"
    );
    let r = app.gql_as(&nia.access, catalog, json!({ "c": null })).await;
    assert_eq!(
        r["data"]["serviceCatalog"].as_array().map(Vec::len),
        Some(1),
        "{r}"
    );
    let r = app
        .gql_as(&staff.access, catalog, json!({ "c": null }))
        .await;
    assert_eq!(
        r["data"]["serviceCatalog"].as_array().map(Vec::len),
        Some(2),
        "{r}"
    );
    let r = app
        .gql_as(&staff.access, "mutation { createServiceCategory(name: \"Tyres\", description: \"Seasonal\") { id offerings { code } } }", json!({}))
        .await;
    let tyres = id_of(&r, "createServiceCategory");
    let r = app
        .gql_as(&staff.access, catalog, json!({ "c": tyres }))
        .await;
    assert_eq!(r["data"]["serviceCatalog"], json!([]), "{r}");
    let r = app
        .gql_as(&staff.access, "mutation { createServiceOffering(input: { code: \"OIL\", name: \"Again\", durationMinutes: 30, basePrice: \"1\" }) { id } }", json!({}))
        .await;
    assert_eq!((code(&r), field(&r)), ("CONFLICT", "code"), "{r}");

    // Model prices: set, replace, remove; removing one that is not there is NOT_FOUND.
    let prices = "query { serviceCatalog { code modelPrices { make model price } } }";
    let r = app
        .gql_as(&staff.access, "mutation($o: ID!) { removeModelPrice(offeringId: $o, make: \"toyota\", model: \"corolla\") { modelPrices { make model price } } }", json!({ "o": services[0] }))
        .await;
    assert_eq!(
        r["data"]["removeModelPrice"]["modelPrices"],
        json!([{ "make": "TOYOTA", "model": null, "price": "150.00" }]),
        "{r}"
    );
    let r = app
        .gql_as(&staff.access, "mutation($o: ID!) { removeModelPrice(offeringId: $o, make: \"Toyota\", model: \"Corolla\") { id } }", json!({ "o": services[0] }))
        .await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");
    let r = app.gql_as(&nia.access, prices, json!({})).await;
    assert_eq!(
        r["data"]["serviceCatalog"][0]["modelPrices"][0]["price"], "150.00",
        "{r}"
    );
    for mutation in [
        "mutation($o: ID!) { setModelPrice(offeringId: $o, make: \"Kia\", price: \"1\") { id } }",
        "mutation($o: ID!) { removeModelPrice(offeringId: $o, make: \"Toyota\") { id } }",
    ] {
        let r = app
            .gql_as(&nia.access, mutation, json!({ "o": services[0] }))
            .await;
        assert_eq!(code(&r), "FORBIDDEN", "{mutation}: {r}");
    }

    // Locations: staff change them; deleting is for admins, and not while bookings name them.
    let input = json!({ "name": "Mitte West", "address": "Invalidenstraße 5", "latitude": 52.53,
        "longitude": 13.38, "timezone": "Europe/Berlin", "phone": null, "bays": 3 });
    let r = app
        .gql_as(&staff.access, "mutation($id: ID!, $i: ServiceLocationInput!) { updateServiceLocation(id: $id, input: $i) { name bays phone openingHours { weekday } } }", json!({ "id": location, "i": input }))
        .await;
    let l = &r["data"]["updateServiceLocation"];
    assert_eq!(
        (&l["name"], &l["bays"], &l["phone"]),
        (&json!("Mitte West"), &json!(3), &Value::Null),
        "{r}"
    );
    assert_eq!(
        l["openingHours"].as_array().map(Vec::len),
        Some(7),
        "hours kept: {r}"
    );
    let delete = "mutation($id: ID!) { deleteServiceLocation(id: $id) }";
    let r = app
        .gql_as(&staff.access, delete, json!({ "id": location }))
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let own = app.create_unit(&nia.access, json!({})).await;
    let r = app
        .gql_as(&nia.access, BOOK_SERVICE, json!({ "i": { "unitId": own, "locationId": location, "startsAt": at(local_day(3), 9, 0), "serviceIds": [services[0]] } }))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let r = app
        .gql_as(&admin.access, delete, json!({ "id": location }))
        .await;
    assert_eq!(code(&r), "CONFLICT", "a booking names it: {r}");
    let r = app
        .gql_as(&staff.access, "mutation { createServiceLocation(input: { name: \"Spare\", address: \"Y\", latitude: 1, longitude: 1, timezone: \"UTC\", bays: 1 }) { id } }", json!({}))
        .await;
    let spare = id_of(&r, "createServiceLocation");
    let r = app
        .gql_as(&admin.access, delete, json!({ "id": spare }))
        .await;
    assert_eq!(r["data"]["deleteServiceLocation"], true, "{r}");
    let r = app.gql("{ serviceLocations { name } }", json!({})).await;
    assert_eq!(
        r["data"]["serviceLocations"],
        json!([{ "name": "Mitte West" }]),
        "{r}"
    );
}
