//! Bookings, second half: the whole transition table, notifications and reminders (across a
//! restart and across two instances), a sale's cancelling of test drives, filters and
//! statistics, support rooms about a booking, and nested queries at a constant statement count.

use std::time::Duration;

use chrono::{Duration as Span, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use crate::bookings::{
    at, book_drive, id_of, listed_unit, local_day, workshop_setup, BOOK_SERVICE, SLOTS,
};
use crate::common::{code, message, Actor, TestApp};
use autohub::bookings::entity::booking;

const OPS: [&str; 6] = [
    "confirmBooking",
    "declineBooking",
    "cancelBooking",
    "startBooking",
    "completeBooking",
    "markNoShow",
];

/// The status each of `OPS` moves to.
const OP_TARGETS: [&str; 6] = [
    "CONFIRMED",
    "DECLINED",
    "CANCELLED",
    "IN_PROGRESS",
    "COMPLETED",
    "NO_SHOW",
];

async fn op(app: &TestApp, who: &Actor, name: &str, id: &str) -> Value {
    app.gql_as(
        &who.access,
        &format!("mutation($id: ID!) {{ {name}(id: $id) {{ id status }} }}"),
        json!({ "id": id }),
    )
    .await
}

async fn reschedule(app: &TestApp, who: &Actor, id: &str, starts_at: &str) -> Value {
    app.gql_as(
        &who.access,
        "mutation($id: ID!, $s: DateTime!) { rescheduleBooking(id: $id, startsAt: $s) { status startsAt } }",
        json!({ "id": id, "s": starts_at }),
    )
    .await
}

/// Makes a move and returns the booking's new status.
async fn moved(app: &TestApp, who: &Actor, name: &str, id: &str) -> String {
    status_of(&op(app, who, name, id).await, name)
}

fn status_of(r: &Value, name: &str) -> String {
    r["data"][name]["status"]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: {r}"))
        .to_string()
}

/// Every move but `allowed` is CONFLICT naming the booking's status and the target.
async fn only_these_moves(
    app: &TestApp,
    staff: &Actor,
    id: &str,
    from: &str,
    allowed: &[&str],
    free_slot: &str,
) {
    for name in OPS.iter().filter(|o| !allowed.contains(o)) {
        let r = op(app, staff, name, id).await;
        assert_eq!(code(&r), "CONFLICT", "{from} {name}: {r}");
        let target = OP_TARGETS[OPS.iter().position(|o| o == name).unwrap_or_default()];
        let said = message(&r);
        assert!(
            said.contains(&from.to_lowercase()) && said.contains(&target.to_lowercase()),
            "{from} {name}: {r}"
        );
    }
    if !["PENDING", "CONFIRMED"].contains(&from) {
        let r = reschedule(app, staff, id, free_slot).await;
        assert_eq!(code(&r), "CONFLICT", "{from} reschedule: {r}");
        assert!(message(&r).contains(&from.to_lowercase()), "{r}");
    }
}

/// Moves a booking's times into the past, as time passing would (the test cannot wait an hour).
async fn started(app: &TestApp, id: &str) {
    let id: uuid::Uuid = id.parse().unwrap();
    let start = Utc::now() - Span::minutes(30);
    booking::Entity::update_many()
        .col_expr(booking::Column::StartsAt, Expr::value(start))
        .col_expr(booking::Column::EndsAt, Expr::value(start + Span::hours(1)))
        .filter(booking::Column::Id.eq(id))
        .exec(&app.state.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_whole_transition_table_holds_for_both_kinds() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let customer = app.customer("table@example.com").await;
    let unit = listed_unit(&app, &staff).await;
    let day = local_day(6);
    let free = at(day, 16, 0);
    let drive = |hour: u32| {
        let (app, customer, unit) = (&app, &customer, &unit);
        async move {
            id_of(
                &book_drive(app, customer, unit, &at(day, hour, 0)).await,
                "bookTestDrive",
            )
        }
    };

    // PENDING: staff confirm, decline or cancel; the customer only cancels.
    let b1 = drive(9).await;
    only_these_moves(
        &app,
        &staff,
        &b1,
        "PENDING",
        &["confirmBooking", "declineBooking", "cancelBooking"],
        &free,
    )
    .await;
    for name in ["confirmBooking", "declineBooking"] {
        let r = op(&app, &customer, name, &b1).await;
        assert_eq!(code(&r), "FORBIDDEN", "{name}: {r}");
    }
    assert_eq!(
        moved(&app, &staff, "confirmBooking", &b1).await,
        "CONFIRMED"
    );
    // CONFIRMED test drive: cancel, or after its start complete or no-show.
    only_these_moves(
        &app,
        &staff,
        &b1,
        "CONFIRMED",
        &["cancelBooking", "completeBooking", "markNoShow"],
        &free,
    )
    .await;
    let r = op(&app, &staff, "completeBooking", &b1).await;
    assert_eq!(code(&r), "CONFLICT", "not started yet: {r}");
    let r = op(&app, &customer, "completeBooking", &b1).await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    started(&app, &b1).await;
    assert_eq!(
        moved(&app, &staff, "completeBooking", &b1).await,
        "COMPLETED"
    );
    only_these_moves(&app, &staff, &b1, "COMPLETED", &[], &free).await;

    let b2 = drive(10).await;
    let r = app
        .gql_as(
            &staff.access,
            "mutation($id: ID!) { declineBooking(id: $id, reason: \"Car in repair\") { status } }",
            json!({ "id": b2 }),
        )
        .await;
    assert_eq!(r["data"]["declineBooking"]["status"], "DECLINED", "{r}");
    only_these_moves(&app, &staff, &b2, "DECLINED", &[], &free).await;

    let b3 = drive(11).await;
    assert_eq!(
        moved(&app, &customer, "cancelBooking", &b3).await,
        "CANCELLED"
    );
    only_these_moves(&app, &staff, &b3, "CANCELLED", &[], &free).await;

    let b4 = drive(12).await;
    op(&app, &staff, "confirmBooking", &b4).await;
    assert_eq!(moved(&app, &staff, "cancelBooking", &b4).await, "CANCELLED");

    let b5 = drive(13).await;
    op(&app, &staff, "confirmBooking", &b5).await;
    started(&app, &b5).await;
    assert_eq!(moved(&app, &staff, "markNoShow", &b5).await, "NO_SHOW");
    only_these_moves(&app, &staff, &b5, "NO_SHOW", &[], &free).await;

    // Reschedule: CONFIRMED → PENDING at the new time, every rule checked again.
    let b6 = drive(14).await;
    op(&app, &staff, "confirmBooking", &b6).await;
    drive(15).await;
    let r = reschedule(&app, &customer, &b6, &at(day, 15, 0)).await;
    assert_eq!(code(&r), "CONFLICT", "her own 15:00: {r}");
    let r = reschedule(&app, &customer, &b6, &at(day, 15, 30)).await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "off the hour: {r}");
    let r = reschedule(&app, &customer, &b6, &at(local_day(40), 10, 0)).await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "beyond the horizon: {r}");
    let r = reschedule(&app, &customer, &b6, &free).await;
    assert_eq!(r["data"]["rescheduleBooking"]["status"], "PENDING", "{r}");
    let r = app
        .gql_as(&customer.access, SLOTS, json!({ "u": unit, "d": day }))
        .await;
    let listed = r["data"]["availableTestDriveSlots"].to_string();
    assert!(
        !listed.contains(&free[..16]) && listed.contains(&at(day, 14, 0)[..16]),
        "16:00 taken, 14:00 free again: {r}"
    );

    // statusHistory: who and why, oldest first.
    let r = app
        .gql_as(&staff.access, "query($a: ID!, $b: ID!) { a: booking(id: $a) { statusHistory { from to by { id } reason } } b: booking(id: $b) { statusHistory { from to reason } } }", json!({ "a": b1, "b": b2 }))
        .await;
    assert_eq!(
        r["data"]["a"]["statusHistory"],
        json!([
            { "from": null, "to": "PENDING", "by": { "id": customer.id }, "reason": null },
            { "from": "PENDING", "to": "CONFIRMED", "by": { "id": staff.id }, "reason": null },
            { "from": "CONFIRMED", "to": "COMPLETED", "by": { "id": staff.id }, "reason": null },
        ]),
        "{r}"
    );
    assert_eq!(
        r["data"]["b"]["statusHistory"][1]["reason"], "Car in repair",
        "{r}"
    );

    // Service appointments: CONFIRMED → IN_PROGRESS → COMPLETED; no completing straight away.
    let (location, services) = workshop_setup(&app, &staff, 3).await;
    let own = app.create_unit(&customer.access, json!({})).await;
    let appointment = |hour: u32| {
        let (app, customer, own, location, services) =
            (&app, &customer, &own, &location, &services);
        async move {
            let r = app
                .gql_as(&customer.access, BOOK_SERVICE, json!({ "i": { "unitId": own, "locationId": location, "startsAt": at(day, hour, 0), "serviceIds": [services[0]] } }))
                .await;
            id_of(&r, "bookServiceAppointment")
        }
    };
    let free = at(day, 17, 0);
    let c1 = appointment(8).await;
    only_these_moves(
        &app,
        &staff,
        &c1,
        "PENDING",
        &["confirmBooking", "declineBooking", "cancelBooking"],
        &free,
    )
    .await;
    op(&app, &staff, "confirmBooking", &c1).await;
    only_these_moves(
        &app,
        &staff,
        &c1,
        "CONFIRMED",
        &["cancelBooking", "startBooking"],
        &free,
    )
    .await;
    let r = op(&app, &customer, "startBooking", &c1).await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    assert_eq!(
        moved(&app, &staff, "startBooking", &c1).await,
        "IN_PROGRESS",
        "before its start"
    );
    only_these_moves(
        &app,
        &staff,
        &c1,
        "IN_PROGRESS",
        &["completeBooking"],
        &free,
    )
    .await;
    assert_eq!(
        moved(&app, &staff, "completeBooking", &c1).await,
        "COMPLETED"
    );
    only_these_moves(&app, &staff, &c1, "COMPLETED", &[], &free).await;
    let c2 = appointment(10).await;
    assert_eq!(moved(&app, &staff, "declineBooking", &c2).await, "DECLINED");
    let c3 = appointment(11).await;
    assert_eq!(
        moved(&app, &customer, "cancelBooking", &c3).await,
        "CANCELLED"
    );
    let c4 = appointment(12).await;
    op(&app, &staff, "confirmBooking", &c4).await;
    let r = app
        .gql_as(
            &staff.access,
            "mutation($id: ID!) { cancelBooking(id: $id) { status serviceRecord { status } } }",
            json!({ "id": c4 }),
        )
        .await;
    assert_eq!(
        r["data"]["cancelBooking"]["serviceRecord"]["status"], "CANCELLED",
        "{r}"
    );
}

async fn kinds_for(app: &TestApp, who: &Actor) -> Vec<String> {
    let r = app
        .gql_as(
            &who.access,
            "{ notifications(first: 50) { edges { node { kind subjectType } } } }",
            json!({}),
        )
        .await;
    r["data"]["notifications"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|e| {
            assert_eq!(e["node"]["subjectType"], "Booking", "{e}");
            e["node"]["kind"].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

#[tokio::test]
async fn each_change_notifies_the_other_side_and_a_sale_cancels_test_drives() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let unit = listed_unit(&app, &staff).await;
    let fay = app.customer("fay@example.com").await;
    let gus = app.customer("gus@example.com").await;
    let day = local_day(7);

    let b = id_of(
        &book_drive(&app, &fay, &unit, &at(day, 9, 0)).await,
        "bookTestDrive",
    );
    assert_eq!(kinds_for(&app, &staff).await, ["BOOKING_CREATED"]);
    assert!(
        kinds_for(&app, &fay).await.is_empty(),
        "nobody tells her what she did"
    );
    op(&app, &staff, "confirmBooking", &b).await;
    reschedule(&app, &staff, &b, &at(day, 10, 0)).await;
    reschedule(&app, &fay, &b, &at(day, 11, 0)).await;
    op(&app, &fay, "cancelBooking", &b).await;
    assert_eq!(
        kinds_for(&app, &fay).await,
        ["BOOKING_RESCHEDULED", "BOOKING_CONFIRMED"],
        "newest first"
    );
    assert_eq!(
        kinds_for(&app, &staff).await,
        [
            "BOOKING_CANCELLED",
            "BOOKING_RESCHEDULED",
            "BOOKING_CREATED"
        ]
    );
    let b = id_of(
        &book_drive(&app, &fay, &unit, &at(day, 12, 0)).await,
        "bookTestDrive",
    );
    op(&app, &staff, "declineBooking", &b).await;
    let b = id_of(
        &book_drive(&app, &fay, &unit, &at(day, 13, 0)).await,
        "bookTestDrive",
    );
    op(&app, &staff, "cancelBooking", &b).await;
    assert_eq!(
        kinds_for(&app, &fay).await[..2],
        ["BOOKING_CANCELLED", "BOOKING_DECLINED"]
    );

    // A sale cancels the unit's future test drives, each customer told.
    let f = id_of(
        &book_drive(&app, &fay, &unit, &at(day, 14, 0)).await,
        "bookTestDrive",
    );
    let g = id_of(
        &book_drive(&app, &gus, &unit, &at(day, 15, 0)).await,
        "bookTestDrive",
    );
    op(&app, &staff, "confirmBooking", &g).await;
    let r = app
        .gql_as(&staff.access, "mutation($u: ID!) { recordSale(input: { unitId: $u, price: \"20000\", soldOn: \"2026-01-01\", buyerName: \"B\", paymentMethod: CASH }) { id } }", json!({ "u": unit }))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    for (who, id) in [(&fay, &f), (&gus, &g)] {
        let r = app
            .gql_as(&who.access, "query($id: ID!) { booking(id: $id) { status unit { id status } statusHistory { to reason } } }", json!({ "id": id }))
            .await;
        let b = &r["data"]["booking"];
        assert_eq!(b["status"], "CANCELLED", "{r}");
        assert_eq!(
            b["unit"]["status"], "SOLD",
            "still readable through the booking: {r}"
        );
        let history = b["statusHistory"].as_array().unwrap();
        assert_eq!(
            history.last().unwrap()["reason"],
            "The vehicle has been sold."
        );
        assert_eq!(kinds_for(&app, who).await[0], "BOOKING_CANCELLED");
    }

    // A support room about one's own booking; not about another's.
    let r = app
        .gql_as(&fay.access, "mutation($id: ID!) { openSupportRoom(input: { title: \"My test drive\", subjectType: BOOKING, subjectId: $id }) { subject { __typename ... on Booking { id status } } } }", json!({ "id": f }))
        .await;
    assert_eq!(
        r["data"]["openSupportRoom"]["subject"],
        json!({ "__typename": "Booking", "id": f, "status": "CANCELLED" }),
        "{r}"
    );
    let r = app
        .gql_as(&gus.access, "mutation($id: ID!) { openSupportRoom(input: { title: \"Hers\", subjectType: BOOKING, subjectId: $id }) { id } }", json!({ "id": f }))
        .await;
    assert!(r["errors"].is_array(), "{r}");
}

async fn system_notices(app: &TestApp, who: &Actor) -> usize {
    let r = app
        .gql_as(
            &who.access,
            "{ notifications(first: 50) { edges { node { kind body } } } }",
            json!({}),
        )
        .await;
    r["data"]["notifications"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .filter(|e| e["node"]["kind"] == "SYSTEM")
        .count()
}

/// Waits until `who` holds `n` SYSTEM notices (ten seconds at most).
async fn await_reminders(app: &TestApp, who: &Actor, n: usize) {
    for _ in 0..100 {
        if system_notices(app, who).await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no reminder arrived");
}

/// The soonest free test-drive slot (always less than 24 hours away: the hours run every day).
async fn soonest(app: &TestApp, who: &Actor, unit: &str) -> String {
    for days in 0..2 {
        let r = app
            .gql_as(
                &who.access,
                SLOTS,
                json!({ "u": unit, "d": local_day(days) }),
            )
            .await;
        if let Some(first) = r["data"]["availableTestDriveSlots"][0]["startsAt"].as_str() {
            return first.to_string();
        }
    }
    panic!("no slot today or tomorrow");
}

#[tokio::test]
async fn the_reminder_is_sent_once_across_a_restart_and_across_two_instances() {
    let mut first = TestApp::spawn_with(&[("BOOKING_REMINDER_SWEEP_MS", "3600000")]).await;
    let admin = first.admin().await;
    let staff = first.staff(&admin).await;
    let unit = listed_unit(&first, &staff).await;
    let hal = first.customer("hal@example.com").await;
    let starts_at = soonest(&first, &hal, &unit).await;
    let b = id_of(
        &book_drive(&first, &hal, &unit, &starts_at).await,
        "bookTestDrive",
    );
    op(&first, &staff, "confirmBooking", &b).await;
    // Due now (less than 24 hours ahead), but this instance sweeps once an hour: nothing yet.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(system_notices(&first, &hal).await, 0);

    // The server goes down; the next one sends what fell due meanwhile, once.
    first.stop();
    let fast = [("BOOKING_REMINDER_SWEEP_MS", "50")];
    let second = first.spawn_beside(&fast).await;
    await_reminders(&second, &hal, 1).await;
    let mut second = second;
    second.stop();
    let third = first.spawn_beside(&fast).await;
    let fourth = first.spawn_beside(&fast).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        system_notices(&third, &hal).await,
        1,
        "not again after a restart"
    );

    // Two instances sweeping the same database: one reminder.
    let ida = third.customer("ida@example.com").await;
    let starts_at = soonest(&third, &ida, &unit).await;
    let b = id_of(
        &book_drive(&third, &ida, &unit, &starts_at).await,
        "bookTestDrive",
    );
    op(&fourth, &staff, "confirmBooking", &b).await;
    await_reminders(&third, &ida, 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        system_notices(&fourth, &ida).await,
        1,
        "one reminder for two instances"
    );
    let r = third
        .gql_as(
            &ida.access,
            "{ notifications(first: 1) { edges { node { title body subjectId } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r["data"]["notifications"]["edges"][0]["node"]["subjectId"], b,
        "{r}"
    );
    assert!(r["data"]["notifications"]["edges"][0]["node"]["body"]
        .as_str()
        .unwrap_or_default()
        .contains("Europe/Berlin"));
}

#[tokio::test]
async fn filters_count_as_the_data_says_and_the_statistics_add_up() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let jo = app.customer("jo.filters@example.com").await;
    let kim = app.customer("kim.filters@example.com").await;
    let r = app
        .gql_as(
            &kim.access,
            "mutation { updateProfile(input: { phone: \"+4915112345678\" }) { id } }",
            json!({}),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let unit_a = listed_unit(&app, &staff).await;
    let unit_b = app
        .create_unit(
            &staff.access,
            json!({ "isListed": true, "listPrice": "9000", "licensePlate": "B-XY 123" }),
        )
        .await;
    let (location, services) = workshop_setup(&app, &staff, 3).await;
    let kims = app.create_unit(&kim.access, json!({})).await;
    let day = local_day(8);

    // (kind, customer, unit, status after the moves)
    let mut rows: Vec<(&str, &str, String, &str)> = Vec::new();
    for (who, unit, hour, moves) in [
        (&jo, &unit_a, 9, vec!["confirmBooking"]),
        (&jo, &unit_b, 10, vec![]),
        (&kim, &unit_a, 11, vec!["declineBooking"]),
        (&kim, &unit_b, 12, vec!["confirmBooking", "cancelBooking"]),
    ] {
        let b = id_of(
            &book_drive(&app, who, unit, &at(day, hour, 0)).await,
            "bookTestDrive",
        );
        let mut status = "PENDING";
        for m in &moves {
            status = match moved(&app, &staff, m, &b).await.as_str() {
                "CONFIRMED" => "CONFIRMED",
                "DECLINED" => "DECLINED",
                _ => "CANCELLED",
            };
        }
        rows.push(("TEST_DRIVE", &who.id, unit.clone(), status));
    }
    for (hour, moves) in [(8, vec!["confirmBooking", "startBooking"]), (9, vec![])] {
        let r = app
            .gql_as(&kim.access, BOOK_SERVICE, json!({ "i": { "unitId": kims, "locationId": location, "startsAt": at(day, hour, 0), "serviceIds": services } }))
            .await;
        let b = id_of(&r, "bookServiceAppointment");
        for m in &moves {
            op(&app, &staff, m, &b).await;
        }
        let status = if moves.is_empty() {
            "PENDING"
        } else {
            "IN_PROGRESS"
        };
        rows.push(("SERVICE_APPOINTMENT", &kim.id, kims.clone(), status));
    }

    let count = |r: &Value| {
        r["data"]["bookings"]["totalCount"]
            .as_i64()
            .unwrap_or_else(|| panic!("{r}"))
    };
    let cases: Vec<(Value, usize)> = vec![
        (json!({}), rows.len()),
        (
            json!({ "kinds": ["SERVICE_APPOINTMENT"] }),
            rows.iter().filter(|r| r.0 == "SERVICE_APPOINTMENT").count(),
        ),
        (
            json!({ "statuses": ["PENDING", "CONFIRMED"] }),
            rows.iter()
                .filter(|r| r.3 == "PENDING" || r.3 == "CONFIRMED")
                .count(),
        ),
        (
            json!({ "customerId": kim.id }),
            rows.iter().filter(|r| r.1 == kim.id).count(),
        ),
        (
            json!({ "unitId": unit_a }),
            rows.iter().filter(|r| r.2 == unit_a).count(),
        ),
        (json!({ "locationId": location }), 2),
        (json!({ "from": at(day, 10, 0), "to": at(day, 12, 0) }), 2),
        (
            json!({ "search": "JO.FILTERS" }),
            rows.iter().filter(|r| r.1 == jo.id).count(),
        ),
        (
            json!({ "search": "12345678" }),
            rows.iter().filter(|r| r.1 == kim.id).count(),
        ),
        (
            json!({ "search": "b-xy 1" }),
            rows.iter().filter(|r| r.2 == unit_b).count(),
        ),
        (
            json!({ "kinds": ["TEST_DRIVE"], "customerId": jo.id, "statuses": ["CONFIRMED"] }),
            1,
        ),
    ];
    for (filter, expected) in cases {
        let r = app
            .gql_as(&staff.access, "query($f: BookingFilter) { bookings(filter: $f, first: 100) { totalCount edges { node { id } } } }", json!({ "f": filter }))
            .await;
        assert_eq!(count(&r) as usize, expected, "{filter}: {r}");
        assert_eq!(
            r["data"]["bookings"]["edges"].as_array().map(Vec::len),
            Some(expected)
        );
    }
    let r = app
        .gql_as(
            &jo.access,
            "{ bookings(first: 5) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "staff only: {r}");
    let r = app
        .gql_as(
            &jo.access,
            "{ myBookings(first: 10) { totalCount edges { node { startsAt } } } }",
            json!({}),
        )
        .await;
    assert_eq!(r["data"]["myBookings"]["totalCount"], 2, "{r}");

    let r = app
        .gql_as(&staff.access, "query($d: NaiveDate!) { bookingStats(from: $d, to: $d) { total byStatus { status count } byKind { kind count } noShowRate averageLeadTimeHours busiestHours { hour count } } }", json!({ "d": day }))
        .await;
    let s = &r["data"]["bookingStats"];
    let sum = |list: &Value| -> i64 {
        list.as_array()
            .unwrap_or_else(|| panic!("{r}"))
            .iter()
            .map(|x| x["count"].as_i64().unwrap_or(0))
            .sum()
    };
    assert_eq!(s["total"], rows.len() as i64, "{r}");
    assert_eq!(sum(&s["byStatus"]), rows.len() as i64);
    assert_eq!(sum(&s["byKind"]), rows.len() as i64);
    assert_eq!(sum(&s["busiestHours"]), rows.len() as i64);
    assert_eq!(
        s["byStatus"][0],
        json!({ "status": "PENDING", "count": 2 }),
        "most first: {r}"
    );
    assert_eq!(
        s["busiestHours"][0],
        json!({ "hour": 9, "count": 2 }),
        "{r}"
    );
    assert_eq!(s["noShowRate"], 0.0);
    let lead = s["averageLeadTimeHours"].as_f64().unwrap_or_default();
    assert!(
        lead > 24.0 * 7.0 && lead < 24.0 * 9.0,
        "booked about eight days ahead: {r}"
    );

    // Confirmed 3 (two drives, one appointment), started 1, declined and cancelled do not count.
    let r = app
        .gql_as(
            &admin.access,
            "query($u: ID!) { staffMetrics(userId: $u) { bookingsHandled } }",
            json!({ "u": staff.id }),
        )
        .await;
    assert_eq!(r["data"]["staffMetrics"]["bookingsHandled"], 4, "{r}");
}

const NESTED: &str = "query($n: Int!) { bookings(first: $n) { edges { node { customer { id } unit { owner { id } }
  services { code } location { name openingHours { weekday } } serviceRecord { status } handledBy { id }
  amountPaid paymentStatus payments { amount status } } } } }";

#[tokio::test]
async fn nested_bookings_cost_the_same_statements_for_5_and_50() {
    let app =
        TestApp::spawn_with(&[("DATALOADER_DELAY_MS", "25"), ("SESSION_CACHE_MS", "0")]).await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let (location, services) = workshop_setup(&app, &staff, 10).await;
    let owner = app.customer("nested.bookings@example.com").await;
    let units: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..5 {
            v.push(app.create_unit(&owner.access, json!({})).await);
        }
        v
    };
    let day = local_day(9);
    for i in 0..50u32 {
        let r = app
            .gql_as(
                &owner.access,
                BOOK_SERVICE,
                json!({ "i": { "unitId": units[(i % 5) as usize], "locationId": location,
                "startsAt": at(day, 8 + i / 10, 0), "serviceIds": [services[0]] } }),
            )
            .await;
        let b = id_of(&r, "bookServiceAppointment");
        if i % 2 == 0 {
            op(&app, &staff, "confirmBooking", &b).await;
        }
        if i % 3 == 0 {
            let r = app
                .gql_as(&staff.access, "mutation($b: ID!) { recordPayment(input: { bookingId: $b, amount: \"10\", method: CASH }) { id } }", json!({ "b": b }))
                .await;
            assert!(r["errors"].is_null(), "{r}");
        }
    }
    app.gql_as(&admin.access, "{ me { id } }", json!({})).await;
    let mut counts = Vec::new();
    for n in [5, 50] {
        let mut fewest = u64::MAX;
        for _ in 0..3 {
            let before = app.state.metrics.statements();
            let r = app.gql_as(&staff.access, NESTED, json!({ "n": n })).await;
            let after = app.state.metrics.statements();
            let edges = r["data"]["bookings"]["edges"]
                .as_array()
                .unwrap_or_else(|| panic!("{r}"));
            assert_eq!(edges.len(), n);
            assert!(edges
                .iter()
                .all(|e| e["node"]["unit"]["owner"]["id"] == owner.id.as_str()
                    && e["node"]["services"][0]["code"] == "OIL"
                    && e["node"]["location"]["openingHours"][0]["weekday"] == 1));
            assert!(edges
                .iter()
                .any(|e| e["node"]["serviceRecord"]["status"] == "SCHEDULED"
                    && e["node"]["handledBy"]["id"] == staff.id.as_str()));
            assert!(edges
                .iter()
                .any(|e| e["node"]["paymentStatus"] == "PARTIALLY_PAID"
                    && e["node"]["amountPaid"] == "10.00"
                    && e["node"]["payments"][0]["amount"] == "10.00"));
            fewest = fewest.min(after - before);
        }
        counts.push(fewest);
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 5 and 50 bookings: {counts:?}"
    );
}
