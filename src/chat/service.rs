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
use crate::accounts::entity::user;
use crate::accounts::service as accounts;
use crate::accounts::Role;
use crate::app::AppState;
use crate::auth::viewer::Identity;
use crate::auth::Viewer;
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::events::{Event, Events, Topic};
use crate::input;
use crate::notifications::entity::{notification, NotificationKind};
use crate::notifications::service::{self as notifications, Notice, Outbox};
use crate::paging::{self, KeyKind, PageArgs, Slice, Sort};
use crate::sales::service as sales;
use crate::units::service as units;
use crate::workshop::service as workshop;

/// Longest message body, in characters, after trimming.
pub const MAX_BODY_CHARS: usize = 4000;
const STRIPES: usize = 64;

/// In-process state of chat: the per-room stripes of the ordering lock and typing indicators.
pub struct ChatState {
    stripes: Vec<tokio::sync::Mutex<()>>,
    pub typing: super::typing::Typing,
}

impl Default for ChatState {
    fn default() -> Self {
        Self {
            stripes: (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
            typing: super::typing::Typing::default(),
        }
    }
}

impl ChatState {
    async fn order(&self, room_id: Uuid) -> tokio::sync::MutexGuard<'_, ()> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        room_id.hash(&mut hasher);
        let stripe = (hasher.finish() % STRIPES as u64) as usize;
        self.stripes[stripe].lock().await
    }
}

/// What a chat room may be about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectType {
    Unit,
    ServiceRecord,
    Sale,
    Booking,
}

impl SubjectType {
    pub fn name(self) -> &'static str {
        match self {
            Self::Unit => "Unit",
            Self::ServiceRecord => "ServiceRecord",
            Self::Sale => "Sale",
            Self::Booking => "Booking",
        }
    }
}

/// A room as the viewer may see it: the room, their membership, and who they are.
pub struct Access {
    pub identity: Identity,
    pub room: room::Model,
    pub member: Option<member::Model>,
}

async fn membership(
    db: &impl ConnectionTrait,
    room_id: Uuid,
    user_id: Uuid,
) -> AppResult<Option<member::Model>> {
    Ok(member::Entity::find_by_id((room_id, user_id))
        .one(db)
        .await?)
}

/// Members read their rooms; staff also read every support room. Anyone else: `NOT_FOUND`.
pub async fn readable(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    room_id: Uuid,
) -> AppResult<Access> {
    let identity = viewer.identity()?.clone();
    let room = room::Entity::find_by_id(room_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("Chat room"))?;
    let member = membership(db, room_id, identity.user_id).await?;
    if member.is_none() && !(room.kind == ChatRoomKind::Support && identity.is_staff()) {
        return Err(AppError::not_found("Chat room"));
    }
    Ok(Access {
        identity,
        room,
        member,
    })
}

/// May this user (still) read this room? For subscriptions, when membership changes.
pub async fn may_read(
    db: &impl ConnectionTrait,
    user: &Identity,
    room_id: Uuid,
) -> AppResult<bool> {
    let viewer = Viewer::User(user.clone());
    match readable(db, &viewer, room_id).await {
        Ok(_) => Ok(true),
        Err(AppError::NotFound(_)) => Ok(false),
        Err(err) => Err(err),
    }
}

fn room_sort() -> Sort {
    Sort::new(
        "ROOM_ACTIVITY_DESC",
        Expr::col((room::Entity, room::Column::LastActivityAt)),
        KeyKind::Time,
        Expr::col((room::Entity, room::Column::Id)),
        true,
    )
}

/// The viewer's rooms, newest activity first: those they belong to, and for staff every support
/// room (the shared inbox).
pub async fn my_rooms(
    state: &AppState,
    viewer: &Viewer,
    kind: Option<ChatRoomKind>,
    args: &PageArgs,
    with_total: bool,
) -> AppResult<(Slice<room::Model>, Option<u64>)> {
    let identity = viewer.identity()?;
    let mine = Query::select()
        .column(member::Column::RoomId)
        .from(member::Entity)
        .and_where(Expr::col(member::Column::UserId).eq(identity.user_id))
        .to_owned();
    let mut visible = Condition::any().add(room::Column::Id.in_subquery(mine));
    if identity.is_staff() {
        visible = visible.add(room::Column::Kind.eq(ChatRoomKind::Support));
    }
    let mut query = room::Entity::find().filter(visible);
    if let Some(kind) = kind {
        query = query.filter(room::Column::Kind.eq(kind));
    }
    room_sort()
        .page(&state.db, query, args, with_total, |r| {
            (paging::time_key(r.last_activity_at), r.id)
        })
        .await
}

fn title(field: &str, value: &str) -> AppResult<String> {
    input::required(field, value, 200)
}

async fn join(
    db: &impl ConnectionTrait,
    room_id: Uuid,
    user_id: Uuid,
    added_by: Option<Uuid>,
) -> AppResult<member::Model> {
    let model = member::Model {
        room_id,
        user_id,
        added_by,
        joined_at: clock::now(),
        last_read_seq: 0,
        last_read_at: None,
    };
    let active: member::ActiveModel = model.into();
    Ok(active.insert(db).await?)
}

/// Creates a room keyed by `open_key` with its members, or returns the one that holds the key
/// (also when another request creates it at the same instant).
async fn open_keyed(
    state: &AppState,
    model: room::Model,
    members: &[Uuid],
) -> AppResult<room::Model> {
    let key = model.open_key.clone();
    let existing = || async {
        let found = room::Entity::find()
            .filter(room::Column::OpenKey.eq(key.clone()))
            .one(&state.db)
            .await?;
        AppResult::Ok(found)
    };
    if let Some(room) = existing().await? {
        return Ok(room);
    }
    let txn = state.db.begin().await?;
    let active: room::ActiveModel = model.clone().into();
    match active.insert(&txn).await {
        Ok(room) => {
            for user in members {
                join(&txn, room.id, *user, Some(model.created_by)).await?;
            }
            txn.commit().await?;
            Ok(room)
        }
        Err(err) => {
            drop(txn);
            match AppError::from(err) {
                AppError::Conflict { .. } => existing()
                    .await?
                    .ok_or_else(|| AppError::conflict("The room changed meanwhile; try again.")),
                other => Err(other),
            }
        }
    }
}

fn new_room(kind: ChatRoomKind, title: String, created_by: Uuid) -> room::Model {
    let now = clock::now();
    room::Model {
        id: Uuid::now_v7(),
        kind,
        title,
        description: None,
        is_active: true,
        is_private: false,
        subject_type: None,
        subject_id: None,
        customer_id: None,
        created_by,
        open_key: None,
        last_seq: 0,
        last_activity_at: now,
        created_at: now,
        updated_at: now,
    }
}

/// Is the subject the customer's: their unit, a record of their unit, a sale of or to them?
async fn subject_of_customer(
    db: &impl ConnectionTrait,
    customer: Uuid,
    kind: SubjectType,
    id: Uuid,
) -> AppResult<bool> {
    let owns_unit = |unit: Uuid| async move {
        AppResult::Ok(units::owner_of(db, unit).await? == Some(Some(customer)))
    };
    Ok(match kind {
        SubjectType::Unit => owns_unit(id).await?,
        SubjectType::ServiceRecord => match workshop::unit_of_record(db, id).await? {
            Some(unit) => owns_unit(unit).await?,
            None => false,
        },
        SubjectType::Sale => match sales::sale_parties(db, id).await? {
            Some((unit, buyer)) => buyer == Some(customer) || owns_unit(unit).await?,
            None => false,
        },
        SubjectType::Booking => {
            return Err(AppError::bad_input(
                "subjectType",
                "Bookings cannot be discussed yet.",
            ))
        }
    })
}

pub struct OpenSupport {
    pub title: String,
    pub subject: Option<(SubjectType, Uuid)>,
    pub customer_id: Option<Uuid>,
}

/// A customer opens a support room for themselves, staff for a customer; one active room per
/// customer and subject (opening again returns it).
pub async fn open_support_room(
    state: &AppState,
    viewer: &Viewer,
    open: OpenSupport,
) -> AppResult<room::Model> {
    let identity = viewer.identity()?;
    let title = title("title", &open.title)?;
    let customer = match (identity.is_staff(), open.customer_id) {
        (true, Some(id)) => {
            let user = accounts::user_named_in(&state.db, "customerId", id).await?;
            if user.role != Role::Customer {
                return Err(AppError::bad_input(
                    "customerId",
                    "Support rooms are for customers.",
                ));
            }
            id
        }
        (true, None) => {
            return Err(AppError::bad_input(
                "customerId",
                "Staff open a support room for a customer: name them.",
            ))
        }
        (false, Some(id)) if id != identity.user_id => {
            return Err(AppError::forbidden(
                "Customers open support rooms for themselves.",
            ))
        }
        (false, _) => identity.user_id,
    };
    if let Some((kind, id)) = open.subject {
        if !subject_of_customer(&state.db, customer, kind, id).await? {
            return Err(AppError::bad_input(
                "subjectId",
                "There is no such subject of this customer.",
            ));
        }
    }
    let mut model = new_room(ChatRoomKind::Support, title, identity.user_id);
    model.customer_id = Some(customer);
    model.subject_type = open.subject.map(|(kind, _)| kind.name().to_string());
    model.subject_id = open.subject.map(|(_, id)| id);
    model.open_key = Some(match open.subject {
        Some((kind, id)) => format!("support:{customer}:{}:{id}", kind.name()),
        None => format!("support:{customer}"),
    });
    let mut members = vec![customer];
    if identity.user_id != customer {
        members.push(identity.user_id);
    }
    open_keyed(state, model, &members).await
}

fn full_name(user: &user::Model) -> String {
    format!("{} {}", user.first_name, user.last_name)
}

/// Two users' room; customers may only message staff. Opening again returns the same room.
pub async fn open_direct_room(
    state: &AppState,
    viewer: &Viewer,
    other_id: Uuid,
) -> AppResult<room::Model> {
    let identity = viewer.identity()?;
    if other_id == identity.user_id {
        return Err(AppError::bad_input(
            "userId",
            "A direct room needs someone else.",
        ));
    }
    let other = accounts::user_named_in(&state.db, "userId", other_id).await?;
    if other.status != crate::accounts::AccountStatus::Active {
        return Err(AppError::bad_input("userId", "This account is not active."));
    }
    if !identity.is_staff() && other.role == Role::Customer {
        return Err(AppError::forbidden("Customers may message staff only."));
    }
    let me = accounts::users_by_ids(&state.db, &[identity.user_id]).await?;
    let my_name = me.first().map(full_name).unwrap_or_default();
    let (a, b) = if identity.user_id < other_id {
        (identity.user_id, other_id)
    } else {
        (other_id, identity.user_id)
    };
    let mut model = new_room(
        ChatRoomKind::Direct,
        format!("{my_name} and {}", full_name(&other)),
        identity.user_id,
    );
    model.open_key = Some(format!("direct:{a}:{b}"));
    open_keyed(state, model, &[identity.user_id, other_id]).await
}

pub struct NewGroup {
    pub title: String,
    pub description: Option<String>,
    pub is_private: bool,
    pub member_ids: Vec<Uuid>,
}

/// Staff only; members must be staff (customers are never members of group rooms).
pub async fn create_group_room(
    state: &AppState,
    viewer: &Viewer,
    group: NewGroup,
) -> AppResult<room::Model> {
    let identity = viewer.staff()?;
    let mut model = new_room(
        ChatRoomKind::Group,
        title("title", &group.title)?,
        identity.user_id,
    );
    model.description = input::optional("description", group.description.as_deref(), 1000)?;
    model.is_private = group.is_private;
    let mut members: Vec<Uuid> = Vec::new();
    for id in group.member_ids {
        if id != identity.user_id && !members.contains(&id) {
            accounts::staff_named_in(&state.db, "memberIds", id).await?;
            members.push(id);
        }
    }
    let txn = state.db.begin().await?;
    let active: room::ActiveModel = model.into();
    let room = active.insert(&txn).await?;
    join(&txn, room.id, identity.user_id, None).await?;
    let mut notices = Vec::new();
    for id in &members {
        join(&txn, room.id, *id, Some(identity.user_id)).await?;
        notices.push(member_added_notice(&room, *id));
    }
    let outbox = notifications::store(&txn, notices).await?;
    txn.commit().await?;
    outbox.publish(&state.events);
    Ok(room)
}

fn member_added_notice(room: &room::Model, user_id: Uuid) -> Notice {
    Notice {
        user_id,
        kind: NotificationKind::MemberAdded,
        title: "Added to a chat room".to_string(),
        body: format!("You were added to “{}”.", room.title),
        subject: Some(("ChatRoom", room.id)),
    }
}

/// Who manages a room: a group's creator or an admin; for a support room any staff; for a
/// direct room an admin.
fn may_manage(identity: &Identity, room: &room::Model) -> bool {
    identity.role == Role::Admin
        || match room.kind {
            ChatRoomKind::Group => room.created_by == identity.user_id,
            ChatRoomKind::Support => identity.is_staff(),
            ChatRoomKind::Direct => false,
        }
}

pub struct RoomUpdate {
    pub title: Option<String>,
    pub description: Option<String>,
    pub is_active: Option<bool>,
    pub is_private: Option<bool>,
}

pub async fn update_room(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    update: RoomUpdate,
) -> AppResult<room::Model> {
    let access = readable(&state.db, viewer, id).await?;
    if !may_manage(&access.identity, &access.room) {
        return Err(AppError::forbidden("You may not change this room."));
    }
    let mut room = access.room;
    if let Some(t) = update.title.as_deref() {
        room.title = title("title", t)?;
    }
    if let Some(d) = update.description.as_deref() {
        room.description = input::optional("description", Some(d), 1000)?;
    }
    if let Some(private) = update.is_private {
        room.is_private = private;
    }
    if let Some(active) = update.is_active {
        room.is_active = active;
        // A closed support room frees its subject: the customer may open a new one.
        if !active && room.kind == ChatRoomKind::Support {
            room.open_key = None;
        }
    }
    room.updated_at = clock::now();
    let _order = state.chat.order(id).await;
    let saved = room::ActiveModel::from(room)
        .reset_all()
        .update(&state.db)
        .await?;
    state
        .events
        .publish(Topic::Room(id), Event::RoomUpdated(saved.clone()));
    Ok(saved)
}

/// Group rooms only: the creator or an admin adds staff.
pub async fn add_member(
    state: &AppState,
    viewer: &Viewer,
    room_id: Uuid,
    user_id: Uuid,
) -> AppResult<room::Model> {
    let access = manageable_group(state, viewer, room_id).await?;
    let user = accounts::user_named_in(&state.db, "userId", user_id).await?;
    if user.role == Role::Customer {
        return Err(AppError::forbidden(
            "Customers are never members of group rooms.",
        ));
    }
    if membership(&state.db, room_id, user_id).await?.is_some() {
        return Ok(access.room);
    }
    let _order = state.chat.order(room_id).await;
    let txn = state.db.begin().await?;
    match join(&txn, room_id, user_id, Some(access.identity.user_id)).await {
        Ok(_) => {}
        // Added by someone else meanwhile.
        Err(AppError::Conflict { .. }) => return Ok(access.room),
        Err(err) => return Err(err),
    }
    let outbox = notifications::store(&txn, [member_added_notice(&access.room, user_id)]).await?;
    txn.commit().await?;
    state.events.publish(
        Topic::Room(room_id),
        Event::MemberAdded {
            room_id,
            user_id,
            added_by: Some(access.identity.user_id),
        },
    );
    outbox.publish(&state.events);
    Ok(access.room)
}

async fn manageable_group(state: &AppState, viewer: &Viewer, room_id: Uuid) -> AppResult<Access> {
    let access = readable(&state.db, viewer, room_id).await?;
    if access.room.kind != ChatRoomKind::Group {
        return Err(AppError::conflict(
            "Members are added and removed in group rooms only.",
        ));
    }
    if !may_manage(&access.identity, &access.room) {
        return Err(AppError::forbidden(
            "Only the room's creator or an admin manages its members.",
        ));
    }
    Ok(access)
}

async fn drop_member(
    state: &AppState,
    room_id: Uuid,
    user_id: Uuid,
    removed_by: Option<Uuid>,
) -> AppResult<bool> {
    let _order = state.chat.order(room_id).await;
    let result = member::Entity::delete_by_id((room_id, user_id))
        .exec(&state.db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(false);
    }
    state.events.publish(
        Topic::Room(room_id),
        Event::MemberRemoved {
            room_id,
            user_id,
            removed_by,
        },
    );
    Ok(true)
}

/// The creator or an admin removes a member of a group room; their subscriptions to it end.
pub async fn remove_member(
    state: &AppState,
    viewer: &Viewer,
    room_id: Uuid,
    user_id: Uuid,
) -> AppResult<room::Model> {
    let access = manageable_group(state, viewer, room_id).await?;
    drop_member(state, room_id, user_id, Some(access.identity.user_id)).await?;
    Ok(access.room)
}

/// A member leaves a room (a direct room's members stay: there it would only hide it).
pub async fn leave_room(state: &AppState, viewer: &Viewer, room_id: Uuid) -> AppResult<bool> {
    let access = readable(&state.db, viewer, room_id).await?;
    if access.room.kind == ChatRoomKind::Direct {
        return Err(AppError::conflict("Direct rooms cannot be left."));
    }
    drop_member(state, room_id, access.identity.user_id, None).await
}

/// A message body: 1–4,000 characters after trimming.
pub fn body(field: &str, text: &str) -> AppResult<String> {
    let trimmed = text.trim();
    let chars = trimmed.chars().count();
    if chars == 0 || chars > MAX_BODY_CHARS {
        return Err(AppError::bad_input(
            field,
            format!("A message is 1 to {MAX_BODY_CHARS} characters long."),
        ));
    }
    Ok(trimmed.to_string())
}

fn client_id(value: Option<&str>) -> AppResult<Option<String>> {
    input::optional("clientMessageId", value, 100)
}

/// The viewer's message in this room with this client id, if they sent one.
async fn sent_before(
    db: &impl ConnectionTrait,
    room_id: Uuid,
    sender: Uuid,
    client_id: &str,
) -> AppResult<Option<message::Model>> {
    Ok(message::Entity::find()
        .filter(message::Column::RoomId.eq(room_id))
        .filter(message::Column::SenderId.eq(sender))
        .filter(message::Column::ClientMessageId.eq(client_id))
        .one(db)
        .await?)
}

pub struct NewMessage {
    pub kind: MessageKind,
    pub body: Option<String>,
    pub client_message_id: Option<String>,
    pub attachment: Option<Attachment>,
}

pub struct Attachment {
    pub path: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
}

/// Sends a text message; a retry with the same `clientMessageId` returns the first message.
pub async fn send_message(
    state: &AppState,
    viewer: &Viewer,
    room_id: Uuid,
    text: &str,
    client_message_id: Option<&str>,
) -> AppResult<message::Model> {
    let new = NewMessage {
        kind: MessageKind::Text,
        body: Some(body("body", text)?),
        client_message_id: client_id(client_message_id)?,
        attachment: None,
    };
    post(state, viewer, room_id, new).await
}

/// Sends a file (an image or a PDF, by its content, within the upload limit) with an optional
/// caption. The file is stored first and removed again if the message is refused.
pub async fn send_file(
    state: &AppState,
    viewer: &Viewer,
    room_id: Uuid,
    file: crate::media::Incoming,
    caption: Option<&str>,
) -> AppResult<message::Model> {
    let caption = match caption.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => Some(body("caption", c)?),
        None => None,
    };
    readable(&state.db, viewer, room_id).await?;
    let stored = state.media.store_document("file", "chat", &file).await?;
    let name: String = file
        .file_name
        .chars()
        .filter(|c| !c.is_control())
        .take(255)
        .collect();
    let new = NewMessage {
        kind: MessageKind::File,
        body: caption,
        client_message_id: None,
        attachment: Some(Attachment {
            path: stored.path.clone(),
            name: if name.is_empty() { "file".into() } else { name },
            content_type: stored.content_type.to_string(),
            size: stored.size,
        }),
    };
    let sent = post(state, viewer, room_id, new).await;
    if sent.is_err() {
        state.media.remove(&stored.path).await;
    }
    sent
}

/// Adds a message to a room: the room's `seq` first, then the message, the sender's read mark,
/// the NEW_MESSAGE notifications (one unread per member and room); published after commit.
pub async fn post(
    state: &AppState,
    viewer: &Viewer,
    room_id: Uuid,
    new: NewMessage,
) -> AppResult<message::Model> {
    let access = readable(&state.db, viewer, room_id).await?;
    let sender = access.identity.user_id;
    if let Some(id) = &new.client_message_id {
        if let Some(first) = sent_before(&state.db, room_id, sender, id).await? {
            return Ok(first);
        }
    }
    let _order = state.chat.order(room_id).await;
    let now = clock::now();
    let txn = state.db.begin().await?;
    let bumped = room::Entity::update_many()
        .col_expr(
            room::Column::LastSeq,
            Expr::col(room::Column::LastSeq).add(1),
        )
        .col_expr(room::Column::LastActivityAt, Expr::value(now))
        .filter(room::Column::Id.eq(room_id))
        .filter(room::Column::IsActive.eq(true))
        .exec(&txn)
        .await?;
    if bumped.rows_affected == 0 {
        return Err(AppError::conflict(
            "This room is closed: it takes no messages.",
        ));
    }
    let room = room::Entity::find_by_id(room_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("Chat room"))?;
    // Staff answering a support room join it.
    let mut joined = false;
    if access.member.is_none() {
        join(&txn, room_id, sender, None).await?;
        joined = true;
    }
    let (path, name, content_type, size) = match new.attachment {
        Some(a) => (
            Some(a.path),
            Some(a.name),
            Some(a.content_type),
            Some(a.size),
        ),
        None => (None, None, None, None),
    };
    let model = message::Model {
        id: Uuid::now_v7(),
        room_id,
        seq: room.last_seq,
        sender_id: Some(sender),
        kind: new.kind,
        body: new.body,
        attachment_path: path,
        attachment_name: name,
        attachment_type: content_type,
        attachment_size: size,
        client_message_id: new.client_message_id.clone(),
        created_at: now,
        edited_at: None,
        deleted_at: None,
    };
    let active: message::ActiveModel = model.into();
    let message = match active.insert(&txn).await {
        Ok(message) => message,
        Err(err) => {
            drop(txn);
            return match (AppError::from(err), &new.client_message_id) {
                // The same client id committed meanwhile (another instance): that one stands.
                (AppError::Conflict { .. }, Some(id)) => {
                    sent_before(&state.db, room_id, sender, id)
                        .await?
                        .ok_or_else(|| AppError::conflict("Try again."))
                }
                (other, _) => Err(other),
            };
        }
    };
    // The sender has read what they wrote.
    member::Entity::update_many()
        .col_expr(member::Column::LastReadSeq, Expr::value(message.seq))
        .col_expr(member::Column::LastReadAt, Expr::value(now))
        .filter(member::Column::RoomId.eq(room_id))
        .filter(member::Column::UserId.eq(sender))
        .exec(&txn)
        .await?;
    let members = member_ids(&txn, room_id).await?;
    let outbox = new_message_notices(&txn, &room, &message, &members).await?;
    txn.commit().await?;

    if joined {
        state.events.publish(
            Topic::Room(room_id),
            Event::MemberAdded {
                room_id,
                user_id: sender,
                added_by: None,
            },
        );
    }
    state
        .events
        .publish(Topic::Room(room_id), Event::MessageCreated(message.clone()));
    for user in &members {
        state
            .events
            .publish(Topic::User(*user), Event::RoomActivity { room_id });
    }
    outbox.publish(&state.events);
    Ok(message)
}

async fn member_ids(db: &impl ConnectionTrait, room_id: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(member::Entity::find()
        .filter(member::Column::RoomId.eq(room_id))
        .order_by_asc(member::Column::JoinedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect())
}

/// NEW_MESSAGE for each member but the sender who holds no unread one for this room.
async fn new_message_notices(
    db: &impl ConnectionTrait,
    room: &room::Model,
    message: &message::Model,
    members: &[Uuid],
) -> AppResult<Outbox> {
    let recipients: Vec<Uuid> = members
        .iter()
        .copied()
        .filter(|m| Some(*m) != message.sender_id)
        .collect();
    if recipients.is_empty() {
        return Ok(Outbox::default());
    }
    let holding: Vec<Uuid> = notification::Entity::find()
        .filter(notification::Column::UserId.is_in(recipients.iter().copied()))
        .filter(notification::Column::Kind.eq(NotificationKind::NewMessage))
        .filter(notification::Column::SubjectId.eq(room.id))
        .filter(notification::Column::IsRead.eq(false))
        .all(db)
        .await?
        .into_iter()
        .map(|n| n.user_id)
        .collect();
    let preview: String = message
        .body
        .as_deref()
        .unwrap_or("A file")
        .chars()
        .take(140)
        .collect();
    let notices = recipients
        .into_iter()
        .filter(|r| !holding.contains(r))
        .map(|user_id| Notice {
            user_id,
            kind: NotificationKind::NewMessage,
            title: format!("New message in {}", room.title),
            body: preview.clone(),
            subject: Some(("ChatRoom", room.id)),
        });
    notifications::store(db, notices).await
}

/// A message the viewer may act on: one of a room they read, or any message for an admin
/// (moderation).
async fn message_for(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(Identity, message::Model)> {
    let identity = viewer.identity()?;
    let message = message::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("Message"))?;
    if identity.role != Role::Admin {
        readable(&state.db, viewer, message.room_id)
            .await
            .map_err(|_| AppError::not_found("Message"))?;
    }
    Ok((identity.clone(), message))
}

/// Only the sender edits, and not a deleted message.
pub async fn edit_message(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    text: &str,
) -> AppResult<message::Model> {
    let text = body("body", text)?;
    let (identity, message) = message_for(state, viewer, id).await?;
    if message.sender_id != Some(identity.user_id) {
        return Err(AppError::forbidden("Only the sender edits a message."));
    }
    if message.deleted_at.is_some() {
        return Err(AppError::conflict("A deleted message cannot be edited."));
    }
    if message.kind == MessageKind::System {
        return Err(AppError::conflict("System messages cannot be edited."));
    }
    let _order = state.chat.order(message.room_id).await;
    let now = clock::now();
    let result = message::Entity::update_many()
        .col_expr(message::Column::Body, Expr::value(text))
        .col_expr(message::Column::EditedAt, Expr::value(now))
        .filter(message::Column::Id.eq(id))
        .filter(message::Column::DeletedAt.is_null())
        .exec(&state.db)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::conflict("A deleted message cannot be edited."));
    }
    let saved = reload(state, id).await?;
    state.events.publish(
        Topic::Room(saved.room_id),
        Event::MessageEdited(saved.clone()),
    );
    Ok(saved)
}

async fn reload(state: &AppState, id: Uuid) -> AppResult<message::Model> {
    message::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("Message"))
}

/// The sender or an admin deletes: the message keeps its place without body or attachment.
pub async fn delete_message(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<message::Model> {
    let (identity, message) = message_for(state, viewer, id).await?;
    if message.sender_id != Some(identity.user_id) && identity.role != Role::Admin {
        return Err(AppError::forbidden(
            "Only the sender or an administrator deletes a message.",
        ));
    }
    if message.deleted_at.is_some() {
        return Ok(message);
    }
    let _order = state.chat.order(message.room_id).await;
    let no_text: Option<String> = None;
    let no_number: Option<i64> = None;
    message::Entity::update_many()
        .col_expr(message::Column::Body, Expr::value(no_text.clone()))
        .col_expr(
            message::Column::AttachmentPath,
            Expr::value(no_text.clone()),
        )
        .col_expr(
            message::Column::AttachmentName,
            Expr::value(no_text.clone()),
        )
        .col_expr(message::Column::AttachmentType, Expr::value(no_text))
        .col_expr(message::Column::AttachmentSize, Expr::value(no_number))
        .col_expr(message::Column::DeletedAt, Expr::value(clock::now()))
        .filter(message::Column::Id.eq(id))
        .filter(message::Column::DeletedAt.is_null())
        .exec(&state.db)
        .await?;
    if let Some(path) = &message.attachment_path {
        state.media.remove(path).await;
    }
    let saved = reload(state, id).await?;
    state.events.publish(
        Topic::Room(saved.room_id),
        Event::MessageDeleted(saved.clone()),
    );
    Ok(saved)
}

/// Moves the viewer's read mark to the newest message; their NEW_MESSAGE notification for the
/// room is read with it.
pub async fn mark_read(state: &AppState, viewer: &Viewer, room_id: Uuid) -> AppResult<room::Model> {
    let access = readable(&state.db, viewer, room_id).await?;
    let user_id = access.identity.user_id;
    if access.member.is_none() {
        return Ok(access.room);
    }
    let now = clock::now();
    let txn = state.db.begin().await?;
    member::Entity::update_many()
        .col_expr(
            member::Column::LastReadSeq,
            Expr::value(access.room.last_seq),
        )
        .col_expr(member::Column::LastReadAt, Expr::value(now))
        .filter(member::Column::RoomId.eq(room_id))
        .filter(member::Column::UserId.eq(user_id))
        .filter(member::Column::LastReadSeq.lt(access.room.last_seq))
        .exec(&txn)
        .await?;
    notification::Entity::update_many()
        .col_expr(notification::Column::IsRead, Expr::value(true))
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::Kind.eq(NotificationKind::NewMessage))
        .filter(notification::Column::SubjectId.eq(room_id))
        .filter(notification::Column::IsRead.eq(false))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    state.events.publish(
        Topic::Room(room_id),
        Event::RoomRead {
            room_id,
            user_id,
            last_read_at: now,
        },
    );
    state
        .events
        .publish(Topic::User(user_id), Event::RoomActivity { room_id });
    Ok(access.room)
}

fn message_sort() -> Sort {
    Sort::new(
        "MESSAGE_SEQ",
        Expr::col((message::Entity, message::Column::Seq)),
        KeyKind::Int,
        Expr::col((message::Entity, message::Column::Id)),
        false,
    )
}

/// A room's messages oldest first (`last`/`before` for the newest), optionally searched or
/// limited to those since a moment.
pub async fn messages(
    state: &AppState,
    viewer: &Viewer,
    room_id: Uuid,
    args: &PageArgs,
    search: Option<&str>,
    since: Option<DateTime<Utc>>,
    with_total: bool,
) -> AppResult<(Slice<message::Model>, Option<u64>)> {
    readable(&state.db, viewer, room_id).await?;
    let mut query = message::Entity::find().filter(message::Column::RoomId.eq(room_id));
    if let Some(search) = input::optional("search", search, 100)? {
        query = query.filter(input::contains_any(
            [Expr::col((message::Entity, message::Column::Body))],
            &search,
        ));
    }
    if let Some(since) = since {
        query = query.filter(message::Column::CreatedAt.gte(since));
    }
    message_sort()
        .page(&state.db, query, args, with_total, |m| (m.seq, m.id))
        .await
}

/// Unread messages per room for one user: others' undeleted messages past their read mark
/// (staff reading a support room they have not joined: all of them). Two statements.
pub async fn unread_in_rooms(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    room_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, u64>> {
    let marks: HashMap<Uuid, i64> = member::Entity::find()
        .filter(member::Column::UserId.eq(user_id))
        .filter(member::Column::RoomId.is_in(room_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.room_id, m.last_read_seq))
        .collect();
    let mut past_mark = Condition::any();
    for room in room_ids {
        past_mark = past_mark.add(
            Condition::all()
                .add(message::Column::RoomId.eq(*room))
                .add(message::Column::Seq.gt(marks.get(room).copied().unwrap_or(0))),
        );
    }
    let counts: Vec<(Uuid, i64)> = message::Entity::find()
        .select_only()
        .column(message::Column::RoomId)
        .column_as(Expr::col(message::Column::Id).count(), "unread")
        .filter(past_mark)
        .filter(message::Column::DeletedAt.is_null())
        .filter(
            Condition::any()
                .add(message::Column::SenderId.is_null())
                .add(message::Column::SenderId.ne(user_id)),
        )
        .group_by(message::Column::RoomId)
        .into_tuple()
        .all(db)
        .await?;
    let mut unread: HashMap<Uuid, u64> = room_ids.iter().map(|r| (*r, 0)).collect();
    for (room, n) in counts {
        unread.insert(room, u64::try_from(n).unwrap_or(0));
    }
    Ok(unread)
}

/// Unread messages across the viewer's rooms.
pub async fn unread_message_count(state: &AppState, viewer: &Viewer) -> AppResult<u64> {
    let identity = viewer.identity()?;
    let rooms: Vec<Uuid> = member::Entity::find()
        .filter(member::Column::UserId.eq(identity.user_id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|m| m.room_id)
        .collect();
    if rooms.is_empty() {
        return Ok(0);
    }
    let unread = unread_in_rooms(&state.db, identity.user_id, &rooms).await?;
    Ok(unread.values().sum())
}

/// Everyone who shares a room with the user (for presence).
pub async fn room_peers(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Vec<Uuid>> {
    let rooms = Query::select()
        .column(member::Column::RoomId)
        .from(member::Entity)
        .and_where(Expr::col(member::Column::UserId).eq(user_id))
        .to_owned();
    let mut peers: Vec<Uuid> = member::Entity::find()
        .filter(member::Column::RoomId.in_subquery(rooms))
        .filter(member::Column::UserId.ne(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    peers.sort_unstable();
    peers.dedup();
    Ok(peers)
}

/// Members of these rooms, in the order they joined (for the DataLoader behind `members`).
pub async fn members_of(
    db: &impl ConnectionTrait,
    room_ids: &[Uuid],
) -> AppResult<Vec<member::Model>> {
    Ok(member::Entity::find()
        .filter(member::Column::RoomId.is_in(room_ids.iter().copied()))
        .order_by_asc(member::Column::JoinedAt)
        .order_by_asc(member::Column::UserId)
        .all(db)
        .await?)
}

/// The newest message of each of these rooms (for the DataLoader behind `lastMessage`).
pub async fn last_messages(
    db: &impl ConnectionTrait,
    rooms: &[(Uuid, i64)],
) -> AppResult<Vec<message::Model>> {
    let mut wanted = Condition::any();
    for (room, seq) in rooms.iter().filter(|(_, seq)| *seq > 0) {
        wanted = wanted.add(
            Condition::all()
                .add(message::Column::RoomId.eq(*room))
                .add(message::Column::Seq.eq(*seq)),
        );
    }
    if rooms.iter().all(|(_, seq)| *seq == 0) {
        return Ok(Vec::new());
    }
    Ok(message::Entity::find().filter(wanted).all(db).await?)
}

/// Rooms by id (a message's room, a room named in an event).
pub async fn rooms_by_ids(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<room::Model>> {
    Ok(room::Entity::find()
        .filter(room::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// Publishes that typing state changed (typing.rs decides when).
pub(crate) fn publish_typing(
    events: &Events,
    room_id: Uuid,
    user_id: Uuid,
    is_typing: bool,
    expires_at: DateTime<Utc>,
) {
    events.publish(
        Topic::Room(room_id),
        Event::Typing {
            room_id,
            user_id,
            is_typing,
            expires_at,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_trimmed_and_bounded() {
        assert_eq!(body("body", "  hi  ").unwrap(), "hi");
        assert!(body("body", "   ").is_err());
        assert!(body("body", &"x".repeat(MAX_BODY_CHARS)).is_ok());
        assert!(body("body", &"é".repeat(MAX_BODY_CHARS + 1)).is_err());
    }
}
