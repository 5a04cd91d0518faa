//! The rules of chat: who opens, reads and manages which room, messages and read marks. Every
//! change commits first and is published to the room (and to members' user topics) after.
//!
//! Ordering: the transaction that adds a message first bumps its room's `last_seq` (a row lock on
//! PostgreSQL, the write lock on SQLite), so `seq` follows commit order; on one instance, a
//! room's writes also hold the room's stripe of an in-process lock from that bump until their
//! events are published, so subscribers receive them in `seq` order.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use super::entity::{member, message, room, ChatRoomKind, MessageKind};
use super::events::ChatEvent;
use crate::accounts::entity::user;
use crate::accounts::service as accounts;
use crate::accounts::Role;
use crate::app::AppState;
use crate::auth::viewer::Identity;
use crate::auth::Viewer;
use crate::bookings::service as bookings;
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::events::{Events, Outbox, Topic};
use crate::input;
use crate::notifications::entity::NotificationKind;
use crate::notifications::service::{self as notifications, Notice};
use crate::paging::{self, KeyKind, PageArgs, Slice, Sort};
use crate::sales::service as sales;
use crate::units::service as units;
use crate::workshop::service as workshop;

mod access;
mod messages;
mod reads;
mod rooms;

pub use access::*;
pub use messages::*;
pub use reads::*;
pub use rooms::*;
