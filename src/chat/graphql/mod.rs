//! The GraphQL face of chat: rooms, messages, the room and user event streams, and typing.

use std::sync::Arc;

use async_graphql::{
    Context, Enum, InputObject, Object, Result, SimpleObject, Subscription, Union, Upload, ID,
};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use uuid::Uuid;

use sea_orm::sea_query::Expr;

use super::entity::{member, message, room, ChatRoomKind, MessageKind};
use super::events::ChatEvent;
use super::loaders::{LastMessage, Members, RoomId, Rooms, Unread};
use super::service::{self, NewGroup, OpenSupport, RoomUpdate, SubjectType};
use crate::accounts::graphql::User;
use crate::accounts::loaders::{UserId, Users};
use crate::auth::viewer::Identity;
use crate::bookings::graphql::Booking;
use crate::bookings::loaders::{BookingId, Bookings};
use crate::error::AppError;
use crate::events::{Delivery, Topic};
use crate::graphql::fanout::{shared, Share};
use crate::graphql::pagination::{self, Page};
use crate::graphql::{loader, missed, parse_id, parse_optional_id, state, to_id, viewer};
use crate::notifications::events::NotificationEvent;
use crate::notifications::graphql::Notification;
use crate::paging::{self, KeyKind, PageArgs, Slice, Sort};
use crate::sales::graphql::Sale;
use crate::sales::loaders::{SaleId, Sales};
use crate::units::graphql::Unit;
use crate::units::loaders::{UnitId, Units};
use crate::workshop::graphql::ServiceRecord;
use crate::workshop::loaders::{RecordId, Records};

/// Fields whose answer depends on which staff member asks, not only on their role (see
/// `graphql::fanout`): the viewer's own unread count.
pub const PERSONAL: &[&str] = &["unreadCount", "hasUnread"];

mod events;
mod inputs;
mod objects;
mod operations;
mod subscriptions;

pub use events::*;
pub use inputs::*;
pub use objects::*;
pub use operations::*;
pub use subscriptions::*;
