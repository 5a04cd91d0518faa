//! Offers and membership plans: which offers a viewer sees (tier, make, distance, dates), who
//! may write them and how their input is checked, and how they price service appointments.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::bookings::{at, id_of, local_day, workshop_setup, BOOK_SERVICE};
use crate::common::{code, field, Actor, TestApp};

const CREATE: &str = "mutation($i: OfferInput!) { createOffer(input: $i) { id title discountKind discountValue eligibleTiers makes locations { id } isActive } }";
const OFFERS: &str = "query($v: ID, $lat: Float, $lon: Float, $r: Float) { offers(vehicleId: $v, latitude: $lat, longitude: $lon, radiusKm: $r) { title } }";

const BERLIN: (f64, f64) = (52.5200, 13.4050);

fn days(n: i64) -> String {
    (Utc::now() + Duration::days(n)).to_rfc3339()
}

/// An offer valid from yesterday for 30 days, 10% off, with `extra` fields on top.
fn offer(title: &str, extra: Value) -> Value {
    let mut input = json!({
        "title": title, "description": "A fine offer.", "discountKind": "PERCENT",
        "discountValue": "10", "startsAt": days(-1), "expiresAt": days(30)
    });
    if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            i.insert(k.clone(), v.clone());
        }
    }
    input
}

async fn create(app: &TestApp, staff: &Actor, input: Value) -> String {
    let r = app
        .gql_as(&staff.access, CREATE, json!({ "i": input }))
        .await;
    id_of(&r, "createOffer")
}

async fn location(app: &TestApp, staff: &Actor, name: &str, (lat, lon): (f64, f64)) -> String {
    let r = app
        .gql_as(
            &staff.access,
            "mutation($i: ServiceLocationInput!) { createServiceLocation(input: $i) { id } }",
            json!({ "i": {
            "name": name, "address": name, "latitude": lat, "longitude": lon,
            "timezone": "Europe/Berlin", "bays": 1 } }),
        )
        .await;
    id_of(&r, "createServiceLocation")
}

async fn set_tier(app: &TestApp, staff: &Actor, who: &Actor, tier: &str) {
    let r = app
        .gql_as(
            &staff.access,
            "mutation($u: ID!, $t: MembershipTier!) { setMembershipTier(userId: $u, tier: $t) { membershipTier } }",
            json!({ "u": who.id, "t": tier }),
        )
        .await;
    assert_eq!(
        r["data"]["setMembershipTier"]["membershipTier"], tier,
        "{r}"
    );
}

fn titles(r: &Value) -> Vec<String> {
    let mut t: Vec<String> = r["data"]["offers"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|o| o["title"].as_str().unwrap_or_default().to_string())
        .collect();
    t.sort();
    t
}

#[tokio::test]
async fn offers_show_what_the_viewer_may_use_by_tier_make_distance_and_dates() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let alice = app.customer("alice-offers@example.com").await;
    let bob = app.customer("bob-offers@example.com").await;
    set_tier(&app, &staff, &alice, "PLUS").await;
    let toyota = app
        .create_unit(&alice.access, json!({ "make": "Toyota" }))
        .await;
    let bobs = app
        .create_unit(&bob.access, json!({ "make": "Honda" }))
        .await;
    // Hamburg is 255 km from Berlin, Potsdam 27 km (great-circle).
    let hamburg = location(&app, &staff, "Hamburg", (53.5511, 9.9937)).await;
    let potsdam = location(&app, &staff, "Potsdam", (52.3906, 13.0645)).await;

    for input in [
        offer("everyone", json!({})),
        offer("plus", json!({ "eligibleTiers": ["PLUS", "PREMIUM"] })),
        offer("basic", json!({ "eligibleTiers": ["BASIC"] })),
        offer("toyota", json!({ "makes": ["TOYOTA"] })),
        offer("bmw", json!({ "makes": ["bmw", "Mini"] })),
        offer("hamburg", json!({ "locationIds": [hamburg] })),
        offer("potsdam", json!({ "locationIds": [potsdam] })),
        offer(
            "future",
            json!({ "startsAt": days(1), "expiresAt": days(5) }),
        ),
        offer(
            "expired",
            json!({ "startsAt": days(-10), "expiresAt": days(-1) }),
        ),
        offer("inactive", json!({ "isActive": false })),
    ] {
        create(&app, &staff, input).await;
    }

    let near = |lat: f64, lon: f64, r: Option<f64>| json!({ "lat": lat, "lon": lon, "r": r });
    let all_places = ["everyone", "hamburg", "potsdam", "toyota", "bmw"];
    let cases: Vec<(&str, &Actor, Value, Vec<&str>)> = vec![
        // No vehicle, no position: tier and dates decide.
        (
            "alice, nothing given",
            &alice,
            json!({}),
            [&all_places[..], &["plus"]].concat(),
        ),
        ("bob, nothing given", &bob, json!({}), all_places.to_vec()),
        // A vehicle: its make among the offer's makes (any case), or no makes.
        (
            "alice's Toyota",
            &alice,
            json!({ "v": toyota }),
            vec!["everyone", "hamburg", "plus", "potsdam", "toyota"],
        ),
        (
            "bob's Honda",
            &bob,
            json!({ "v": bobs }),
            vec!["everyone", "hamburg", "potsdam"],
        ),
        // A position: a location within the radius (default 50 km), or no locations.
        (
            "Berlin, 50 km",
            &bob,
            near(BERLIN.0, BERLIN.1, None),
            vec!["bmw", "everyone", "potsdam", "toyota"],
        ),
        (
            "Berlin, 250 km",
            &bob,
            near(BERLIN.0, BERLIN.1, Some(250.0)),
            vec!["bmw", "everyone", "potsdam", "toyota"],
        ),
        (
            "Berlin, 260 km",
            &bob,
            near(BERLIN.0, BERLIN.1, Some(260.0)),
            vec!["bmw", "everyone", "hamburg", "potsdam", "toyota"],
        ),
        (
            "Berlin, 20 km",
            &bob,
            near(BERLIN.0, BERLIN.1, Some(20.0)),
            vec!["bmw", "everyone", "toyota"],
        ),
    ];
    for (name, who, vars, expected) in cases {
        let r = app.gql_as(&who.access, OFFERS, vars).await;
        let mut expected: Vec<String> = expected.into_iter().map(String::from).collect();
        expected.sort();
        assert_eq!(titles(&r), expected, "{name}: {r}");
    }
    // Signed out: tier NONE.
    let r = app.gql(OFFERS, json!({})).await;
    assert_eq!(titles(&r), {
        let mut e: Vec<String> = all_places.iter().map(|s| s.to_string()).collect();
        e.sort();
        e
    });
    // Another customer's vehicle, or none at all.
    let r = app
        .gql_as(&alice.access, OFFERS, json!({ "v": bobs }))
        .await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");
    let r = app
        .gql_as(&alice.access, OFFERS, json!({ "v": uuid::Uuid::now_v7() }))
        .await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");
    // Staff may ask for any vehicle.
    let r = app
        .gql_as(&staff.access, OFFERS, json!({ "v": bobs }))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    // Half a position, or a radius without one.
    let r = app
        .gql_as(&bob.access, OFFERS, json!({ "lat": 52.5 }))
        .await;
    assert_eq!(
        (code(&r), field(&r)),
        ("BAD_USER_INPUT", "longitude"),
        "{r}"
    );
    let r = app.gql_as(&bob.access, OFFERS, json!({ "r": 10.0 })).await;
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "radiusKm"), "{r}");
    // A location an offer names is not deleted from under it.
    let r = app
        .gql_as(
            &admin.access,
            "mutation($l: ID!) { deleteServiceLocation(id: $l) }",
            json!({ "l": hamburg }),
        )
        .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
}

#[tokio::test]
async fn offers_are_checked_with_the_field_named_and_only_staff_write_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let alice = app.customer("alice-offer-input@example.com").await;

    let refused = [
        (json!({ "discountValue": "100.5" }), "discountValue"),
        (json!({ "discountValue": "-1" }), "discountValue"),
        (json!({ "expiresAt": days(-2) }), "expiresAt"),
        (
            json!({ "locationIds": [uuid::Uuid::now_v7()] }),
            "locationIds",
        ),
        (json!({ "locationIds": ["not-an-id"] }), "locationIds.0"),
        (json!({ "title": "  " }), "title"),
        (json!({ "makes": ["BMW", ""] }), "makes.1"),
    ];
    for (extra, name) in refused {
        let r = app
            .gql_as(
                &staff.access,
                CREATE,
                json!({ "i": offer("bad", extra.clone()) }),
            )
            .await;
        assert_eq!(
            (code(&r), field(&r)),
            ("BAD_USER_INPUT", name),
            "{extra}: {r}"
        );
    }
    // An amount may exceed 100.
    let id = create(
        &app,
        &staff,
        offer("amount", json!({ "discountKind": "AMOUNT", "discountValue": "250", "makes": ["bmw", "BMW", "Mini"] })),
    )
    .await;
    let r = app.gql_as(&staff.access, "query { allOffers(first: 5) { totalCount edges { node { id discountValue makes eligibleTiers } } } }", json!({})).await;
    assert_eq!(r["data"]["allOffers"]["totalCount"], 1, "{r}");
    assert_eq!(
        r["data"]["allOffers"]["edges"][0]["node"],
        json!({ "id": id, "discountValue": "250.00", "makes": ["bmw", "Mini"], "eligibleTiers": [] })
    );
    // Nothing was stored by the refusals.
    let r = app
        .gql_as(
            &staff.access,
            "query { allOffers { edges { node { title } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r["data"]["allOffers"]["edges"].as_array().map(Vec::len),
        Some(1)
    );

    // Customers neither list, create, change nor delete.
    let update = "mutation($id: ID!, $i: OfferInput!) { updateOffer(id: $id, input: $i) { title makes isActive } }";
    for (query, vars) in [
        ("query { allOffers { totalCount } }", json!({})),
        (CREATE, json!({ "i": offer("mine", json!({})) })),
        (update, json!({ "id": id, "i": offer("mine", json!({})) })),
        (
            "mutation($id: ID!) { deleteOffer(id: $id) }",
            json!({ "id": id }),
        ),
    ] {
        let r = app.gql_as(&alice.access, query, vars).await;
        assert_eq!(code(&r), "FORBIDDEN", "{query}: {r}");
        let r = app
            .gql(query, json!({ "id": id, "i": offer("x", json!({})) }))
            .await;
        assert_eq!(code(&r), "UNAUTHENTICATED", "{query}: {r}");
    }
    // Staff change it (lists left out stay) and delete it.
    let r = app
        .gql_as(
            &staff.access,
            update,
            json!({ "id": id, "i": offer("renamed", json!({ "isActive": false })) }),
        )
        .await;
    assert_eq!(
        r["data"]["updateOffer"],
        json!({ "title": "renamed", "makes": ["bmw", "Mini"], "isActive": false }),
        "{r}"
    );
    let r = app
        .gql_as(
            &staff.access,
            update,
            json!({ "id": id, "i": offer("renamed", json!({ "expiresAt": days(-3) })) }),
        )
        .await;
    assert_eq!(
        (code(&r), field(&r)),
        ("BAD_USER_INPUT", "expiresAt"),
        "{r}"
    );
    let delete = "mutation($id: ID!) { deleteOffer(id: $id) }";
    let r = app.gql_as(&staff.access, delete, json!({ "id": id })).await;
    assert_eq!(r["data"]["deleteOffer"], true, "{r}");
    let r = app.gql_as(&staff.access, delete, json!({ "id": id })).await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");
}

const PRICE: &str = "query($id: ID!) { booking(id: $id) { estimatedPrice offerDiscount planDiscount offerTitle offer { id title } } }";

#[tokio::test]
async fn an_appointment_takes_the_best_offer_then_the_plan_discount_and_keeps_its_price() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let alice = app.customer("alice-priced@example.com").await;
    set_tier(&app, &staff, &alice, "PLUS").await;
    // Plans exist for every tier from the first start; PLUS takes 10%.
    let r = app
        .gql(
            "query { membershipPlans { tier discountPercent monthlyPrice benefits name } }",
            json!({}),
        )
        .await;
    let plans = r["data"]["membershipPlans"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"));
    let tiers: Vec<&str> = plans.iter().filter_map(|p| p["tier"].as_str()).collect();
    assert_eq!(tiers, ["NONE", "BASIC", "PLUS", "PREMIUM"]);
    assert_eq!(plans[0]["discountPercent"], "0.00");
    assert_eq!(plans[2]["discountPercent"], "10.00");

    let (mitte, services) = workshop_setup(&app, &staff, 3).await;
    let elsewhere = location(&app, &staff, "Elsewhere", (48.1351, 11.5820)).await;
    let corolla = app.create_unit(&alice.access, json!({})).await;
    // OIL for a Toyota Corolla 170.00 + WASH 50.00 = 220.00.
    let ten_percent = create(&app, &staff, offer("ten percent", json!({}))).await;
    let thirty = create(&app, &staff, offer("thirty off", json!({ "discountKind": "AMOUNT", "discountValue": "30", "makes": ["toyota"], "locationIds": [mitte] }))).await;
    for input in [
        offer(
            "basic half",
            json!({ "discountValue": "50", "eligibleTiers": ["BASIC"] }),
        ),
        offer(
            "elsewhere",
            json!({ "discountKind": "AMOUNT", "discountValue": "100", "locationIds": [elsewhere] }),
        ),
        offer("bmw", json!({ "discountValue": "60", "makes": ["BMW"] })),
        // Over by the appointment's start.
        offer(
            "ends soon",
            json!({ "discountValue": "70", "expiresAt": (Utc::now() + Duration::hours(1)).to_rfc3339() }),
        ),
    ] {
        create(&app, &staff, input).await;
    }
    let book = |hour: u32| {
        app.gql_as(
            &alice.access,
            BOOK_SERVICE,
            json!({ "i": { "unitId": corolla, "locationId": mitte, "startsAt": at(local_day(3), hour, 0), "serviceIds": services } }),
        )
    };
    let r = book(9).await;
    let booking = id_of(&r, "bookServiceAppointment");
    // 220.00 − 30.00 (the best offer) = 190.00; − 10% plan = 171.00.
    assert_eq!(
        r["data"]["bookServiceAppointment"]["estimatedPrice"], "171.00",
        "{r}"
    );
    let r = app
        .gql_as(&alice.access, PRICE, json!({ "id": booking }))
        .await;
    assert_eq!(
        r["data"]["booking"],
        json!({ "estimatedPrice": "171.00", "offerDiscount": "30.00", "planDiscount": "19.00",
                "offerTitle": "thirty off", "offer": { "id": thirty, "title": "thirty off" } }),
        "{r}"
    );
    // The offer's deletion leaves the price, and which offer it was.
    let r = app
        .gql_as(
            &staff.access,
            "mutation($id: ID!) { deleteOffer(id: $id) }",
            json!({ "id": thirty }),
        )
        .await;
    assert_eq!(r["data"]["deleteOffer"], true, "{r}");
    let r = app
        .gql_as(&alice.access, PRICE, json!({ "id": booking }))
        .await;
    assert_eq!(r["data"]["booking"]["estimatedPrice"], "171.00", "{r}");
    assert_eq!(r["data"]["booking"]["offerTitle"], "thirty off", "{r}");
    assert!(r["data"]["booking"]["offer"].is_null(), "{r}");

    // Now 10% is best: 220.00 − 22.00 = 198.00; − 19.80 = 178.20.
    let r = book(11).await;
    let second = id_of(&r, "bookServiceAppointment");
    let r = app
        .gql_as(&alice.access, PRICE, json!({ "id": second }))
        .await;
    assert_eq!(r["data"]["booking"]["estimatedPrice"], "178.20", "{r}");
    assert_eq!(
        r["data"]["booking"]["offer"]["id"],
        ten_percent.as_str(),
        "{r}"
    );

    // An admin changes the plan; only an admin may.
    let plan = "mutation($i: MembershipPlanInput!) { updateMembershipPlan(tier: PLUS, input: $i) { discountPercent benefits } }";
    let input = json!({ "i": { "name": "Plus", "monthlyPrice": "19.99", "benefits": ["Half off"], "discountPercent": "50" } });
    let r = app.gql_as(&staff.access, plan, input.clone()).await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let r = app
        .gql_as(&admin.access, plan, json!({ "i": { "name": "Plus", "monthlyPrice": "19.99", "benefits": [], "discountPercent": "101" } }))
        .await;
    assert_eq!(
        (code(&r), field(&r)),
        ("BAD_USER_INPUT", "discountPercent"),
        "{r}"
    );
    let r = app.gql_as(&admin.access, plan, input).await;
    assert_eq!(
        r["data"]["updateMembershipPlan"]["benefits"],
        json!(["Half off"]),
        "{r}"
    );

    // Never below zero: 500.00 off 220.00 leaves 0.00, and the plan takes nothing more.
    create(
        &app,
        &staff,
        offer(
            "huge",
            json!({ "discountKind": "AMOUNT", "discountValue": "500" }),
        ),
    )
    .await;
    let r = book(13).await;
    let third = id_of(&r, "bookServiceAppointment");
    let r = app
        .gql_as(&alice.access, PRICE, json!({ "id": third }))
        .await;
    assert_eq!(r["data"]["booking"]["estimatedPrice"], "0.00", "{r}");
    assert_eq!(r["data"]["booking"]["offerDiscount"], "220.00", "{r}");
    assert_eq!(r["data"]["booking"]["planDiscount"], "0.00", "{r}");
    // The first booking still has its price.
    let r = app
        .gql_as(&alice.access, PRICE, json!({ "id": booking }))
        .await;
    assert_eq!(r["data"]["booking"]["estimatedPrice"], "171.00", "{r}");
    // Rescheduling prices again: the second booking now takes the 500.00 offer.
    let r = app
        .gql_as(
            &alice.access,
            "mutation($id: ID!, $s: DateTime!) { rescheduleBooking(id: $id, startsAt: $s) { estimatedPrice offerTitle offerDiscount planDiscount } }",
            json!({ "id": second, "s": at(local_day(4), 9, 0) }),
        )
        .await;
    assert_eq!(
        r["data"]["rescheduleBooking"],
        json!({ "estimatedPrice": "0.00", "offerTitle": "huge", "offerDiscount": "220.00", "planDiscount": "0.00" }),
        "{r}"
    );
}
