//! The events a room's and a user's subscriptions carry.

use super::*;

pub struct MessageCreated(pub(super) message::Model);
pub struct MessageEdited(pub(super) message::Model);
pub struct MessageDeleted(pub(super) message::Model);

macro_rules! message_event {
    ($name:ident, $type_doc:literal, $doc:literal) => {
        #[doc = $type_doc]
        #[Object]
        impl $name {
            #[doc = $doc]
            async fn message(&self) -> ChatMessage {
                ChatMessage(self.0.clone())
            }
        }
    };
}
message_event!(MessageCreated, "A new message.", "The message.");
message_event!(
    MessageEdited,
    "A message's new text.",
    "The message as edited."
);
message_event!(
    MessageDeleted,
    "A message was deleted.",
    "The message, without body or attachment."
);

pub struct TypingEvent {
    pub(super) room_id: Uuid,
    pub(super) user_id: Uuid,
    pub(super) is_typing: bool,
    pub(super) expires_at: DateTime<Utc>,
}

/// Someone is (or stopped) typing in a room.
#[Object]
impl TypingEvent {
    /// The room.
    async fn room_id(&self) -> ID {
        to_id(self.room_id)
    }
    /// Who is typing.
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        User::by_id(ctx, self.user_id).await
    }
    /// True while typing; false when they stopped or the indicator expired.
    async fn is_typing(&self) -> bool {
        self.is_typing
    }
    /// When the indicator lapses unless renewed.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
}

pub struct MemberAdded {
    pub(super) room_id: Uuid,
    pub(super) user_id: Uuid,
    pub(super) added_by: Option<Uuid>,
}

/// Someone joined a room.
#[Object]
impl MemberAdded {
    /// The room.
    async fn room_id(&self) -> ID {
        to_id(self.room_id)
    }
    /// The new member.
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        User::by_id(ctx, self.user_id).await
    }
    /// Who added them; null when they joined by answering.
    async fn added_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        optional_user(ctx, self.added_by).await
    }
}

pub struct MemberRemoved {
    pub(super) room_id: Uuid,
    pub(super) user_id: Uuid,
    pub(super) removed_by: Option<Uuid>,
}

/// Someone left or was removed from a room.
#[Object]
impl MemberRemoved {
    /// The room.
    async fn room_id(&self) -> ID {
        to_id(self.room_id)
    }
    /// The former member.
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        User::by_id(ctx, self.user_id).await
    }
    /// Who removed them; null when they left.
    async fn removed_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        optional_user(ctx, self.removed_by).await
    }
}

pub struct RoomUpdated(pub(super) room::Model);

/// The room changed (title, description, open or closed).
#[Object]
impl RoomUpdated {
    /// The room as it is now.
    async fn room(&self) -> ChatRoom {
        ChatRoom(self.0.clone())
    }
}

pub struct RoomRead {
    pub(super) room_id: Uuid,
    pub(super) user_id: Uuid,
    pub(super) last_read_at: DateTime<Utc>,
}

/// A member moved their read mark.
#[Object]
impl RoomRead {
    /// The room.
    async fn room_id(&self) -> ID {
        to_id(self.room_id)
    }
    /// Who read it.
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        User::by_id(ctx, self.user_id).await
    }
    /// Up to when.
    async fn last_read_at(&self) -> DateTime<Utc> {
        self.last_read_at
    }
}

/// Every event of one room.
#[derive(Union)]
pub enum ChatRoomEvent {
    MessageCreated(MessageCreated),
    MessageEdited(MessageEdited),
    MessageDeleted(MessageDeleted),
    TypingEvent(TypingEvent),
    MemberAdded(MemberAdded),
    MemberRemoved(MemberRemoved),
    RoomUpdated(RoomUpdated),
    RoomRead(RoomRead),
}

impl ChatRoomEvent {
    pub(super) fn from_event(event: &ChatEvent) -> Option<Self> {
        Some(match event.clone() {
            ChatEvent::MessageCreated { message } => {
                Self::MessageCreated(MessageCreated(message.into()))
            }
            ChatEvent::MessageEdited { message } => {
                Self::MessageEdited(MessageEdited(message.into()))
            }
            ChatEvent::MessageDeleted { message } => {
                Self::MessageDeleted(MessageDeleted(message.into()))
            }
            ChatEvent::Typing {
                room_id,
                user_id,
                is_typing,
                expires_at,
            } => Self::TypingEvent(TypingEvent {
                room_id,
                user_id,
                is_typing,
                expires_at,
            }),
            ChatEvent::MemberAdded {
                room_id,
                user_id,
                added_by,
            } => Self::MemberAdded(MemberAdded {
                room_id,
                user_id,
                added_by,
            }),
            ChatEvent::MemberRemoved {
                room_id,
                user_id,
                removed_by,
            } => Self::MemberRemoved(MemberRemoved {
                room_id,
                user_id,
                removed_by,
            }),
            ChatEvent::RoomUpdated { room } => Self::RoomUpdated(RoomUpdated(room.into())),
            ChatEvent::RoomRead {
                room_id,
                user_id,
                last_read_at,
            } => Self::RoomRead(RoomRead {
                room_id,
                user_id,
                last_read_at,
            }),
            ChatEvent::RoomActivity { .. } => return None,
        })
    }
}

pub struct RoomActivity {
    pub(super) room_id: Uuid,
}

/// Something new in one of the viewer's rooms.
#[Object]
impl RoomActivity {
    /// The room, as it is now.
    async fn room(&self, ctx: &Context<'_>) -> Result<ChatRoom> {
        room_of(ctx, self.room_id).await
    }
    /// Its newest message.
    async fn last_message(&self, ctx: &Context<'_>) -> Result<Option<ChatMessage>> {
        self.room(ctx).await?.last_message(ctx).await
    }
    /// True when the viewer has unread messages there.
    async fn has_unread(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(self.unread_count(ctx).await? > 0)
    }
    /// How many.
    async fn unread_count(&self, ctx: &Context<'_>) -> Result<i64> {
        unread_in(ctx, self.room_id).await
    }
}

pub struct NotificationCreated(pub(super) crate::notifications::entity::notification::Model);

/// A notification for the viewer.
#[Object]
impl NotificationCreated {
    /// The notification.
    async fn notification(&self) -> Notification {
        Notification(self.0.clone())
    }
}

pub struct PresenceChanged {
    pub(super) user_id: Uuid,
    pub(super) is_online: bool,
    pub(super) last_seen_at: Option<DateTime<Utc>>,
}

/// Someone the viewer shares a room with came online or went offline.
#[Object]
impl PresenceChanged {
    /// Who.
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        User::by_id(ctx, self.user_id).await
    }
    /// True while they have a live connection.
    async fn is_online(&self) -> bool {
        self.is_online
    }
    /// When they went offline.
    async fn last_seen_at(&self) -> Option<DateTime<Utc>> {
        self.last_seen_at
    }
}

/// Everything addressed to the viewer, across rooms.
#[derive(Union)]
pub enum UserEvent {
    RoomActivity(RoomActivity),
    NotificationCreated(NotificationCreated),
    PresenceChanged(PresenceChanged),
}

/// A room's events for a subscriber; it ends after the subscriber's own removal from the room.
pub(super) fn room_events(
    events: &crate::events::Events,
    room_id: Uuid,
    me: &Identity,
) -> impl Stream<Item = Result<ChatRoomEvent>> + Send + 'static {
    let me = me.user_id;
    let deliveries = Box::pin(events.subscribe(Topic::Room(room_id)));
    futures_util::stream::unfold(
        (deliveries, false),
        move |(mut deliveries, ended)| async move {
            if ended {
                return None;
            }
            loop {
                let event: Arc<crate::events::Event> = match deliveries.next().await? {
                    Delivery::Missed(n) => return Some((Err(missed(n)), (deliveries, false))),
                    Delivery::Event(event) => event,
                };
                let Some(event) = event.get::<ChatEvent>() else {
                    continue;
                };
                let removed =
                    matches!(event, ChatEvent::MemberRemoved { user_id, .. } if *user_id == me);
                if let Some(item) = ChatRoomEvent::from_event(event) {
                    return Some((Ok(item), (deliveries, removed)));
                }
            }
        },
    )
}

pub(super) async fn watch(ctx: &Context<'_>, room_id: &ID) -> Result<(Identity, Uuid)> {
    let room = parse_id("roomId", room_id)?;
    let access = service::readable(&state(ctx)?.db, viewer(ctx)?, room).await?;
    Ok((access.identity, room))
}
