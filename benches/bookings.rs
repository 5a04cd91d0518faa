//! Bookings figures, against the release binary over real HTTP on loopback:
//!
//! - `availableTestDriveSlots(unitId, date)` for a listed unit with bookings on that day;
//! - `appointmentAvailability(locationId, date, serviceIds)` for a location holding 500
//!   appointments that day (30 bays, 08:00–18:00);
//! - `bookTestDrive` throughput: every request books a different free slot (distinct units,
//!   days and hours, spread over 40 staff accounts, who book for themselves).
//!
//! Each load runs `--conns` loops back to back (16 by default) for `--seconds` (10) after a
//! 2-second warm-up, and prints requests per second and p50/p99 latency. The database is a fresh
//! SQLite file, or a fresh database on the PostgreSQL server of `--pg`.
//!
//! Run: `cargo bench --bench bookings -- [--pg postgres://user@host:port/postgres]
//!       [--conns 16] [--seconds 10]`

use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::{json, Value};

#[path = "support/figures.rs"]
mod figures;
use figures::Figures;
#[path = "support/server.rs"]
mod server;
use server::{arg, Server, ADMIN_EMAIL, PASSWORD};

const ZONE: chrono_tz::Tz = chrono_tz::Europe::Berlin;

#[tokio::main]
async fn main() {
    let conns: usize = arg("--conns").and_then(|n| n.parse().ok()).unwrap_or(16);
    let seconds: u64 = arg("--seconds").and_then(|n| n.parse().ok()).unwrap_or(10);
    let server = Server::start(
        env!("CARGO_BIN_EXE_autohub"),
        &[("SHOWROOM_TIMEZONE", ZONE.name())],
    )
    .await;
    let (client, base) = (server.client.clone(), server.base.clone());
    let gql = |token: String, query: &'static str, variables: Value| {
        let server = &server;
        async move { server.gql(&token, query, variables).await }
    };
    let login = |email: String| {
        let server = &server;
        async move { server.login(&email).await }
    };
    let admin = login(ADMIN_EMAIL.to_string()).await;

    println!("seeding: 40 staff, 120 listed units, a location with 500 appointments in one day");
    let mut staff = Vec::new();
    for i in 0..40 {
        let email = format!("bench.staff{i}@example.com");
        let r = gql(admin.clone(), "mutation($i: CreateStaffInput!) { createStaff(input: $i) { id } }",
            json!({ "i": { "email": email, "password": PASSWORD, "firstName": "S", "lastName": "S", "role": "STAFF" } })).await;
        let id = r["data"]["createStaff"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{r}"))
            .to_string();
        staff.push((id, login(email).await));
    }
    let owner = staff[0].0.clone();
    let mut units = Vec::new();
    for i in 0..120 {
        let vin = format!("1HGCM82633A{:06}", 100_000 + i);
        let r = gql(admin.clone(), "mutation($i: CreateUnitInput!) { createUnit(input: $i) { id } }",
            json!({ "i": { "vin": vin, "make": "Toyota", "model": "Corolla", "year": 2021, "mileage": 30000,
                           "isListed": i >= 20, "listPrice": if i >= 20 { json!("19990") } else { Value::Null },
                           "ownerId": if i < 20 { json!(owner) } else { Value::Null } } })).await;
        units.push(
            r["data"]["createUnit"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{r}"))
                .to_string(),
        );
    }
    let r = gql(admin.clone(), "mutation { createServiceLocation(input: { name: \"Bench\", address: \"Here\", latitude: 52.5, longitude: 13.4, timezone: \"Europe/Berlin\", bays: 30 }) { id } }", json!({})).await;
    let location = r["data"]["createServiceLocation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_string();
    let hours: Vec<Value> = (1..=7)
        .map(|d| json!({ "weekday": d, "opensAt": "08:00", "closesAt": "18:00" }))
        .collect();
    gql(admin.clone(), "mutation($l: ID!, $h: [OpeningHoursInput!]!) { setOpeningHours(locationId: $l, hours: $h) { id } }", json!({ "l": location, "h": hours })).await;
    let r = gql(admin.clone(), "mutation { createServiceOffering(input: { code: \"CHECK\", name: \"Check\", durationMinutes: 30, basePrice: \"40\" }) { id } }", json!({})).await;
    let service = r["data"]["createServiceOffering"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_string();
    let today = Utc::now().with_timezone(&ZONE).date_naive();
    let busy_day = today + chrono::Days::new(3);
    let at = |day: NaiveDate, minutes: u32| {
        ZONE.from_local_datetime(
            &day.and_hms_opt(minutes / 60, minutes % 60, 0)
                .unwrap_or_default(),
        )
        .earliest()
        .map(|t| t.with_timezone(&Utc).to_rfc3339())
        .unwrap_or_default()
    };
    let mut booked = 0;
    for i in 0..500u32 {
        let starts_at = at(busy_day, 8 * 60 + (i % 20) * 30);
        let r = gql(admin.clone(), "mutation($i: BookServiceAppointmentInput!) { bookServiceAppointment(input: $i) { id } }",
            json!({ "i": { "unitId": units[(i % 20) as usize], "locationId": location, "startsAt": starts_at, "serviceIds": [service] } })).await;
        if r["errors"].is_null() {
            booked += 1;
        }
    }
    assert_eq!(booked, 500, "the location holds 500 appointments that day");
    // The slots unit: a few of its hours are booked that day.
    let drive_unit = units[20].clone();
    for (n, hour) in [9u32, 12, 15].iter().enumerate() {
        gql(
            staff[n].1.clone(),
            "mutation($u: ID!, $s: DateTime!) { bookTestDrive(unitId: $u, startsAt: $s) { id } }",
            json!({ "u": drive_unit, "s": at(busy_day, hour * 60) }),
        )
        .await;
    }

    let token = staff[39].1.clone();
    let slots = json!({ "query": "query($u: ID!, $d: NaiveDate!) { availableTestDriveSlots(unitId: $u, date: $d) { startsAt endsAt } }",
        "variables": { "u": drive_unit, "d": busy_day } });
    let check = gql(token.clone(), "query($u: ID!, $d: NaiveDate!) { availableTestDriveSlots(unitId: $u, date: $d) { startsAt } }", json!({ "u": drive_unit, "d": busy_day })).await;
    println!(
        "availableTestDriveSlots lists {} slots",
        check["data"]["availableTestDriveSlots"]
            .as_array()
            .map_or(0, Vec::len)
    );
    let availability = json!({ "query": "query($l: ID!, $d: NaiveDate!, $s: [ID!]!) { appointmentAvailability(locationId: $l, date: $d, serviceIds: $s) { startsAt endsAt } }",
        "variables": { "l": location, "d": busy_day, "s": [service] } });
    let measured = Duration::from_secs(seconds);
    let f = load(
        &client,
        &base,
        std::slice::from_ref(&token),
        Work::Fixed(slots.to_string()),
        conns,
        measured,
    )
    .await;
    report("availableTestDriveSlots", &f);
    let f = load(
        &client,
        &base,
        std::slice::from_ref(&token),
        Work::Fixed(availability.to_string()),
        conns,
        measured,
    )
    .await;
    report("appointmentAvailability (500 that day)", &f);

    // Distinct free slots: (unit, start) for 40 listed units, every hour from tomorrow on but the
    // busy day; the 40 bookings of one start go to 40 different staff members (one test drive
    // per start each).
    let mut free = Vec::new();
    for day in (1..=29u64).filter(|d| *d != 3) {
        let d = today + chrono::Days::new(day);
        for hour in 9..=16u32 {
            for unit in &units[21..61] {
                free.push((unit.clone(), at(d, hour * 60)));
            }
        }
    }
    let tokens: Vec<String> = staff.iter().map(|(_, t)| t.clone()).collect();
    let f = load(&client, &base, &tokens, Work::Book(free), conns, measured).await;
    report("bookTestDrive", &f);
}

fn report(name: &str, f: &Figures) {
    println!(
        "{name:<42} {:>8.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   errors {}",
        f.rps, f.p50_ms, f.p99_ms, f.errors
    );
}

#[derive(Clone)]
enum Work {
    Fixed(String),
    /// Free slots to book, handed out one per request.
    Book(Vec<(String, String)>),
}

async fn load(
    client: &reqwest::Client,
    base: &str,
    tokens: &[String],
    work: Work,
    conns: usize,
    measured: Duration,
) -> Figures {
    let warmup = Duration::from_secs(2);
    let start = Instant::now();
    let measure_from = start + warmup;
    let until = measure_from + measured;
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks = (0..conns).map(|i| {
        let client = client.clone();
        let url = format!("{base}/graphql");
        let tokens = tokens.to_vec();
        let work = work.clone();
        let next = next.clone();
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            while Instant::now() < until {
                let (body, token) = match &work {
                    Work::Fixed(body) => (body.clone(), tokens[i % tokens.len()].clone()),
                    Work::Book(free) => {
                        let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((unit, starts_at)) = free.get(n) else {
                            break;
                        };
                        let body = json!({ "query": "mutation($u: ID!, $s: DateTime!) { bookTestDrive(unitId: $u, startsAt: $s) { id } }",
                            "variables": { "u": unit, "s": starts_at } });
                        (body.to_string(), tokens[n % tokens.len()].clone())
                    }
                };
                let sent = Instant::now();
                let ok = match client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                {
                    Ok(r) => {
                        let status = r.status();
                        let body = r.bytes().await.unwrap_or_default();
                        let failed = status != 200 || body.windows(9).any(|w| w == b"\"errors\":");
                        if failed && errors == 0 && sent >= measure_from {
                            eprintln!("  first error: {status} {}", String::from_utf8_lossy(&body));
                        }
                        !failed
                    }
                    Err(err) => {
                        if errors == 0 {
                            eprintln!("  first error: {err}");
                        }
                        false
                    }
                };
                if sent >= measure_from {
                    if ok {
                        latencies.push(sent.elapsed());
                    } else {
                        errors += 1;
                    }
                }
            }
            (latencies, errors)
        })
    });
    figures::gather(tasks, measured).await
}
