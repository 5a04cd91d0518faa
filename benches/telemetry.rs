//! Telemetry figures, against the release binary over real HTTP on loopback: one unit's dongle
//! sends 1,000,000 samples (one a second, about 11.6 days) in batches of 5,000, then the
//! summary of one day (86,400 samples) and of one month (all of them) is asked for.
//!
//! Prints samples stored per second (batches sent one after another, each one `ingestTelemetry`
//! request), and the median and slowest of 5 summary requests per range. The database is a fresh
//! SQLite file, or a fresh database on the PostgreSQL server of `--pg`.
//!
//! Run: `cargo bench --bench telemetry -- [--pg postgres://user@host:port/postgres]
//!       [--samples 1000000] [--batch 5000]`

use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

#[path = "support/server.rs"]
mod server;
use server::{arg, Server, ADMIN_EMAIL};

#[tokio::main]
async fn main() {
    let total: usize = arg("--samples")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let batch: usize = arg("--batch").and_then(|n| n.parse().ok()).unwrap_or(5_000);
    let server = Server::start(env!("CARGO_BIN_EXE_autohub"), &[]).await;
    let admin = server.login(ADMIN_EMAIL).await;
    let r = server
        .gql(&admin, "mutation { createUnit(input: { vin: \"1HGCM82633A004352\", make: \"Toyota\", model: \"Corolla\", year: 2021, mileage: 1000 }) { id } }", json!({}))
        .await;
    let unit = r["data"]["createUnit"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_string();
    let r = server
        .gql(&admin, "mutation($u: ID!) { linkDongle(unitId: $u, dongleId: \"BENCH-1\", connectionType: CLOUD) { id } }", json!({ "u": unit }))
        .await;
    assert!(r["errors"].is_null(), "{r}");

    // One sample a second, ending a minute ago.
    let start = Utc::now() - chrono::Duration::seconds(total as i64 + 60);
    let start = DateTime::<Utc>::from_timestamp(start.timestamp(), 0).unwrap_or(start);
    let stamp = |i: usize| {
        (start + chrono::Duration::seconds(i as i64)).to_rfc3339_opts(SecondsFormat::Secs, true)
    };
    let ingest = "mutation($s: [TelemetrySampleInput!]!) { ingestTelemetry(dongleId: \"BENCH-1\", samples: $s) { accepted duplicates mileage } }";
    println!("ingesting {total} samples in batches of {batch}");
    let mut stored = 0u64;
    let mut sending = Duration::ZERO;
    for first in (0..total).step_by(batch) {
        let samples: Vec<Value> = (first..(first + batch).min(total))
            .map(|i| {
                json!({ "recordedAt": stamp(i), "speedKph": (i % 130) as f64,
                        "fuelRateLph": 3.0 + (i % 7) as f64, "odometerKm": 1000.0 + i as f64 * 0.015 })
            })
            .collect();
        let body = json!({ "query": ingest, "variables": { "s": samples } }).to_string();
        let sent = Instant::now();
        let r: Value = server
            .client
            .post(format!("{}/graphql", server.base))
            .bearer_auth(&admin)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json");
        sending += sent.elapsed();
        stored += r["data"]["ingestTelemetry"]["accepted"]
            .as_u64()
            .unwrap_or_else(|| panic!("{r}"));
    }
    assert_eq!(stored, total as u64, "every sample stored once");
    println!(
        "ingestTelemetry: {stored} samples in {:.1} s: {:.0} samples/s ({:.1} ms a batch of {batch})",
        sending.as_secs_f64(),
        stored as f64 / sending.as_secs_f64(),
        sending.as_secs_f64() * 1000.0 / (total as f64 / batch as f64).ceil()
    );

    let summary = "query($u: ID!, $f: DateTime!, $t: DateTime!) { unit(id: $u) { telemetrySummary(from: $f, to: $t) { samples distanceKm maxSpeedKph averageSpeedKph fuelUsedLiters } } }";
    let day = (stamp(total / 2), stamp(total / 2 + 86_400));
    let month = (stamp(0), (start + chrono::Duration::days(30)).to_rfc3339());
    for (name, (from, to)) in [("one day", day), ("one month", month)] {
        let mut times = Vec::new();
        let mut samples = Value::Null;
        for _ in 0..5 {
            let sent = Instant::now();
            let r = server
                .gql(&admin, summary, json!({ "u": unit, "f": from, "t": to }))
                .await;
            times.push(sent.elapsed());
            samples = r["data"]["unit"]["telemetrySummary"]["samples"].clone();
            assert!(r["errors"].is_null(), "{r}");
        }
        times.sort();
        println!(
            "telemetrySummary, {name:<9} ({samples} samples): median {:>7.1} ms, slowest {:>7.1} ms",
            times[2].as_secs_f64() * 1000.0,
            times[4].as_secs_f64() * 1000.0
        );
    }
}
