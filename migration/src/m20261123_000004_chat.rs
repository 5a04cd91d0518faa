//! Chat: rooms, their members with a read mark, and messages numbered per room.
//!
//! `seq` numbers a room's messages in commit order (the room row is updated first in the
//! transaction that adds one); `open_key` is unique, so a DIRECT room per pair of users and an
//! active SUPPORT room per customer and subject exist once however many open them at the same
//! instant; `(room_id, sender_id, client_message_id)` is unique, so a retried send stores once.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum ChatRooms {
    Table,
    Id,
    Kind,
    Title,
    Description,
    IsActive,
    IsPrivate,
    SubjectType,
    SubjectId,
    CustomerId,
    CreatedBy,
    OpenKey,
    LastSeq,
    LastActivityAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ChatMembers {
    Table,
    RoomId,
    UserId,
    AddedBy,
    JoinedAt,
    LastReadSeq,
    LastReadAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ChatMessages {
    Table,
    Id,
    RoomId,
    Seq,
    SenderId,
    Kind,
    Body,
    AttachmentPath,
    AttachmentName,
    AttachmentType,
    AttachmentSize,
    ClientMessageId,
    CreatedAt,
    EditedAt,
    DeletedAt,
}

fn user_fk(name: &str, from: (ChatRooms, ChatRooms)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ChatRooms::Table)
                    .col(pk_uuid(ChatRooms::Id))
                    .col(string_len(ChatRooms::Kind, 16))
                    .col(string_len(ChatRooms::Title, 200))
                    .col(string_len_null(ChatRooms::Description, 1000))
                    .col(boolean(ChatRooms::IsActive).default(true))
                    .col(boolean(ChatRooms::IsPrivate).default(false))
                    .col(string_len_null(ChatRooms::SubjectType, 32))
                    .col(uuid_null(ChatRooms::SubjectId))
                    .col(uuid_null(ChatRooms::CustomerId))
                    .col(uuid(ChatRooms::CreatedBy))
                    .col(string_len_null(ChatRooms::OpenKey, 200).unique_key())
                    .col(big_integer(ChatRooms::LastSeq).default(0))
                    .col(timestamp_with_time_zone(ChatRooms::LastActivityAt))
                    .col(timestamp_with_time_zone(ChatRooms::CreatedAt))
                    .col(timestamp_with_time_zone(ChatRooms::UpdatedAt))
                    .foreign_key(&mut user_fk(
                        "fk_chat_rooms_creator",
                        (ChatRooms::Table, ChatRooms::CreatedBy),
                    ))
                    .foreign_key(&mut user_fk(
                        "fk_chat_rooms_customer",
                        (ChatRooms::Table, ChatRooms::CustomerId),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_chat_rooms_kind_activity")
                    .table(ChatRooms::Table)
                    .col(ChatRooms::Kind)
                    .col(ChatRooms::LastActivityAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ChatMembers::Table)
                    .col(uuid(ChatMembers::RoomId))
                    .col(uuid(ChatMembers::UserId))
                    .col(uuid_null(ChatMembers::AddedBy))
                    .col(timestamp_with_time_zone(ChatMembers::JoinedAt))
                    .col(big_integer(ChatMembers::LastReadSeq).default(0))
                    .col(timestamp_with_time_zone_null(ChatMembers::LastReadAt))
                    .primary_key(
                        Index::create()
                            .col(ChatMembers::RoomId)
                            .col(ChatMembers::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_chat_members_room")
                            .from(ChatMembers::Table, ChatMembers::RoomId)
                            .to(ChatRooms::Table, ChatRooms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_chat_members_user")
                            .from(ChatMembers::Table, ChatMembers::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_chat_members_user")
                    .table(ChatMembers::Table)
                    .col(ChatMembers::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ChatMessages::Table)
                    .col(pk_uuid(ChatMessages::Id))
                    .col(uuid(ChatMessages::RoomId))
                    .col(big_integer(ChatMessages::Seq))
                    .col(uuid_null(ChatMessages::SenderId))
                    .col(string_len(ChatMessages::Kind, 16))
                    .col(text_null(ChatMessages::Body))
                    .col(string_len_null(ChatMessages::AttachmentPath, 200))
                    .col(string_len_null(ChatMessages::AttachmentName, 255))
                    .col(string_len_null(ChatMessages::AttachmentType, 64))
                    .col(big_integer_null(ChatMessages::AttachmentSize))
                    .col(string_len_null(ChatMessages::ClientMessageId, 100))
                    .col(timestamp_with_time_zone(ChatMessages::CreatedAt))
                    .col(timestamp_with_time_zone_null(ChatMessages::EditedAt))
                    .col(timestamp_with_time_zone_null(ChatMessages::DeletedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_chat_messages_room")
                            .from(ChatMessages::Table, ChatMessages::RoomId)
                            .to(ChatRooms::Table, ChatRooms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_chat_messages_sender")
                            .from(ChatMessages::Table, ChatMessages::SenderId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns, unique) in [
            (
                "idx_chat_messages_room_seq",
                vec![ChatMessages::RoomId, ChatMessages::Seq],
                true,
            ),
            (
                "idx_chat_messages_client_id",
                vec![
                    ChatMessages::RoomId,
                    ChatMessages::SenderId,
                    ChatMessages::ClientMessageId,
                ],
                true,
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(ChatMessages::Table);
            for column in columns {
                index.col(column);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ChatMessages::Table.into_iden(),
            ChatMembers::Table.into_iden(),
            ChatRooms::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
