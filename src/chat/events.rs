//! Chat's events, on the wire between instances as `chat` version 1: what a room's subscribers
//! and its members' user topics hear. Their own types, so a change to a table does not change
//! what instances say to each other.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::entity::{message, room, ChatRoomKind, MessageKind};
use crate::events::DomainEvent;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ChatEvent {
    /// A message was sent to the room.
    MessageCreated {
        message: Message,
    },
    /// A message's body changed.
    MessageEdited {
        message: Message,
    },
    /// A message was deleted (it keeps its place).
    MessageDeleted {
        message: Message,
    },
    /// Someone started or stopped typing in the room (not stored).
    Typing {
        room_id: Uuid,
        user_id: Uuid,
        is_typing: bool,
        expires_at: DateTime<Utc>,
    },
    MemberAdded {
        room_id: Uuid,
        user_id: Uuid,
        added_by: Option<Uuid>,
    },
    MemberRemoved {
        room_id: Uuid,
        user_id: Uuid,
        removed_by: Option<Uuid>,
    },
    RoomUpdated {
        room: Room,
    },
    /// A member moved their read mark.
    RoomRead {
        room_id: Uuid,
        user_id: Uuid,
        last_read_at: DateTime<Utc>,
    },
    /// To a member's user topic: something new in one of their rooms.
    RoomActivity {
        room_id: Uuid,
    },
}

impl DomainEvent for ChatEvent {
    const KIND: &'static str = "chat";
    const VERSION: u32 = 1;
}

/// A message as events carry it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    pub id: Uuid,
    pub room_id: Uuid,
    pub seq: i64,
    pub sender_id: Option<Uuid>,
    pub kind: MessageKind,
    pub body: Option<String>,
    pub attachment_path: Option<String>,
    pub attachment_name: Option<String>,
    pub attachment_type: Option<String>,
    pub attachment_size: Option<i64>,
    pub client_message_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
}

crate::mirror!(
    Message,
    message::Model,
    [
        id,
        room_id,
        seq,
        sender_id,
        kind,
        body,
        attachment_path,
        attachment_name,
        attachment_type,
        attachment_size,
        client_message_id,
        created_at,
        edited_at,
        deleted_at,
    ],
    { search_text: None }
);

/// A room as events carry it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Room {
    pub id: Uuid,
    pub kind: ChatRoomKind,
    pub title: String,
    pub description: Option<String>,
    pub is_active: bool,
    pub is_private: bool,
    pub subject_type: Option<String>,
    pub subject_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub created_by: Uuid,
    pub last_seq: i64,
    pub last_activity_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

// The open key stays with the database (it only guards uniqueness there).
crate::mirror!(
    Room,
    room::Model,
    [
        id,
        kind,
        title,
        description,
        is_active,
        is_private,
        subject_type,
        subject_id,
        customer_id,
        created_by,
        last_seq,
        last_activity_at,
        created_at,
        updated_at,
    ],
    { open_key: None }
);
