//! Payments of bookings and sales, their refunds and the provider's events; devices registered
//! for push notifications, and the queue of pushes waiting to be delivered.
//!
//! A payment belongs to a booking or a sale. What is paid is summed from the payments in the
//! transaction that records one, with the booking's (or sale's) row locked first, so two payments
//! at the same instant cannot together exceed the price. A provider event is stored by its id
//! (the primary key), so a replay inserts nothing. A push waits in `push_jobs` (one row per
//! notification and device) until the gateway took it, so a restart loses none.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Bookings {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Sales {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Notifications {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Payments {
    Table,
    Id,
    BookingId,
    SaleId,
    CustomerId,
    AmountCents,
    RefundedCents,
    Currency,
    Method,
    Status,
    Provider,
    ProviderReference,
    CheckoutUrl,
    RecordedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PaymentRefunds {
    Table,
    Id,
    PaymentId,
    AmountCents,
    Reason,
    RefundedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PaymentEvents {
    Table,
    EventId,
    PaymentId,
    Status,
    ReceivedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Devices {
    Table,
    Id,
    UserId,
    SessionId,
    Token,
    Platform,
    Name,
    CreatedAt,
    LastSeenAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PushJobs {
    Table,
    NotificationId,
    DeviceId,
    Attempts,
    NextAttemptAt,
    CreatedAt,
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

fn index(name: &str, table: impl IntoIden, cols: &[Payments]) -> IndexCreateStatement {
    let mut index = Index::create().name(name).table(table).to_owned();
    for col in cols {
        index.col(*col);
    }
    index
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, SetNull};
        manager
            .create_table(
                Table::create()
                    .table(Payments::Table)
                    .col(pk_uuid(Payments::Id))
                    .col(uuid_null(Payments::BookingId))
                    .col(uuid_null(Payments::SaleId))
                    .col(uuid_null(Payments::CustomerId))
                    .col(big_integer(Payments::AmountCents))
                    .col(big_integer(Payments::RefundedCents).default(0))
                    .col(string_len(Payments::Currency, 3))
                    .col(string_len(Payments::Method, 16))
                    .col(string_len(Payments::Status, 16))
                    .col(string_len_null(Payments::Provider, 32))
                    .col(string_len_null(Payments::ProviderReference, 200))
                    .col(string_len_null(Payments::CheckoutUrl, 2000))
                    .col(uuid_null(Payments::RecordedBy))
                    .col(timestamp_with_time_zone(Payments::CreatedAt))
                    .col(timestamp_with_time_zone(Payments::UpdatedAt))
                    // Payments are the books: they outlive a deleted booking (its unit deleted)
                    // or user. A sale with payments cannot be deleted (the service says so).
                    .foreign_key(&mut fk(
                        "fk_payments_booking",
                        (Payments::Table, Payments::BookingId),
                        (Bookings::Table, Bookings::Id),
                        SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "fk_payments_sale",
                        (Payments::Table, Payments::SaleId),
                        (Sales::Table, Sales::Id),
                        SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "fk_payments_customer",
                        (Payments::Table, Payments::CustomerId),
                        (Users::Table, Users::Id),
                        SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "fk_payments_recorded_by",
                        (Payments::Table, Payments::RecordedBy),
                        (Users::Table, Users::Id),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("idx_payments_booking", &[Payments::BookingId][..]),
            ("idx_payments_sale", &[Payments::SaleId][..]),
            ("idx_payments_created_at", &[Payments::CreatedAt][..]),
        ] {
            manager
                .create_index(index(name, Payments::Table, cols))
                .await?;
        }
        manager
            .create_index(
                index(
                    "idx_payments_provider_reference",
                    Payments::Table,
                    &[Payments::Provider, Payments::ProviderReference],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PaymentRefunds::Table)
                    .col(pk_uuid(PaymentRefunds::Id))
                    .col(uuid(PaymentRefunds::PaymentId))
                    .col(big_integer(PaymentRefunds::AmountCents))
                    .col(string_len_null(PaymentRefunds::Reason, 500))
                    .col(uuid_null(PaymentRefunds::RefundedBy))
                    .col(timestamp_with_time_zone(PaymentRefunds::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_payment_refunds_payment",
                        (PaymentRefunds::Table, PaymentRefunds::PaymentId),
                        (Payments::Table, Payments::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_payment_refunds_refunded_by",
                        (PaymentRefunds::Table, PaymentRefunds::RefundedBy),
                        (Users::Table, Users::Id),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_payment_refunds_payment")
                    .table(PaymentRefunds::Table)
                    .col(PaymentRefunds::PaymentId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_payment_refunds_created_at")
                    .table(PaymentRefunds::Table)
                    .col(PaymentRefunds::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PaymentEvents::Table)
                    .col(string_len(PaymentEvents::EventId, 200).primary_key())
                    .col(uuid_null(PaymentEvents::PaymentId))
                    .col(string_len(PaymentEvents::Status, 16))
                    .col(timestamp_with_time_zone(PaymentEvents::ReceivedAt))
                    .foreign_key(&mut fk(
                        "fk_payment_events_payment",
                        (PaymentEvents::Table, PaymentEvents::PaymentId),
                        (Payments::Table, Payments::Id),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Devices::Table)
                    .col(pk_uuid(Devices::Id))
                    .col(uuid(Devices::UserId))
                    .col(uuid_null(Devices::SessionId))
                    .col(string_len_uniq(Devices::Token, 1000))
                    .col(string_len(Devices::Platform, 16))
                    .col(string_len_null(Devices::Name, 100))
                    .col(timestamp_with_time_zone(Devices::CreatedAt))
                    .col(timestamp_with_time_zone(Devices::LastSeenAt))
                    .foreign_key(&mut fk(
                        "fk_devices_user",
                        (Devices::Table, Devices::UserId),
                        (Users::Table, Users::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_devices_user", Devices::UserId),
            ("idx_devices_session", Devices::SessionId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Devices::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PushJobs::Table)
                    .col(uuid(PushJobs::NotificationId))
                    .col(uuid(PushJobs::DeviceId))
                    .col(integer(PushJobs::Attempts).default(0))
                    .col(timestamp_with_time_zone(PushJobs::NextAttemptAt))
                    .col(timestamp_with_time_zone(PushJobs::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(PushJobs::NotificationId)
                            .col(PushJobs::DeviceId),
                    )
                    .foreign_key(&mut fk(
                        "fk_push_jobs_notification",
                        (PushJobs::Table, PushJobs::NotificationId),
                        (Notifications::Table, Notifications::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_push_jobs_device",
                        (PushJobs::Table, PushJobs::DeviceId),
                        (Devices::Table, Devices::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_push_jobs_next_attempt_at")
                    .table(PushJobs::Table)
                    .col(PushJobs::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PushJobs::Table.into_iden(),
            Devices::Table.into_iden(),
            PaymentEvents::Table.into_iden(),
            PaymentRefunds::Table.into_iden(),
            Payments::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
