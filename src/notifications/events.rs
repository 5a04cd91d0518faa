//! Notifications' events, on the wire between instances as `notifications` version 1: their own
//! types, so a change to the table does not change what instances say to each other.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::entity::{notification, NotificationKind};
use crate::events::DomainEvent;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum NotificationEvent {
    /// A notification was stored for the topic's user.
    Created { notification: Stored },
}

impl DomainEvent for NotificationEvent {
    const KIND: &'static str = "notifications";
    const VERSION: u32 = 1;
}

/// A stored notification as the event carries it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stored {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    pub subject_type: Option<String>,
    pub subject_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

// A new notification is unread.
crate::mirror!(
    Stored,
    notification::Model,
    [id, user_id, kind, title, body, subject_type, subject_id, created_at],
    { is_read: false, read_at: None }
);
