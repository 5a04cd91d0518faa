//! Tables of the chat domain: rooms, members, messages.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What a room is for.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ChatRoomKind {
    /// One customer and the business, about an optional subject; every staff member reads it.
    #[sea_orm(string_value = "SUPPORT")]
    Support,
    /// Two users.
    #[sea_orm(string_value = "DIRECT")]
    Direct,
    /// Staff only, made by a staff member.
    #[sea_orm(string_value = "GROUP")]
    Group,
}

/// What a message carries.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum MessageKind {
    /// Text.
    #[sea_orm(string_value = "TEXT")]
    Text,
    /// A file, with an optional caption.
    #[sea_orm(string_value = "FILE")]
    File,
    /// Written by the system (a member joined, the room was closed…).
    #[sea_orm(string_value = "SYSTEM")]
    System,
}

pub mod room {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "chat_rooms")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub kind: ChatRoomKind,
        pub title: String,
        pub description: Option<String>,
        pub is_active: bool,
        pub is_private: bool,
        pub subject_type: Option<String>,
        pub subject_id: Option<Uuid>,
        /// The customer of a SUPPORT room.
        pub customer_id: Option<Uuid>,
        pub created_by: Uuid,
        /// Unique: one DIRECT room per pair, one active SUPPORT room per customer and subject.
        pub open_key: Option<String>,
        /// The `seq` of the room's newest message (0: none yet).
        pub last_seq: i64,
        pub last_activity_at: DateTimeUtc,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod member {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "chat_members")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub room_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: Uuid,
        pub added_by: Option<Uuid>,
        pub joined_at: DateTimeUtc,
        /// Messages up to this `seq` are read.
        pub last_read_seq: i64,
        pub last_read_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod message {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "chat_messages")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub room_id: Uuid,
        /// The message's place in its room, in commit order.
        pub seq: i64,
        pub sender_id: Option<Uuid>,
        pub kind: MessageKind,
        pub body: Option<String>,
        pub attachment_path: Option<String>,
        pub attachment_name: Option<String>,
        pub attachment_type: Option<String>,
        pub attachment_size: Option<i64>,
        pub client_message_id: Option<String>,
        pub created_at: DateTimeUtc,
        pub edited_at: Option<DateTimeUtc>,
        pub deleted_at: Option<DateTimeUtc>,
        /// The searchable fields folded for search (see `crate::search`); filled on save.
        pub search_text: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    // Every save keeps the search column in step with its fields.
    crate::search_text_from!(body);
}
