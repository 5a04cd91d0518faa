//! Messages: sending (text and files, idempotent by client id), editing, deleting, and the notices they raise.

use super::*;

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

pub(super) fn client_id(value: Option<&str>) -> AppResult<Option<String>> {
    input::optional("clientMessageId", value, 100)
}

/// The viewer's message in this room with this client id, if they sent one.
#[tracing::instrument(skip_all, fields(room_id = %room_id, sender = %sender))]
pub(super) async fn sent_before(
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
#[tracing::instrument(skip_all, fields(viewer = %viewer, room_id = %room_id))]
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
#[tracing::instrument(skip_all, fields(viewer = %viewer, room_id = %room_id))]
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
#[tracing::instrument(skip_all, fields(viewer = %viewer, room_id = %room_id))]
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
        search_text: None,
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
    let notices = new_message_notices(&txn, &room, &message, &members).await?;
    txn.commit().await?;

    let mut outbox = Outbox::default();
    if joined {
        outbox.push(
            Topic::Room(room_id),
            ChatEvent::MemberAdded {
                room_id,
                user_id: sender,
                added_by: None,
            },
        );
    }
    outbox.push(
        Topic::Room(room_id),
        ChatEvent::MessageCreated {
            message: message.clone().into(),
        },
    );
    for user in &members {
        outbox.push(Topic::User(*user), ChatEvent::RoomActivity { room_id });
    }
    outbox.extend(notices);
    outbox.publish(&state.events);
    Ok(message)
}

#[tracing::instrument(skip_all, fields(room_id = %room_id))]
pub(super) async fn member_ids(db: &impl ConnectionTrait, room_id: Uuid) -> AppResult<Vec<Uuid>> {
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
#[tracing::instrument(skip_all, fields(members = members.len()))]
pub(super) async fn new_message_notices(
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
    let holding =
        notifications::holding_unread(db, &recipients, NotificationKind::NewMessage, room.id)
            .await?;
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
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub(super) async fn message_for(
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
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
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
    Outbox::of(
        Topic::Room(saved.room_id),
        ChatEvent::MessageEdited {
            message: saved.clone().into(),
        },
    )
    .publish(&state.events);
    Ok(saved)
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub(super) async fn reload(state: &AppState, id: Uuid) -> AppResult<message::Model> {
    message::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("Message"))
}

/// The sender or an admin deletes: the message keeps its place without body or attachment.
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
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
    Outbox::of(
        Topic::Room(saved.room_id),
        ChatEvent::MessageDeleted {
            message: saved.clone().into(),
        },
    )
    .publish(&state.events);
    Ok(saved)
}

/// Moves the viewer's read mark to the newest message; their NEW_MESSAGE notification for the
/// room is read with it.
#[tracing::instrument(skip_all, fields(viewer = %viewer, room_id = %room_id))]
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
    notifications::mark_read_for_subject(&txn, user_id, NotificationKind::NewMessage, room_id, now)
        .await?;
    txn.commit().await?;
    let mut outbox = Outbox::of(
        Topic::Room(room_id),
        ChatEvent::RoomRead {
            room_id,
            user_id,
            last_read_at: now,
        },
    );
    outbox.push(Topic::User(user_id), ChatEvent::RoomActivity { room_id });
    outbox.publish(&state.events);
    Ok(access.room)
}
