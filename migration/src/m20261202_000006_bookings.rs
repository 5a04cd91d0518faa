//! Bookings: the service locations with their opening hours, the service catalog with prices per
//! make and model, and the bookings (test drives and service appointments) with their services,
//! their status history and their claims.
//!
//! The claims carry the invariants no check before an insert can keep under concurrency: each
//! PENDING or CONFIRMED test drive holds its unit's 15-minute blocks (`UNIT`) and its customer's
//! start (`DRIVER`), each active service appointment holds one of the location's `bays` seats in
//! each of its blocks (`BAY`). The primary key (resource, resource_id, block_start, seat) makes
//! the database refuse a second holder, on SQLite and PostgreSQL alike.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Units {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum ServiceRecords {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum ServiceLocations {
    Table,
    Id,
    Name,
    Address,
    Latitude,
    Longitude,
    Timezone,
    Phone,
    Bays,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OpeningHours {
    Table,
    Id,
    LocationId,
    Weekday,
    OpensMinute,
    ClosesMinute,
}

#[derive(DeriveIden, Clone, Copy)]
enum ServiceCategories {
    Table,
    Id,
    Name,
    Description,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ServiceOfferings {
    Table,
    Id,
    Code,
    Name,
    Description,
    CategoryId,
    DurationMinutes,
    BasePriceCents,
    IsActive,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ModelPrices {
    Table,
    Id,
    OfferingId,
    Make,
    MakeKey,
    Model,
    ModelKey,
    PriceCents,
}

#[derive(DeriveIden, Clone, Copy)]
enum Bookings {
    Table,
    Id,
    Kind,
    Status,
    CustomerId,
    UnitId,
    LocationId,
    StartsAt,
    EndsAt,
    EstimatedPriceCents,
    Notes,
    HandledBy,
    ServiceRecordId,
    RemindAt,
    LeadMinutes,
    LocalHour,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum BookingServices {
    Table,
    BookingId,
    Position,
    OfferingId,
    PriceCents,
}

#[derive(DeriveIden, Clone, Copy)]
enum BookingStatusChanges {
    Table,
    Id,
    BookingId,
    FromStatus,
    ToStatus,
    At,
    ByUser,
    Reason,
}

#[derive(DeriveIden, Clone, Copy)]
enum BookingClaims {
    Table,
    Resource,
    ResourceId,
    BlockStart,
    Seat,
    BookingId,
}

fn index<T: IntoIden + Clone + 'static>(name: &str, table: T, cols: &[T]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(col.clone());
    }
    index.to_owned()
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict, SetNull};

        manager
            .create_table(
                Table::create()
                    .table(ServiceLocations::Table)
                    .col(pk_uuid(ServiceLocations::Id))
                    .col(string_len(ServiceLocations::Name, 120))
                    .col(string_len(ServiceLocations::Address, 300))
                    .col(double(ServiceLocations::Latitude))
                    .col(double(ServiceLocations::Longitude))
                    .col(string_len(ServiceLocations::Timezone, 64))
                    .col(string_len_null(ServiceLocations::Phone, 40))
                    .col(integer(ServiceLocations::Bays))
                    .col(timestamp_with_time_zone(ServiceLocations::CreatedAt))
                    .col(timestamp_with_time_zone(ServiceLocations::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OpeningHours::Table)
                    .col(pk_uuid(OpeningHours::Id))
                    .col(uuid(OpeningHours::LocationId))
                    // 1 = Monday … 7 = Sunday; minutes after local midnight (closing may be 1440).
                    .col(integer(OpeningHours::Weekday))
                    .col(integer(OpeningHours::OpensMinute))
                    .col(integer(OpeningHours::ClosesMinute))
                    .foreign_key(&mut fk(
                        "fk_opening_hours_location",
                        (OpeningHours::Table, OpeningHours::LocationId),
                        (ServiceLocations::Table, ServiceLocations::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ServiceCategories::Table)
                    .col(pk_uuid(ServiceCategories::Id))
                    .col(string_len(ServiceCategories::Name, 120))
                    .col(string_len_null(ServiceCategories::Description, 2000))
                    .col(timestamp_with_time_zone(ServiceCategories::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ServiceOfferings::Table)
                    .col(pk_uuid(ServiceOfferings::Id))
                    .col(string_len_uniq(ServiceOfferings::Code, 40))
                    .col(string_len(ServiceOfferings::Name, 120))
                    .col(string_len_null(ServiceOfferings::Description, 2000))
                    .col(uuid_null(ServiceOfferings::CategoryId))
                    .col(integer(ServiceOfferings::DurationMinutes))
                    .col(big_integer(ServiceOfferings::BasePriceCents))
                    .col(boolean(ServiceOfferings::IsActive).default(true))
                    .col(timestamp_with_time_zone(ServiceOfferings::CreatedAt))
                    .col(timestamp_with_time_zone(ServiceOfferings::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_service_offerings_category",
                        (ServiceOfferings::Table, ServiceOfferings::CategoryId),
                        (ServiceCategories::Table, ServiceCategories::Id),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ModelPrices::Table)
                    .col(pk_uuid(ModelPrices::Id))
                    .col(uuid(ModelPrices::OfferingId))
                    .col(string_len(ModelPrices::Make, 60))
                    // Folded (case and Unicode form), so that "VW" and "vw" are one make.
                    .col(string_len(ModelPrices::MakeKey, 60))
                    .col(string_len_null(ModelPrices::Model, 60))
                    // '' for "every model of the make": NULLs would not collide in the unique index.
                    .col(string_len(ModelPrices::ModelKey, 60).default(""))
                    .col(big_integer(ModelPrices::PriceCents))
                    .foreign_key(&mut fk(
                        "fk_model_prices_offering",
                        (ModelPrices::Table, ModelPrices::OfferingId),
                        (ServiceOfferings::Table, ServiceOfferings::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Bookings::Table)
                    .col(pk_uuid(Bookings::Id))
                    .col(string_len(Bookings::Kind, 24))
                    .col(string_len(Bookings::Status, 16))
                    .col(uuid(Bookings::CustomerId))
                    .col(uuid(Bookings::UnitId))
                    .col(uuid_null(Bookings::LocationId))
                    .col(timestamp_with_time_zone(Bookings::StartsAt))
                    .col(timestamp_with_time_zone(Bookings::EndsAt))
                    .col(big_integer_null(Bookings::EstimatedPriceCents))
                    .col(string_len_null(Bookings::Notes, 2000))
                    .col(uuid_null(Bookings::HandledBy))
                    .col(uuid_null(Bookings::ServiceRecordId))
                    // When the 24-hour reminder is due: set while CONFIRMED and not yet sent.
                    .col(timestamp_with_time_zone_null(Bookings::RemindAt))
                    // How far ahead it was booked, and the local hour it starts at: the
                    // statistics aggregate these the same way on both databases.
                    .col(big_integer(Bookings::LeadMinutes))
                    .col(integer(Bookings::LocalHour))
                    .col(timestamp_with_time_zone(Bookings::CreatedAt))
                    .col(timestamp_with_time_zone(Bookings::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_bookings_customer",
                        (Bookings::Table, Bookings::CustomerId),
                        (Users::Table, Users::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_bookings_unit",
                        (Bookings::Table, Bookings::UnitId),
                        (Units::Table, Units::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_bookings_location",
                        (Bookings::Table, Bookings::LocationId),
                        (ServiceLocations::Table, ServiceLocations::Id),
                        Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_bookings_handled_by",
                        (Bookings::Table, Bookings::HandledBy),
                        (Users::Table, Users::Id),
                        SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "fk_bookings_service_record",
                        (Bookings::Table, Bookings::ServiceRecordId),
                        (ServiceRecords::Table, ServiceRecords::Id),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BookingServices::Table)
                    .col(uuid(BookingServices::BookingId))
                    .col(integer(BookingServices::Position))
                    .col(uuid(BookingServices::OfferingId))
                    .col(big_integer(BookingServices::PriceCents))
                    .primary_key(
                        Index::create()
                            .col(BookingServices::BookingId)
                            .col(BookingServices::Position),
                    )
                    .foreign_key(&mut fk(
                        "fk_booking_services_booking",
                        (BookingServices::Table, BookingServices::BookingId),
                        (Bookings::Table, Bookings::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_booking_services_offering",
                        (BookingServices::Table, BookingServices::OfferingId),
                        (ServiceOfferings::Table, ServiceOfferings::Id),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BookingStatusChanges::Table)
                    .col(pk_uuid(BookingStatusChanges::Id))
                    .col(uuid(BookingStatusChanges::BookingId))
                    .col(string_len_null(BookingStatusChanges::FromStatus, 16))
                    .col(string_len(BookingStatusChanges::ToStatus, 16))
                    .col(timestamp_with_time_zone(BookingStatusChanges::At))
                    .col(uuid_null(BookingStatusChanges::ByUser))
                    .col(string_len_null(BookingStatusChanges::Reason, 500))
                    .foreign_key(&mut fk(
                        "fk_booking_status_changes_booking",
                        (BookingStatusChanges::Table, BookingStatusChanges::BookingId),
                        (Bookings::Table, Bookings::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_booking_status_changes_by",
                        (BookingStatusChanges::Table, BookingStatusChanges::ByUser),
                        (Users::Table, Users::Id),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BookingClaims::Table)
                    .col(string_len(BookingClaims::Resource, 8))
                    .col(uuid(BookingClaims::ResourceId))
                    .col(timestamp_with_time_zone(BookingClaims::BlockStart))
                    .col(integer(BookingClaims::Seat))
                    .col(uuid(BookingClaims::BookingId))
                    .primary_key(
                        Index::create()
                            .col(BookingClaims::Resource)
                            .col(BookingClaims::ResourceId)
                            .col(BookingClaims::BlockStart)
                            .col(BookingClaims::Seat),
                    )
                    .foreign_key(&mut fk(
                        "fk_booking_claims_booking",
                        (BookingClaims::Table, BookingClaims::BookingId),
                        (Bookings::Table, Bookings::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        let mut unique_price = index(
            "idx_model_prices_key",
            ModelPrices::Table,
            &[
                ModelPrices::OfferingId,
                ModelPrices::MakeKey,
                ModelPrices::ModelKey,
            ],
        );
        unique_price.unique();
        for statement in [
            index(
                "idx_opening_hours_location",
                OpeningHours::Table,
                &[OpeningHours::LocationId, OpeningHours::Weekday],
            ),
            unique_price,
            index(
                "idx_bookings_starts_at",
                Bookings::Table,
                &[Bookings::StartsAt, Bookings::Id],
            ),
            index(
                "idx_bookings_customer",
                Bookings::Table,
                &[Bookings::CustomerId, Bookings::StartsAt, Bookings::Id],
            ),
            index(
                "idx_bookings_unit",
                Bookings::Table,
                &[Bookings::UnitId, Bookings::StartsAt],
            ),
            index(
                "idx_bookings_location",
                Bookings::Table,
                &[Bookings::LocationId, Bookings::StartsAt],
            ),
            index(
                "idx_bookings_remind_at",
                Bookings::Table,
                &[Bookings::RemindAt],
            ),
            index(
                "idx_booking_status_changes_booking",
                BookingStatusChanges::Table,
                &[BookingStatusChanges::BookingId, BookingStatusChanges::At],
            ),
            index(
                "idx_booking_status_changes_by",
                BookingStatusChanges::Table,
                &[BookingStatusChanges::ByUser, BookingStatusChanges::At],
            ),
            index(
                "idx_booking_claims_booking",
                BookingClaims::Table,
                &[BookingClaims::BookingId],
            ),
        ] {
            manager.create_index(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            BookingClaims::Table.into_iden(),
            BookingStatusChanges::Table.into_iden(),
            BookingServices::Table.into_iden(),
            Bookings::Table.into_iden(),
            ModelPrices::Table.into_iden(),
            ServiceOfferings::Table.into_iden(),
            ServiceCategories::Table.into_iden(),
            OpeningHours::Table.into_iden(),
            ServiceLocations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
