//! Telemetry: dongles linked one to one with units, batches of samples (duplicates skipped,
//! mileage raised), range pages oldest first, and the summary computed by the database.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::bookings::id_of;
use crate::common::{code, field, TestApp};

const LINK: &str = "mutation($u: ID!, $d: String!, $c: DongleConnection!) { linkDongle(unitId: $u, dongleId: $d, connectionType: $c) { id dongleId connectionType linkedAt lastSampleAt } }";
const UNLINK: &str = "mutation($u: ID!) { unlinkDongle(unitId: $u) }";
const INGEST: &str = "mutation($d: String!, $s: [TelemetrySampleInput!]!) { ingestTelemetry(dongleId: $d, samples: $s) { accepted duplicates mileage } }";

#[tokio::test]
async fn a_dongle_links_to_one_unit_and_a_unit_to_one_dongle() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let alice = app.customer("alice-dongle@example.com").await;
    let bob = app.customer("bob-dongle@example.com").await;
    let car = app.create_unit(&alice.access, json!({})).await;
    let van = app.create_unit(&alice.access, json!({})).await;
    let bobs = app.create_unit(&bob.access, json!({})).await;

    let r = app
        .gql_as(
            &alice.access,
            LINK,
            json!({ "u": car, "d": "OBD-1", "c": "BLE" }),
        )
        .await;
    assert_eq!(r["data"]["linkDongle"]["dongleId"], "OBD-1", "{r}");
    // The same link again only changes the connection.
    let r = app
        .gql_as(
            &alice.access,
            LINK,
            json!({ "u": car, "d": "OBD-1", "c": "WIFI" }),
        )
        .await;
    assert_eq!(r["data"]["linkDongle"]["connectionType"], "WIFI", "{r}");
    // Linked elsewhere, or a second dongle on the unit: CONFLICT.
    let r = app
        .gql_as(
            &alice.access,
            LINK,
            json!({ "u": van, "d": "OBD-1", "c": "BLE" }),
        )
        .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    let r = app
        .gql_as(
            &alice.access,
            LINK,
            json!({ "u": car, "d": "OBD-2", "c": "BLE" }),
        )
        .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    // Another customer's unit is not found; staff link any.
    let r = app
        .gql_as(
            &alice.access,
            LINK,
            json!({ "u": bobs, "d": "OBD-9", "c": "CLOUD" }),
        )
        .await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");
    let r = app
        .gql_as(&alice.access, UNLINK, json!({ "u": bobs }))
        .await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");
    let r = app
        .gql_as(
            &staff.access,
            LINK,
            json!({ "u": bobs, "d": "OBD-9", "c": "CLOUD" }),
        )
        .await;
    assert_eq!(r["data"]["linkDongle"]["connectionType"], "CLOUD", "{r}");
    let r = app
        .gql_as(
            &alice.access,
            LINK,
            json!({ "u": car, "d": " ", "c": "BLE" }),
        )
        .await;
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "dongleId"), "{r}");

    // The owner and staff see the dongle; others do not.
    let q = "query($u: ID!) { unit(id: $u) { dongle { dongleId } } }";
    let r = app.gql_as(&bob.access, q, json!({ "u": bobs })).await;
    assert_eq!(r["data"]["unit"]["dongle"]["dongleId"], "OBD-9", "{r}");
    let r = app.gql_as(&staff.access, q, json!({ "u": car })).await;
    assert_eq!(r["data"]["unit"]["dongle"]["dongleId"], "OBD-1", "{r}");

    // Unlinked, it may move.
    let r = app.gql_as(&alice.access, UNLINK, json!({ "u": car })).await;
    assert_eq!(r["data"]["unlinkDongle"], true, "{r}");
    let r = app.gql_as(&alice.access, UNLINK, json!({ "u": car })).await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");
    let r = app
        .gql_as(
            &alice.access,
            LINK,
            json!({ "u": van, "d": "OBD-1", "c": "BLE" }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");

    // One dongle linked to three units at once: one link wins.
    let units = [
        app.create_unit(&staff.access, json!({})).await,
        app.create_unit(&staff.access, json!({})).await,
        app.create_unit(&staff.access, json!({})).await,
    ];
    let results = futures_util::future::join_all(units.iter().map(|u| {
        app.gql_as(
            &staff.access,
            LINK,
            json!({ "u": u, "d": "OBD-SHARED", "c": "CLOUD" }),
        )
    }))
    .await;
    let won = results.iter().filter(|r| r["errors"].is_null()).count();
    let conflicts = results
        .iter()
        .filter(|r| r["errors"][0]["extensions"]["code"] == "CONFLICT")
        .count();
    assert_eq!((won, conflicts), (1, 2), "{results:?}");
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `n` samples a second apart from `start`: speed, fuel rate and an odometer that climbs.
fn batch(start: DateTime<Utc>, n: usize, odometer_from: f64) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let speed = 30.0 + (i % 70) as f64;
            json!({
                "recordedAt": stamp(start + Duration::seconds(i as i64)),
                "speedKph": speed,
                "fuelRateLph": 4.0 + (i % 5) as f64,
                "odometerKm": odometer_from + i as f64 * 0.02,
            })
        })
        .collect()
}

#[tokio::test]
async fn batches_are_stored_once_raise_the_mileage_and_read_back_in_order_with_a_summary() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let alice = app.customer("alice-telemetry@example.com").await;
    let bob = app.customer("bob-telemetry@example.com").await;
    let car = app
        .create_unit(&alice.access, json!({ "mileage": 10000 }))
        .await;
    let r = app
        .gql_as(
            &alice.access,
            LINK,
            json!({ "u": car, "d": "OBD-T", "c": "BLE" }),
        )
        .await;
    id_of(&r, "linkDongle");

    // Whole seconds, as the samples are stamped.
    let start = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap() - Duration::hours(3);
    let samples = batch(start, 5_000, 10_000.5);
    let r = app
        .gql_as(&alice.access, INGEST, json!({ "d": "OBD-T", "s": samples }))
        .await;
    // The odometer reached 10,000.5 + 4,999 × 0.02 = 10,100.48: mileage 10,100.
    assert_eq!(
        r["data"]["ingestTelemetry"],
        json!({ "accepted": 5000, "duplicates": 0, "mileage": 10100 }),
        "{r}"
    );
    let r = app
        .gql_as(&alice.access, INGEST, json!({ "d": "OBD-T", "s": samples }))
        .await;
    assert_eq!(
        r["data"]["ingestTelemetry"],
        json!({ "accepted": 0, "duplicates": 5000, "mileage": 10100 }),
        "{r}"
    );
    // Lower readings never lower the mileage.
    let older = batch(start - Duration::hours(1), 10, 50.0);
    let r = app
        .gql_as(&alice.access, INGEST, json!({ "d": "OBD-T", "s": older }))
        .await;
    assert_eq!(
        r["data"]["ingestTelemetry"],
        json!({ "accepted": 10, "duplicates": 0, "mileage": 10100 }),
        "{r}"
    );
    // 5,001 samples, a future sample, a negative speed: refused, nothing stored.
    let r = app
        .gql_as(
            &alice.access,
            INGEST,
            json!({ "d": "OBD-T", "s": batch(start + Duration::hours(1), 5_001, 1.0) }),
        )
        .await;
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "samples"), "{r}");
    let mut future = batch(Utc::now() - Duration::seconds(5), 3, 20_000.0);
    future[2]["recordedAt"] = json!(stamp(Utc::now() + Duration::minutes(10)));
    let r = app
        .gql_as(&alice.access, INGEST, json!({ "d": "OBD-T", "s": future }))
        .await;
    assert_eq!(
        (code(&r), field(&r)),
        ("BAD_USER_INPUT", "samples.2.recordedAt"),
        "{r}"
    );
    let mut negative = batch(Utc::now() - Duration::seconds(50), 2, 20_000.0);
    negative[1]["speedKph"] = json!(-1.0);
    let r = app
        .gql_as(
            &alice.access,
            INGEST,
            json!({ "d": "OBD-T", "s": negative }),
        )
        .await;
    assert_eq!(
        (code(&r), field(&r)),
        ("BAD_USER_INPUT", "samples.1.speedKph"),
        "{r}"
    );
    // Another customer's dongle is not found; staff may send.
    let r = app
        .gql_as(&bob.access, INGEST, json!({ "d": "OBD-T", "s": [] }))
        .await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");
    let r = app
        .gql_as(&staff.access, INGEST, json!({ "d": "OBD-T", "s": [] }))
        .await;
    assert_eq!(r["data"]["ingestTelemetry"]["accepted"], 0, "{r}");
    let r = app
        .gql_as(
            &alice.access,
            "query($u: ID!) { unit(id: $u) { mileage dongle { lastSampleAt } } }",
            json!({ "u": car }),
        )
        .await;
    assert_eq!(r["data"]["unit"]["mileage"], 10100, "{r}");
    assert!(
        r["data"]["unit"]["dongle"]["lastSampleAt"].is_string(),
        "{r}"
    );

    // A range pages oldest first: the hour from start + 10 min holds samples 600..3600.
    let from = start + Duration::minutes(10);
    let to = from + Duration::hours(1);
    let page = "query($u: ID!, $f: DateTime!, $t: DateTime!, $a: String) { unit(id: $u) { telemetry(from: $f, to: $t, first: 100, after: $a) { totalCount pageInfo { hasNextPage endCursor } edges { node { recordedAt odometerKm } } } } }";
    let mut seen: Vec<DateTime<Utc>> = Vec::new();
    let mut after = Value::Null;
    loop {
        let r = app
            .gql_as(
                &alice.access,
                page,
                json!({ "u": car, "f": stamp(from), "t": stamp(to), "a": after }),
            )
            .await;
        let t = &r["data"]["unit"]["telemetry"];
        assert_eq!(t["totalCount"], 3600, "{r}");
        for e in t["edges"].as_array().unwrap_or_else(|| panic!("{r}")) {
            let at = e["node"]["recordedAt"].as_str().unwrap_or_default();
            seen.push(
                DateTime::parse_from_rfc3339(at)
                    .unwrap()
                    .with_timezone(&Utc),
            );
        }
        if t["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = t["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len(), 3600);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "oldest first");
    assert_eq!(seen[0], from);

    // The summary equals the same computation here.
    let in_range: Vec<&Value> = samples
        .iter()
        .filter(|s| {
            let at = DateTime::parse_from_rfc3339(s["recordedAt"].as_str().unwrap()).unwrap();
            at >= from && at < to
        })
        .collect();
    let f = |s: &Value, k: &str| s[k].as_f64().unwrap();
    let max_speed = in_range
        .iter()
        .map(|s| f(s, "speedKph"))
        .fold(0.0, f64::max);
    let average = in_range.iter().map(|s| f(s, "speedKph")).sum::<f64>() / in_range.len() as f64;
    let distance = f(in_range[in_range.len() - 1], "odometerKm") - f(in_range[0], "odometerKm");
    // Each sample's rate over the second to the next.
    let fuel: f64 = in_range
        .windows(2)
        .map(|w| f(w[0], "fuelRateLph") / 3600.0)
        .sum();
    let summary = "query($u: ID!, $f: DateTime!, $t: DateTime!) { unit(id: $u) { telemetrySummary(from: $f, to: $t) { samples from to distanceKm maxSpeedKph averageSpeedKph fuelUsedLiters } } }";
    let r = app
        .gql_as(
            &alice.access,
            summary,
            json!({ "u": car, "f": stamp(from), "t": stamp(to) }),
        )
        .await;
    let s = &r["data"]["unit"]["telemetrySummary"];
    assert_eq!(s["samples"], 3600, "{r}");
    assert_eq!(
        s["from"]
            .as_str()
            .map(|t| t.starts_with(&stamp(from)[..19])),
        Some(true),
        "{r}"
    );
    let close = |v: &Value, want: f64| (v.as_f64().unwrap_or(f64::NAN) - want).abs() < 1e-6;
    assert!(close(&s["maxSpeedKph"], max_speed), "{r} vs {max_speed}");
    assert!(close(&s["averageSpeedKph"], average), "{r} vs {average}");
    assert!(close(&s["distanceKm"], distance), "{r} vs {distance}");
    assert!(close(&s["fuelUsedLiters"], fuel), "{r} vs {fuel}");
    // An empty range: no samples, no figures.
    let r = app
        .gql_as(&alice.access, summary, json!({ "u": car, "f": stamp(start - Duration::days(9)), "t": stamp(start - Duration::days(8)) }))
        .await;
    assert_eq!(
        r["data"]["unit"]["telemetrySummary"],
        json!({ "samples": 0, "from": null, "to": null, "distanceKm": 0.0, "maxSpeedKph": null, "averageSpeedKph": null, "fuelUsedLiters": null }),
        "{r}"
    );
    // Staff read it too; a range backwards is refused.
    let r = app
        .gql_as(
            &staff.access,
            summary,
            json!({ "u": car, "f": stamp(from), "t": stamp(to) }),
        )
        .await;
    assert_eq!(
        r["data"]["unit"]["telemetrySummary"]["samples"], 3600,
        "{r}"
    );
    let r = app
        .gql_as(
            &alice.access,
            summary,
            json!({ "u": car, "f": stamp(to), "t": stamp(from) }),
        )
        .await;
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "to"), "{r}");
}
