//! A CSV export of 100,000 rows, against the release binary over real HTTP on loopback: how
//! long it takes and how much the server's memory grows while it streams.
//!
//! The bench fills a fresh database (a SQLite file, or a new database on the PostgreSQL server of
//! `--pg`) with `--rows` payments (100,000 by default) directly, asks `exportUrl(kind: PAYMENTS)`
//! as the administrator, and downloads the file three times while it samples the server's
//! resident memory (`/proc/<pid>/status`, every 5 ms). It prints the rows and bytes received (the
//! CSV parsed by the `csv` crate), the time, and the server's resident memory before the first
//! download and at its highest during each.
//!
//! Run: `cargo bench --bench exports -- [--pg postgres://user@host:port/postgres] [--rows 100000]`

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use autohub::payments::entity::{payment, PaymentMethod, PaymentStatus};
use futures_util::StreamExt;
use sea_orm::{EntityTrait, IntoActiveModel};
use serde_json::json;

#[path = "support/server.rs"]
mod server;
use server::{arg, Server, ADMIN_EMAIL};

/// Fills the database with `rows` payments of one cent to ten thousand.
async fn fill(database_url: &str, rows: usize) {
    let db = sea_orm::Database::connect(database_url)
        .await
        .expect("connect to the bench database");
    let start = chrono::Utc::now() - chrono::Duration::days(30);
    let mut made = 0;
    while made < rows {
        let chunk = (rows - made).min(1_000);
        let batch = (made..made + chunk).map(|n| {
            let at = start + chrono::Duration::seconds(n as i64 * 20);
            payment::Model {
                id: uuid::Uuid::now_v7(),
                booking_id: None,
                sale_id: None,
                customer_id: None,
                amount_cents: 1 + (n as i64 * 7_919) % 1_000_000,
                refunded_cents: 0,
                currency: "USD".into(),
                method: [
                    PaymentMethod::Cash,
                    PaymentMethod::Card,
                    PaymentMethod::BankTransfer,
                ][n % 3],
                status: PaymentStatus::Succeeded,
                provider: None,
                provider_reference: Some(format!("=slip {n}")),
                checkout_url: None,
                recorded_by: None,
                created_at: at,
                updated_at: at,
            }
            .into_active_model()
        });
        payment::Entity::insert_many(batch)
            .exec_without_returning(&db)
            .await
            .expect("payments inserted");
        made += chunk;
    }
    db.close().await.ok();
}

#[tokio::main]
async fn main() {
    let rows: usize = arg("--rows")
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let server = Arc::new(Server::start(env!("CARGO_BIN_EXE_autohub"), &[]).await);
    let admin = server.login(ADMIN_EMAIL).await;
    fill(&server.database_url, rows).await;
    let before = server.rss_kib().unwrap_or(0);
    println!(
        "exports: {rows} payments; server RSS before: {:.1} MiB",
        before as f64 / 1024.0
    );
    for round in 1..=3 {
        let r = server
            .gql(&admin, "mutation { exportUrl(kind: PAYMENTS) }", json!({}))
            .await;
        let url = r["data"]["exportUrl"]
            .as_str()
            .unwrap_or_else(|| panic!("{r}"));
        let path = url
            .split_once("/exports/")
            .map(|(_, p)| p)
            .expect("an export URL");
        // Sample the server's memory while the file streams.
        let peak = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (server, peak, done) = (server.clone(), peak.clone(), done.clone());
            tokio::spawn(async move {
                while !done.load(Ordering::Relaxed) {
                    peak.fetch_max(server.rss_kib().unwrap_or(0), Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        };
        let started = Instant::now();
        let response = server
            .client
            .get(format!("{}/exports/{path}", server.base))
            .send()
            .await
            .expect("the export answers");
        assert_eq!(response.status(), 200);
        let mut body = Vec::new();
        let mut chunks = response.bytes_stream();
        while let Some(chunk) = chunks.next().await {
            body.extend_from_slice(&chunk.expect("a chunk"));
        }
        let took = started.elapsed();
        done.store(true, Ordering::Relaxed);
        sampler.await.ok();
        let mut reader = csv::Reader::from_reader(body.as_slice());
        let mut parsed = 0;
        for record in reader.records() {
            record.expect("a CSV record");
            parsed += 1;
        }
        assert_eq!(parsed, rows, "every row exported");
        let peak = peak.load(Ordering::Relaxed);
        println!(
            "  round {round}: {parsed} rows, {:.1} MiB in {:.2} s ({:.0} rows/s); server RSS peak {:.1} MiB, {:+.1} MiB over before",
            body.len() as f64 / 1_048_576.0,
            took.as_secs_f64(),
            parsed as f64 / took.as_secs_f64(),
            peak as f64 / 1024.0,
            (peak as f64 - before as f64) / 1024.0
        );
    }
}
