//! Database migrations of AutoHub, one file per change, each with its `down()`.
//!
//! This crate never imports the server's entities: a migration describes the tables as they were
//! when it was written, so later changes to the code cannot rewrite history.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_accounts;
mod m20261123_000002_vehicles;
mod m20261123_000003_notifications;
mod m20261123_000004_chat;
mod m20261201_000005_search_text;
mod m20261202_000006_bookings;
mod m20261202_000007_offers_and_content;
mod m20261202_000008_telemetry;
mod m20261202_000009_identities;
mod m20261202_000010_uploads;
mod m20261203_000011_payments_and_devices;
mod m20261204_000012_units_listed_count;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_accounts::Migration),
            Box::new(m20261123_000002_vehicles::Migration),
            Box::new(m20261123_000003_notifications::Migration),
            Box::new(m20261123_000004_chat::Migration),
            Box::new(m20261201_000005_search_text::Migration),
            Box::new(m20261202_000006_bookings::Migration),
            Box::new(m20261202_000007_offers_and_content::Migration),
            Box::new(m20261202_000008_telemetry::Migration),
            Box::new(m20261202_000009_identities::Migration),
            Box::new(m20261202_000010_uploads::Migration),
            Box::new(m20261203_000011_payments_and_devices::Migration),
            Box::new(m20261204_000012_units_listed_count::Migration),
        ]
    }
}
