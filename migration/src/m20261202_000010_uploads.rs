//! Presigned uploads: a ticket per file a client will PUT outside GraphQL, the file once it
//! arrived, and whether an operation attached it. Unattached files are swept after a day.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Uploads {
    Table,
    Id,
    UploaderId,
    FileName,
    ContentType,
    Size,
    State,
    Path,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Uploads::Table)
                    .col(pk_uuid(Uploads::Id))
                    .col(uuid(Uploads::UploaderId))
                    .col(string_len(Uploads::FileName, 255))
                    .col(string_len(Uploads::ContentType, 64))
                    .col(big_integer(Uploads::Size))
                    // WAITING → RECEIVING → STORED → ATTACHING → ATTACHED, or FAILED.
                    .col(string_len(Uploads::State, 16))
                    .col(string_len_null(Uploads::Path, 300))
                    .col(timestamp_with_time_zone(Uploads::CreatedAt))
                    .col(timestamp_with_time_zone(Uploads::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_uploads_uploader")
                            .from(Uploads::Table, Uploads::UploaderId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_uploads_created_at")
                    .table(Uploads::Table)
                    .col(Uploads::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Uploads::Table).to_owned())
            .await
    }
}
