//! Vehicles, workshop and sales: units with their photos, service records, and recorded sales.
//!
//! Money is kept as integer cents (BIGINT) on both databases: exact, sortable, and read back the
//! same by SQLite and PostgreSQL. Every ordering the API offers has an index ending in `id`, the
//! tie-break of its keyset cursors.

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
    Vin,
    Make,
    Model,
    Trim,
    Year,
    Mileage,
    FuelType,
    BodyType,
    Transmission,
    Color,
    LicensePlate,
    Location,
    PurchaseDate,
    Status,
    IsListed,
    ListPriceCents,
    PriceSort,
    Notes,
    OwnerId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum UnitPhotos {
    Table,
    Id,
    UnitId,
    Path,
    ContentType,
    ByteSize,
    AltText,
    Position,
    IsPrimary,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ServiceRecords {
    Table,
    Id,
    UnitId,
    Description,
    Location,
    ScheduledFor,
    CompletedAt,
    CostCents,
    Status,
    IsPastHistory,
    TechnicianId,
    Notes,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Sales {
    Table,
    Id,
    UnitId,
    PriceCents,
    SoldOn,
    BuyerName,
    BuyerEmail,
    BuyerPhone,
    BuyerId,
    PaymentMethod,
    Notes,
    SalespersonId,
    CommissionRateBp,
    CommissionCents,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

fn index<T: IntoIden + Clone + 'static>(name: &str, table: T, cols: &[T]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(col.clone());
    }
    index.to_owned()
}

fn user_fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(Users::Table, Users::Id)
        .on_delete(on_delete)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Units::Table)
                    .col(pk_uuid(Units::Id))
                    .col(string_len_uniq(Units::Vin, 17))
                    .col(string_len(Units::Make, 60))
                    .col(string_len(Units::Model, 60))
                    .col(string_len_null(Units::Trim, 60))
                    .col(integer(Units::Year))
                    .col(integer(Units::Mileage))
                    .col(string_len_null(Units::FuelType, 16))
                    .col(string_len_null(Units::BodyType, 16))
                    .col(string_len_null(Units::Transmission, 16))
                    .col(string_len_null(Units::Color, 40))
                    .col(string_len_null(Units::LicensePlate, 20))
                    .col(string_len_null(Units::Location, 120))
                    .col(date_null(Units::PurchaseDate))
                    .col(string_len(Units::Status, 16))
                    .col(boolean(Units::IsListed).default(false))
                    .col(big_integer_null(Units::ListPriceCents))
                    // The PRICE ordering's key: the price, or -1 without one, kept by the service.
                    // A plain indexed column orders and pages the same way on both databases,
                    // where COALESCE(list_price_cents, -1) would need an expression index.
                    .col(big_integer(Units::PriceSort).default(-1))
                    .col(string_len_null(Units::Notes, 2000))
                    .col(uuid_null(Units::OwnerId))
                    .col(timestamp_with_time_zone(Units::CreatedAt))
                    .col(timestamp_with_time_zone(Units::UpdatedAt))
                    .foreign_key(&mut user_fk(
                        "fk_units_owner",
                        (Units::Table, Units::OwnerId),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        for statement in [
            index(
                "idx_units_created",
                Units::Table,
                &[Units::CreatedAt, Units::Id],
            ),
            index(
                "idx_units_listed_created",
                Units::Table,
                &[Units::IsListed, Units::CreatedAt, Units::Id],
            ),
            index(
                "idx_units_owner",
                Units::Table,
                &[Units::OwnerId, Units::CreatedAt],
            ),
            index("idx_units_year", Units::Table, &[Units::Year, Units::Id]),
            index(
                "idx_units_mileage",
                Units::Table,
                &[Units::Mileage, Units::Id],
            ),
            index("idx_units_status", Units::Table, &[Units::Status]),
            index(
                "idx_units_make_model",
                Units::Table,
                &[Units::Make, Units::Model],
            ),
        ] {
            manager.create_index(statement).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(UnitPhotos::Table)
                    .col(pk_uuid(UnitPhotos::Id))
                    .col(uuid(UnitPhotos::UnitId))
                    .col(string_len_uniq(UnitPhotos::Path, 200))
                    .col(string_len(UnitPhotos::ContentType, 32))
                    .col(big_integer(UnitPhotos::ByteSize))
                    .col(string_len_null(UnitPhotos::AltText, 200))
                    .col(integer(UnitPhotos::Position))
                    .col(boolean(UnitPhotos::IsPrimary).default(false))
                    .col(timestamp_with_time_zone(UnitPhotos::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_unit_photos_unit")
                            .from(UnitPhotos::Table, UnitPhotos::UnitId)
                            .to(Units::Table, Units::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_unit_photos_unit",
                UnitPhotos::Table,
                &[UnitPhotos::UnitId, UnitPhotos::Position],
            ))
            .await?;
        // At most one primary photo per unit, whatever races.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX idx_unit_photos_one_primary ON unit_photos (unit_id) WHERE is_primary",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ServiceRecords::Table)
                    .col(pk_uuid(ServiceRecords::Id))
                    .col(uuid(ServiceRecords::UnitId))
                    .col(string_len(ServiceRecords::Description, 2000))
                    .col(string_len_null(ServiceRecords::Location, 120))
                    .col(date_null(ServiceRecords::ScheduledFor))
                    .col(timestamp_with_time_zone_null(ServiceRecords::CompletedAt))
                    .col(big_integer_null(ServiceRecords::CostCents))
                    .col(string_len(ServiceRecords::Status, 16))
                    .col(boolean(ServiceRecords::IsPastHistory).default(false))
                    .col(uuid_null(ServiceRecords::TechnicianId))
                    .col(string_len_null(ServiceRecords::Notes, 2000))
                    .col(uuid(ServiceRecords::CreatedBy))
                    .col(timestamp_with_time_zone(ServiceRecords::CreatedAt))
                    .col(timestamp_with_time_zone(ServiceRecords::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_service_records_unit")
                            .from(ServiceRecords::Table, ServiceRecords::UnitId)
                            .to(Units::Table, Units::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(&mut user_fk(
                        "fk_service_records_technician",
                        (ServiceRecords::Table, ServiceRecords::TechnicianId),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut user_fk(
                        "fk_service_records_created_by",
                        (ServiceRecords::Table, ServiceRecords::CreatedBy),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        for statement in [
            index(
                "idx_service_records_unit",
                ServiceRecords::Table,
                &[
                    ServiceRecords::UnitId,
                    ServiceRecords::CreatedAt,
                    ServiceRecords::Id,
                ],
            ),
            index(
                "idx_service_records_created",
                ServiceRecords::Table,
                &[ServiceRecords::CreatedAt, ServiceRecords::Id],
            ),
            index(
                "idx_service_records_technician",
                ServiceRecords::Table,
                &[ServiceRecords::TechnicianId, ServiceRecords::Status],
            ),
        ] {
            manager.create_index(statement).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Sales::Table)
                    .col(pk_uuid(Sales::Id))
                    // A unit is sold at most once: the database refuses a second sale.
                    .col(uuid_uniq(Sales::UnitId))
                    .col(big_integer(Sales::PriceCents))
                    .col(date(Sales::SoldOn))
                    .col(string_len(Sales::BuyerName, 200))
                    .col(string_len_null(Sales::BuyerEmail, 254))
                    .col(string_len_null(Sales::BuyerPhone, 32))
                    .col(uuid_null(Sales::BuyerId))
                    .col(string_len(Sales::PaymentMethod, 16))
                    .col(string_len_null(Sales::Notes, 2000))
                    .col(uuid_null(Sales::SalespersonId))
                    .col(integer_null(Sales::CommissionRateBp))
                    .col(big_integer_null(Sales::CommissionCents))
                    .col(uuid(Sales::CreatedBy))
                    .col(timestamp_with_time_zone(Sales::CreatedAt))
                    .col(timestamp_with_time_zone(Sales::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sales_unit")
                            .from(Sales::Table, Sales::UnitId)
                            .to(Units::Table, Units::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(&mut user_fk(
                        "fk_sales_buyer",
                        (Sales::Table, Sales::BuyerId),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut user_fk(
                        "fk_sales_salesperson",
                        (Sales::Table, Sales::SalespersonId),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut user_fk(
                        "fk_sales_created_by",
                        (Sales::Table, Sales::CreatedBy),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        for statement in [
            index(
                "idx_sales_sold_on",
                Sales::Table,
                &[Sales::SoldOn, Sales::Id],
            ),
            index(
                "idx_sales_salesperson",
                Sales::Table,
                &[Sales::SalespersonId, Sales::SoldOn],
            ),
            index("idx_sales_buyer", Sales::Table, &[Sales::BuyerId]),
        ] {
            manager.create_index(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Sales::Table.into_iden(),
            ServiceRecords::Table.into_iden(),
            UnitPhotos::Table.into_iden(),
            Units::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
