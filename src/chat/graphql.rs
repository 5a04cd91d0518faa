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
use super::service::{self, NewGroup, OpenSupport, RoomUpdate, SubjectType};
use crate::accounts::graphql::User;
use crate::auth::viewer::Identity;
use crate::error::AppError;
use crate::events::{Delivery, Event, Topic};
use crate::graphql::pagination::{self, Page};
use crate::graphql::{loaders, parse_id, parse_optional_id, state, to_id, viewer};
use crate::notifications::graphql::{missed, Notification};
use crate::paging::{self, KeyKind, PageArgs, Slice, Sort};
use crate::sales::graphql::Sale;
use crate::units::graphql::Unit;
use crate::workshop::graphql::ServiceRecord;

async fn user(ctx: &Context<'_>, id: Uuid) -> Result<User> {
    let user = loaders(ctx)?.users.load_one(id).await?;
    Ok(User::new(user.ok_or_else(|| AppError::not_found("User"))?))
}

async fn optional_user(ctx: &Context<'_>, id: Option<Uuid>) -> Result<Option<User>> {
    match id {
        Some(id) => Ok(Some(user(ctx, id).await?)),
        None => Ok(None),
    }
}

/// The viewer's unread messages in a room (batched across rooms by the `unread` loader).
async fn unread_in(ctx: &Context<'_>, room_id: Uuid) -> Result<i64> {
    let unread = loaders(ctx)?.unread.load_one(room_id).await?;
    Ok(unread.map_or(0, |n| i64::try_from(n).unwrap_or(i64::MAX)))
}

async fn room_of(ctx: &Context<'_>, id: Uuid) -> Result<ChatRoom> {
    let room = loaders(ctx)?.rooms.load_one(id).await?;
    Ok(ChatRoom(
        room.ok_or_else(|| AppError::not_found("Chat room"))?,
    ))
}

/// What a room is about.
#[derive(Union)]
#[allow(clippy::large_enum_variant)] // built once per room resolved, never stored
pub enum ChatSubject {
    Unit(Unit),
    ServiceRecord(ServiceRecord),
    Sale(Sale),
}

pub struct ChatRoom(pub room::Model);

fn member_sort() -> Sort {
    Sort::new(
        "MEMBER_JOINED_AT",
        Expr::col((member::Entity, member::Column::JoinedAt)),
        KeyKind::Time,
        Expr::col((member::Entity, member::Column::UserId)),
        false,
    )
}

/// A conversation: SUPPORT (a customer and the business, about an optional subject), DIRECT
/// (two users) or GROUP (staff).
#[Object]
impl ChatRoom {
    /// The room's id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// SUPPORT, DIRECT or GROUP.
    async fn kind(&self) -> ChatRoomKind {
        self.0.kind
    }
    /// Its name.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// What it is for (group rooms).
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// False once closed: a closed room takes no messages.
    async fn is_active(&self) -> bool {
        self.0.is_active
    }
    /// A label for clients: every group room is read by its members only.
    async fn is_private(&self) -> bool {
        self.0.is_private
    }
    /// The unit, service record or sale a support room is about; null when none, or when the
    /// viewer may not see it.
    async fn subject(&self, ctx: &Context<'_>) -> Result<Option<ChatSubject>> {
        let (Some(kind), Some(id)) = (self.0.subject_type.as_deref(), self.0.subject_id) else {
            return Ok(None);
        };
        let state = state(ctx)?;
        let viewer = viewer(ctx)?;
        // Not visible to the viewer → null; any other failure is an error.
        let visible = match kind {
            "Unit" => match crate::units::service::visible_unit(&state.db, viewer, id).await {
                Ok(unit) => Some(ChatSubject::Unit(Unit::new(unit))),
                Err(AppError::NotFound(_)) => None,
                Err(err) => return Err(err.into()),
            },
            "ServiceRecord" => crate::workshop::service::record(state, viewer, id)
                .await?
                .map(|r| ChatSubject::ServiceRecord(ServiceRecord(r))),
            "Sale" => crate::sales::service::sale(state, viewer, id)
                .await?
                .map(|s| ChatSubject::Sale(Sale(s))),
            _ => None,
        };
        Ok(visible)
    }
    /// Who opened it.
    async fn created_by(&self, ctx: &Context<'_>) -> Result<User> {
        user(ctx, self.0.created_by).await
    }
    /// Its members, in the order they joined.
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<User>> {
        let loaders = loaders(ctx)?;
        let members = loaders
            .room_members
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        let total = members.len() as u64;
        let sort = member_sort();
        let window = PageArgs::forward(first, after).window(&sort)?;
        let slice = paging::slice_loaded(&sort, members, &window, |m| {
            (paging::time_key(m.joined_at), m.user_id)
        });
        let ids: Vec<Uuid> = slice.rows.iter().map(|(m, _)| m.user_id).collect();
        let mut users = loaders.users.load_many(ids).await?;
        let slice = Slice {
            rows: slice
                .rows
                .into_iter()
                .filter_map(|(m, cursor)| users.remove(&m.user_id).map(|u| (u, cursor)))
                .collect(),
            has_previous: slice.has_previous,
            has_next: slice.has_next,
        };
        Ok(pagination::connection(slice, Some(total), User::new))
    }
    /// How many members it has.
    async fn member_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let members = loaders(ctx)?.room_members.load_one(self.0.id).await?;
        Ok(members.map_or(0, |m| m.len() as i64))
    }
    /// The newest message.
    async fn last_message(&self, ctx: &Context<'_>) -> Result<Option<ChatMessage>> {
        if self.0.last_seq == 0 {
            return Ok(None);
        }
        let message = loaders(ctx)?
            .last_message
            .load_one((self.0.id, self.0.last_seq))
            .await?;
        Ok(message.map(ChatMessage))
    }
    /// When the newest message was sent (or the room opened).
    async fn last_activity_at(&self) -> DateTime<Utc> {
        self.0.last_activity_at
    }
    /// Others' messages the viewer has not read.
    async fn unread_count(&self, ctx: &Context<'_>) -> Result<i64> {
        unread_in(ctx, self.0.id).await
    }
    /// Its messages, oldest first (`last: n` gives the newest n).
    #[allow(clippy::too_many_arguments)]
    async fn messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        search: Option<String>,
        since: Option<DateTime<Utc>>,
    ) -> Result<Page<ChatMessage>> {
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        let (slice, total) = service::messages(
            state(ctx)?,
            viewer(ctx)?,
            self.0.id,
            &args,
            search.as_deref(),
            since,
            pagination::wants_total(ctx),
        )
        .await?;
        Ok(pagination::connection(slice, total, ChatMessage))
    }
    /// When it was opened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct ChatMessage(pub message::Model);

/// A file sent in a message.
#[derive(SimpleObject)]
pub struct Attachment {
    /// A signed, expiring URL of the file.
    url: String,
    /// The name it was sent with.
    file_name: String,
    /// Its type, checked from its content.
    content_type: String,
    /// Its size in bytes.
    size: i64,
}

/// One message of a room.
#[Object]
impl ChatMessage {
    /// The message's id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// Its room.
    async fn room(&self, ctx: &Context<'_>) -> Result<ChatRoom> {
        room_of(ctx, self.0.room_id).await
    }
    /// Who sent it; null for system messages (or a deleted account).
    async fn sender(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        optional_user(ctx, self.0.sender_id).await
    }
    /// TEXT, FILE or SYSTEM.
    async fn kind(&self) -> MessageKind {
        self.0.kind
    }
    /// The text (a file's caption); null once deleted.
    async fn body(&self) -> Option<&str> {
        self.0.body.as_deref()
    }
    /// The file of a FILE message; null once deleted.
    async fn attachment(&self, ctx: &Context<'_>) -> Result<Option<Attachment>> {
        let m = &self.0;
        let (Some(path), Some(name), Some(content_type), Some(size)) = (
            m.attachment_path.as_deref(),
            m.attachment_name.as_deref(),
            m.attachment_type.as_deref(),
            m.attachment_size,
        ) else {
            return Ok(None);
        };
        Ok(Some(Attachment {
            url: state(ctx)?.media.signed_url(path),
            file_name: name.to_string(),
            content_type: content_type.to_string(),
            size,
        }))
    }
    /// The sender's own id for the message, which makes retries safe.
    async fn client_message_id(&self) -> Option<&str> {
        self.0.client_message_id.as_deref()
    }
    /// When it was sent.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was last edited.
    async fn edited_at(&self) -> Option<DateTime<Utc>> {
        self.0.edited_at
    }
    /// True once edited.
    async fn is_edited(&self) -> bool {
        self.0.edited_at.is_some()
    }
    /// True once deleted: it keeps its place, without body or attachment.
    async fn is_deleted(&self) -> bool {
        self.0.deleted_at.is_some()
    }
}

/// What a chat room may be about.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ChatSubjectType {
    /// A unit.
    Unit,
    /// A service record.
    ServiceRecord,
    /// A sale.
    Sale,
    /// A booking.
    Booking,
}

impl From<ChatSubjectType> for SubjectType {
    fn from(t: ChatSubjectType) -> Self {
        match t {
            ChatSubjectType::Unit => Self::Unit,
            ChatSubjectType::ServiceRecord => Self::ServiceRecord,
            ChatSubjectType::Sale => Self::Sale,
            ChatSubjectType::Booking => Self::Booking,
        }
    }
}

/// Opens (or finds) a support room.
#[derive(InputObject)]
pub struct OpenSupportRoomInput {
    /// What it is about, in a few words.
    title: String,
    /// The kind of subject, with `subjectId`.
    subject_type: Option<ChatSubjectType>,
    /// The subject: the customer's unit, service record or sale.
    subject_id: Option<ID>,
    /// Staff only: the customer the room is for.
    customer_id: Option<ID>,
}

/// A new group room (staff).
#[derive(InputObject)]
pub struct CreateGroupRoomInput {
    /// Its name.
    title: String,
    /// What it is for.
    description: Option<String>,
    /// A label for clients (every group room is read by its members only).
    is_private: Option<bool>,
    /// Staff to add besides the creator.
    member_ids: Option<Vec<ID>>,
}

/// Changes to a room; absent fields stay.
#[derive(InputObject)]
pub struct UpdateChatRoomInput {
    /// A new name.
    title: Option<String>,
    /// A new description; an empty string clears it.
    description: Option<String>,
    /// False closes the room.
    is_active: Option<bool>,
    /// A label for clients (every group room is read by its members only).
    is_private: Option<bool>,
}

#[derive(Default)]
pub struct ChatQuery;

#[Object]
impl ChatQuery {
    /// One room the viewer may read.
    async fn chat_room(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ChatRoom>> {
        let id = parse_id("id", &id)?;
        let access = service::readable(&state(ctx)?.db, viewer(ctx)?, id).await?;
        Ok(Some(ChatRoom(access.room)))
    }

    /// The viewer's rooms, newest activity first (staff: also every support room).
    async fn my_chat_rooms(
        &self,
        ctx: &Context<'_>,
        kind: Option<ChatRoomKind>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<ChatRoom>> {
        let (slice, total) = service::my_rooms(
            state(ctx)?,
            viewer(ctx)?,
            kind,
            &PageArgs::forward(first, after),
            pagination::wants_total(ctx),
        )
        .await?;
        Ok(pagination::connection(slice, total, ChatRoom))
    }

    /// Who the viewer may open a direct room with: customers see staff, staff see everyone.
    async fn messageable_users(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<User>> {
        let (slice, total) = crate::accounts::service::messageable_users(
            state(ctx)?,
            viewer(ctx)?,
            search,
            &PageArgs::forward(first, after),
            pagination::wants_total(ctx),
        )
        .await?;
        Ok(pagination::connection(slice, total, User::new))
    }

    /// Others' unread messages across the viewer's rooms.
    async fn unread_message_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let n = service::unread_message_count(state(ctx)?, viewer(ctx)?).await?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

#[derive(Default)]
pub struct ChatMutation;

#[Object]
impl ChatMutation {
    /// A customer's room with the business (staff open one for a customer); opening it again
    /// returns it.
    async fn open_support_room(
        &self,
        ctx: &Context<'_>,
        input: OpenSupportRoomInput,
    ) -> Result<ChatRoom> {
        let subject = match (
            input.subject_type,
            parse_optional_id("subjectId", input.subject_id.as_ref())?,
        ) {
            (Some(kind), Some(id)) => Some((kind.into(), id)),
            (None, None) => None,
            _ => {
                return Err(AppError::bad_input(
                    "subjectId",
                    "Give subjectType and subjectId together.",
                )
                .into())
            }
        };
        let open = OpenSupport {
            title: input.title,
            subject,
            customer_id: parse_optional_id("customerId", input.customer_id.as_ref())?,
        };
        let room = service::open_support_room(state(ctx)?, viewer(ctx)?, open).await?;
        Ok(ChatRoom(room))
    }

    /// The viewer's room with one other user (customers: staff only); the same room every time.
    async fn open_direct_room(&self, ctx: &Context<'_>, user_id: ID) -> Result<ChatRoom> {
        let other = parse_id("userId", &user_id)?;
        let room = service::open_direct_room(state(ctx)?, viewer(ctx)?, other).await?;
        Ok(ChatRoom(room))
    }

    /// A staff room.
    async fn create_group_room(
        &self,
        ctx: &Context<'_>,
        input: CreateGroupRoomInput,
    ) -> Result<ChatRoom> {
        let member_ids = input
            .member_ids
            .unwrap_or_default()
            .iter()
            .map(|id| parse_id("memberIds", id))
            .collect::<Result<Vec<_>, _>>()?;
        let group = NewGroup {
            title: input.title,
            description: input.description,
            is_private: input.is_private.unwrap_or(false),
            member_ids,
        };
        let room = service::create_group_room(state(ctx)?, viewer(ctx)?, group).await?;
        Ok(ChatRoom(room))
    }

    /// Renames, describes, closes or reopens a room (a group's creator or an admin; staff for
    /// support rooms).
    async fn update_chat_room(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateChatRoomInput,
    ) -> Result<ChatRoom> {
        let id = parse_id("id", &id)?;
        let update = RoomUpdate {
            title: input.title,
            description: input.description,
            is_active: input.is_active,
            is_private: input.is_private,
        };
        let room = service::update_room(state(ctx)?, viewer(ctx)?, id, update).await?;
        Ok(ChatRoom(room))
    }

    /// Adds a staff member to a group room (its creator or an admin).
    async fn add_room_member(
        &self,
        ctx: &Context<'_>,
        room_id: ID,
        user_id: ID,
    ) -> Result<ChatRoom> {
        let room = parse_id("roomId", &room_id)?;
        let user = parse_id("userId", &user_id)?;
        let room = service::add_member(state(ctx)?, viewer(ctx)?, room, user).await?;
        Ok(ChatRoom(room))
    }

    /// Removes a member of a group room (its creator or an admin); their subscriptions to it end.
    async fn remove_room_member(
        &self,
        ctx: &Context<'_>,
        room_id: ID,
        user_id: ID,
    ) -> Result<ChatRoom> {
        let room = parse_id("roomId", &room_id)?;
        let user = parse_id("userId", &user_id)?;
        let room = service::remove_member(state(ctx)?, viewer(ctx)?, room, user).await?;
        Ok(ChatRoom(room))
    }

    /// Leaves a group or support room; true when the viewer was a member.
    async fn leave_room(&self, ctx: &Context<'_>, room_id: ID) -> Result<bool> {
        let room = parse_id("roomId", &room_id)?;
        Ok(service::leave_room(state(ctx)?, viewer(ctx)?, room).await?)
    }

    /// Sends a message (1–4,000 characters); a retry with the same `clientMessageId` returns
    /// the first message.
    async fn send_message(
        &self,
        ctx: &Context<'_>,
        room_id: ID,
        body: String,
        client_message_id: Option<String>,
    ) -> Result<ChatMessage> {
        let room = parse_id("roomId", &room_id)?;
        let message = service::send_message(
            state(ctx)?,
            viewer(ctx)?,
            room,
            &body,
            client_message_id.as_deref(),
        )
        .await?;
        Ok(ChatMessage(message))
    }

    /// Sends a file (an image or a PDF, by its content) with an optional caption.
    async fn send_file_message(
        &self,
        ctx: &Context<'_>,
        room_id: ID,
        file: Upload,
        caption: Option<String>,
    ) -> Result<ChatMessage> {
        let room = parse_id("roomId", &room_id)?;
        let incoming = crate::graphql::read_upload(ctx, &file).await?;
        let message = service::send_file(
            state(ctx)?,
            viewer(ctx)?,
            room,
            incoming,
            caption.as_deref(),
        )
        .await?;
        Ok(ChatMessage(message))
    }

    /// Changes a message's text (its sender only).
    async fn edit_message(&self, ctx: &Context<'_>, id: ID, body: String) -> Result<ChatMessage> {
        let id = parse_id("id", &id)?;
        let message = service::edit_message(state(ctx)?, viewer(ctx)?, id, &body).await?;
        Ok(ChatMessage(message))
    }

    /// Deletes a message (its sender or an admin): it keeps its place, without body or file.
    async fn delete_message(&self, ctx: &Context<'_>, id: ID) -> Result<ChatMessage> {
        let id = parse_id("id", &id)?;
        let message = service::delete_message(state(ctx)?, viewer(ctx)?, id).await?;
        Ok(ChatMessage(message))
    }

    /// Marks the room read up to its newest message.
    async fn mark_room_read(&self, ctx: &Context<'_>, room_id: ID) -> Result<ChatRoom> {
        let room = parse_id("roomId", &room_id)?;
        let room = service::mark_read(state(ctx)?, viewer(ctx)?, room).await?;
        Ok(ChatRoom(room))
    }

    /// Tells the room the viewer is (or stopped) typing. True when the room was told: repeated
    /// calls within a second only renew the indicator, which expires 6 seconds after the last.
    async fn set_typing(&self, ctx: &Context<'_>, room_id: ID, is_typing: bool) -> Result<bool> {
        let room = parse_id("roomId", &room_id)?;
        Ok(super::typing::set_typing(state(ctx)?, viewer(ctx)?, room, is_typing).await?)
    }
}

pub struct MessageCreated(message::Model);
pub struct MessageEdited(message::Model);
pub struct MessageDeleted(message::Model);

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
    room_id: Uuid,
    user_id: Uuid,
    is_typing: bool,
    expires_at: DateTime<Utc>,
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
        user(ctx, self.user_id).await
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
    room_id: Uuid,
    user_id: Uuid,
    added_by: Option<Uuid>,
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
        user(ctx, self.user_id).await
    }
    /// Who added them; null when they joined by answering.
    async fn added_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        optional_user(ctx, self.added_by).await
    }
}

pub struct MemberRemoved {
    room_id: Uuid,
    user_id: Uuid,
    removed_by: Option<Uuid>,
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
        user(ctx, self.user_id).await
    }
    /// Who removed them; null when they left.
    async fn removed_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        optional_user(ctx, self.removed_by).await
    }
}

pub struct RoomUpdated(room::Model);

/// The room changed (title, description, open or closed).
#[Object]
impl RoomUpdated {
    /// The room as it is now.
    async fn room(&self) -> ChatRoom {
        ChatRoom(self.0.clone())
    }
}

pub struct RoomRead {
    room_id: Uuid,
    user_id: Uuid,
    last_read_at: DateTime<Utc>,
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
        user(ctx, self.user_id).await
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
    fn from_event(event: &Event) -> Option<Self> {
        Some(match event {
            Event::MessageCreated(m) => Self::MessageCreated(MessageCreated(m.clone())),
            Event::MessageEdited(m) => Self::MessageEdited(MessageEdited(m.clone())),
            Event::MessageDeleted(m) => Self::MessageDeleted(MessageDeleted(m.clone())),
            Event::Typing {
                room_id,
                user_id,
                is_typing,
                expires_at,
            } => Self::TypingEvent(TypingEvent {
                room_id: *room_id,
                user_id: *user_id,
                is_typing: *is_typing,
                expires_at: *expires_at,
            }),
            Event::MemberAdded {
                room_id,
                user_id,
                added_by,
            } => Self::MemberAdded(MemberAdded {
                room_id: *room_id,
                user_id: *user_id,
                added_by: *added_by,
            }),
            Event::MemberRemoved {
                room_id,
                user_id,
                removed_by,
            } => Self::MemberRemoved(MemberRemoved {
                room_id: *room_id,
                user_id: *user_id,
                removed_by: *removed_by,
            }),
            Event::RoomUpdated(r) => Self::RoomUpdated(RoomUpdated(r.clone())),
            Event::RoomRead {
                room_id,
                user_id,
                last_read_at,
            } => Self::RoomRead(RoomRead {
                room_id: *room_id,
                user_id: *user_id,
                last_read_at: *last_read_at,
            }),
            Event::NotificationCreated(_)
            | Event::RoomActivity { .. }
            | Event::PresenceChanged { .. }
            | Event::SessionsChanged => return None,
        })
    }
}

pub struct RoomActivity {
    room_id: Uuid,
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

pub struct NotificationCreated(crate::notifications::entity::notification::Model);

/// A notification for the viewer.
#[Object]
impl NotificationCreated {
    /// The notification.
    async fn notification(&self) -> Notification {
        Notification(self.0.clone())
    }
}

pub struct PresenceChanged {
    user_id: Uuid,
    is_online: bool,
    last_seen_at: Option<DateTime<Utc>>,
}

/// Someone the viewer shares a room with came online or went offline.
#[Object]
impl PresenceChanged {
    /// Who.
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        user(ctx, self.user_id).await
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
fn room_events(
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
                let event: Arc<Event> = match deliveries.next().await? {
                    Delivery::Missed(n) => return Some((Err(missed(n)), (deliveries, false))),
                    Delivery::Event(event) => event,
                };
                let removed =
                    matches!(&*event, Event::MemberRemoved { user_id, .. } if *user_id == me);
                if let Some(item) = ChatRoomEvent::from_event(&event) {
                    return Some((Ok(item), (deliveries, removed)));
                }
            }
        },
    )
}

async fn watch(ctx: &Context<'_>, room_id: &ID) -> Result<(Identity, Uuid)> {
    let room = parse_id("roomId", room_id)?;
    let access = service::readable(&state(ctx)?.db, viewer(ctx)?, room).await?;
    Ok((access.identity, room))
}

#[derive(Default)]
pub struct ChatSubscription;

#[Subscription]
impl ChatSubscription {
    /// Every event of one room, in the order it was committed. Ends when the viewer is removed.
    async fn chat_room_events(
        &self,
        ctx: &Context<'_>,
        room_id: ID,
    ) -> Result<impl Stream<Item = Result<ChatRoomEvent>>> {
        let (me, room) = watch(ctx, &room_id).await?;
        Ok(room_events(&state(ctx)?.events, room, &me))
    }

    /// New messages of one room only. Ends when the viewer is removed.
    async fn message_added(
        &self,
        ctx: &Context<'_>,
        room_id: ID,
    ) -> Result<impl Stream<Item = Result<ChatMessage>>> {
        let (me, room) = watch(ctx, &room_id).await?;
        Ok(
            room_events(&state(ctx)?.events, room, &me).filter_map(|item| async move {
                match item {
                    Ok(ChatRoomEvent::MessageCreated(MessageCreated(m))) => {
                        Some(Ok(ChatMessage(m)))
                    }
                    Ok(_) => None,
                    Err(err) => Some(Err(err)),
                }
            }),
        )
    }

    /// Others typing in one room.
    async fn typing_indicator(
        &self,
        ctx: &Context<'_>,
        room_id: ID,
    ) -> Result<impl Stream<Item = Result<TypingEvent>>> {
        let (me, room) = watch(ctx, &room_id).await?;
        let me_id = me.user_id;
        Ok(
            room_events(&state(ctx)?.events, room, &me).filter_map(move |item| async move {
                match item {
                    Ok(ChatRoomEvent::TypingEvent(t)) if t.user_id != me_id => Some(Ok(t)),
                    Ok(_) => None,
                    Err(err) => Some(Err(err)),
                }
            }),
        )
    }

    /// Everything addressed to the viewer: activity in their rooms, notifications, presence.
    async fn my_events(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = Result<UserEvent>>> {
        let me = viewer(ctx)?.identity()?.user_id;
        let deliveries = state(ctx)?.events.subscribe(Topic::User(me));
        Ok(deliveries.filter_map(|delivery| async move {
            match delivery {
                Delivery::Missed(n) => Some(Err(missed(n))),
                Delivery::Event(event) => match &*event {
                    Event::RoomActivity { room_id } => {
                        Some(Ok(UserEvent::RoomActivity(RoomActivity {
                            room_id: *room_id,
                        })))
                    }
                    Event::NotificationCreated(n) => Some(Ok(UserEvent::NotificationCreated(
                        NotificationCreated(n.clone()),
                    ))),
                    Event::PresenceChanged {
                        user_id,
                        is_online,
                        last_seen_at,
                    } => Some(Ok(UserEvent::PresenceChanged(PresenceChanged {
                        user_id: *user_id,
                        is_online: *is_online,
                        last_seen_at: *last_seen_at,
                    }))),
                    _ => None,
                },
            }
        }))
    }
}
