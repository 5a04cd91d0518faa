//! The notifications table.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What a notification is about.
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
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum NotificationKind {
    /// A customer booked (sent to staff).
    #[sea_orm(string_value = "BOOKING_CREATED")]
    BookingCreated,
    /// Staff confirmed a booking.
    #[sea_orm(string_value = "BOOKING_CONFIRMED")]
    BookingConfirmed,
    /// Staff declined a booking.
    #[sea_orm(string_value = "BOOKING_DECLINED")]
    BookingDeclined,
    /// A booking was cancelled.
    #[sea_orm(string_value = "BOOKING_CANCELLED")]
    BookingCancelled,
    /// A booking moved to another time.
    #[sea_orm(string_value = "BOOKING_RESCHEDULED")]
    BookingRescheduled,
    /// A service record of one of the user's units changed status.
    #[sea_orm(string_value = "SERVICE_STATUS_CHANGED")]
    ServiceStatusChanged,
    /// A sale of the user's unit, or made by the user, was recorded.
    #[sea_orm(string_value = "SALE_RECORDED")]
    SaleRecorded,
    /// New messages in a room (one unread notification per room).
    #[sea_orm(string_value = "NEW_MESSAGE")]
    NewMessage,
    /// The user was added to a chat room.
    #[sea_orm(string_value = "MEMBER_ADDED")]
    MemberAdded,
    /// Someone the user referred qualified them for a reward.
    #[sea_orm(string_value = "REFERRAL_CREDITED")]
    ReferralCredited,
    /// A message from the business.
    #[sea_orm(string_value = "SYSTEM")]
    System,
}

pub mod notification {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notifications")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        pub kind: NotificationKind,
        pub title: String,
        pub body: String,
        pub subject_type: Option<String>,
        pub subject_id: Option<Uuid>,
        pub is_read: bool,
        pub read_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
