//! Notifications: stored per user, newest first, with a read mark.
//!
//! NEW_MESSAGE notifications are coalesced per room: a partial unique index allows one unread
//! NEW_MESSAGE per user and subject, so two messages arriving at once cannot both create one.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Notifications {
    Table,
    Id,
    UserId,
    Kind,
    Title,
    Body,
    SubjectType,
    SubjectId,
    IsRead,
    ReadAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(pk_uuid(Notifications::Id))
                    .col(uuid(Notifications::UserId))
                    .col(string_len(Notifications::Kind, 32))
                    .col(string_len(Notifications::Title, 200))
                    .col(string_len(Notifications::Body, 1000))
                    .col(string_len_null(Notifications::SubjectType, 32))
                    .col(uuid_null(Notifications::SubjectId))
                    .col(boolean(Notifications::IsRead).default(false))
                    .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notifications_user")
                            .from(Notifications::Table, Notifications::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The list (newest first) and the unread count and list.
        for (name, columns) in [
            (
                "idx_notifications_user_created",
                [
                    Notifications::UserId,
                    Notifications::CreatedAt,
                    Notifications::Id,
                ],
            ),
            (
                "idx_notifications_user_unread",
                [
                    Notifications::UserId,
                    Notifications::IsRead,
                    Notifications::CreatedAt,
                ],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Notifications::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX idx_notifications_one_unread_message ON notifications \
                 (user_id, subject_id) WHERE kind = 'NEW_MESSAGE' AND NOT is_read",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Notifications::Table).to_owned())
            .await
    }
}
