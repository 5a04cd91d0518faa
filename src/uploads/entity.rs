//! The uploads table.

use sea_orm::entity::prelude::*;

/// Where a presigned upload stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum UploadState {
    /// The ticket is out; no PUT yet.
    #[sea_orm(string_value = "WAITING")]
    Waiting,
    /// A PUT is streaming in (a second PUT is refused from here on).
    #[sea_orm(string_value = "RECEIVING")]
    Receiving,
    /// The file passed its checks and waits to be attached.
    #[sea_orm(string_value = "STORED")]
    Stored,
    /// An operation is attaching it.
    #[sea_orm(string_value = "ATTACHING")]
    Attaching,
    /// An operation attached it (the file now lives where that operation stored it).
    #[sea_orm(string_value = "ATTACHED")]
    Attached,
    /// The PUT was refused; nothing was kept.
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

pub mod upload {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "uploads")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub uploader_id: Uuid,
        pub file_name: String,
        /// As declared when the ticket was asked for; the bytes must match it.
        pub content_type: String,
        /// The most bytes the PUT may carry.
        pub size: i64,
        pub state: UploadState,
        /// Under MEDIA_DIR, once stored.
        pub path: Option<String>,
        pub created_at: DateTimeUtc,
        /// When the ticket's URL stops working.
        pub expires_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
