//! OBD dongles linked to units, and the telemetry samples they send.
//!
//! A unit has at most one dongle and a dongle one unit (two unique indexes). A sample is stored
//! once per `(dongle, recorded_us)`: a batch sent again inserts nothing (ON CONFLICT DO NOTHING).
//! Time is kept as microseconds since the epoch in an integer, so the summary's arithmetic (the
//! fuel used between consecutive samples) is the same SQL on SQLite and PostgreSQL.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Units {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Dongles {
    Table,
    Id,
    UnitId,
    DongleId,
    ConnectionType,
    LinkedAt,
    LastSampleAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum TelemetrySamples {
    Table,
    Id,
    UnitId,
    DongleId,
    RecordedUs,
    SpeedKph,
    FuelRateLph,
    OdometerKm,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Dongles::Table)
                    .col(pk_uuid(Dongles::Id))
                    .col(uuid_uniq(Dongles::UnitId))
                    .col(string_len_uniq(Dongles::DongleId, 64))
                    .col(string_len(Dongles::ConnectionType, 16))
                    .col(timestamp_with_time_zone(Dongles::LinkedAt))
                    .col(timestamp_with_time_zone_null(Dongles::LastSampleAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_dongles_unit")
                            .from(Dongles::Table, Dongles::UnitId)
                            .to(Units::Table, Units::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TelemetrySamples::Table)
                    .col(pk_uuid(TelemetrySamples::Id))
                    .col(uuid(TelemetrySamples::UnitId))
                    // The hardware id: samples stay the dongle's when it moves to another unit.
                    .col(string_len(TelemetrySamples::DongleId, 64))
                    .col(big_integer(TelemetrySamples::RecordedUs))
                    .col(double_null(TelemetrySamples::SpeedKph))
                    .col(double_null(TelemetrySamples::FuelRateLph))
                    .col(double_null(TelemetrySamples::OdometerKm))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_telemetry_samples_unit")
                            .from(TelemetrySamples::Table, TelemetrySamples::UnitId)
                            .to(Units::Table, Units::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_telemetry_samples_dongle_recorded")
                    .table(TelemetrySamples::Table)
                    .col(TelemetrySamples::DongleId)
                    .col(TelemetrySamples::RecordedUs)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Range queries and the summary read a unit's samples in time order.
        manager
            .create_index(
                Index::create()
                    .name("idx_telemetry_samples_unit_recorded")
                    .table(TelemetrySamples::Table)
                    .col(TelemetrySamples::UnitId)
                    .col(TelemetrySamples::RecordedUs)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TelemetrySamples::Table.into_iden(),
            Dongles::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
