//! `ChatRoom`, `ChatMessage` and a room's subject, with the helpers their fields share.

use super::*;

pub(super) async fn optional_user(ctx: &Context<'_>, id: Option<Uuid>) -> Result<Option<User>> {
    match id {
        Some(id) => Ok(Some(User::by_id(ctx, id).await?)),
        None => Ok(None),
    }
}

/// The viewer's unread messages in a room (batched across rooms by the `unread` loader).
pub(super) async fn unread_in(ctx: &Context<'_>, room_id: Uuid) -> Result<i64> {
    let unread = loader::<Unread>(ctx)?.load_one(RoomId(room_id)).await?;
    Ok(unread.map_or(0, |n| i64::try_from(n).unwrap_or(i64::MAX)))
}

pub(super) async fn room_of(ctx: &Context<'_>, id: Uuid) -> Result<ChatRoom> {
    let room = loader::<Rooms>(ctx)?.load_one(RoomId(id)).await?;
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
    Booking(Booking),
}

pub struct ChatRoom(pub room::Model);

pub(super) fn member_sort() -> Sort {
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
    /// The unit, service record, sale or booking a support room is about; null when none, or when the
    /// viewer may not see it.
    async fn subject(&self, ctx: &Context<'_>) -> Result<Option<ChatSubject>> {
        let (Some(kind), Some(id)) = (self.0.subject_type.as_deref(), self.0.subject_id) else {
            return Ok(None);
        };
        // The loaders return only what the viewer sees: anything else is null. Rooms of a page
        // are batched, one statement per kind of subject.
        Ok(match kind {
            "Unit" => loader::<Units>(ctx)?
                .load_one(UnitId(id))
                .await?
                .map(|u| ChatSubject::Unit(Unit::new(u))),
            "ServiceRecord" => loader::<Records>(ctx)?
                .load_one(RecordId(id))
                .await?
                .map(|r| ChatSubject::ServiceRecord(ServiceRecord(r))),
            "Sale" => loader::<Sales>(ctx)?
                .load_one(SaleId(id))
                .await?
                .map(|s| ChatSubject::Sale(Sale(s))),
            "Booking" => loader::<Bookings>(ctx)?
                .load_one(BookingId(id))
                .await?
                .map(|b| ChatSubject::Booking(Booking(b))),
            _ => None,
        })
    }
    /// Who opened it.
    async fn created_by(&self, ctx: &Context<'_>) -> Result<User> {
        User::by_id(ctx, self.0.created_by).await
    }
    /// Its members, in the order they joined.
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<User>> {
        let members = loader::<Members>(ctx)?
            .load_one(RoomId(self.0.id))
            .await?
            .unwrap_or_default();
        let total = members.len() as u64;
        let sort = member_sort();
        let window = PageArgs::forward(first, after).window(&sort)?;
        let slice = paging::slice_loaded(&sort, members, &window, |m| {
            (paging::time_key(m.joined_at), m.user_id)
        });
        let ids: Vec<UserId> = slice.rows.iter().map(|(m, _)| UserId(m.user_id)).collect();
        let mut users = loader::<Users>(ctx)?.load_many(ids).await?;
        let slice = Slice {
            rows: slice
                .rows
                .into_iter()
                .filter_map(|(m, cursor)| users.remove(&UserId(m.user_id)).map(|u| (u, cursor)))
                .collect(),
            has_previous: slice.has_previous,
            has_next: slice.has_next,
        };
        Ok(pagination::connection(slice, Some(total), User::from))
    }
    /// How many members it has.
    async fn member_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let members = loader::<Members>(ctx)?.load_one(RoomId(self.0.id)).await?;
        Ok(members.map_or(0, |m| m.len() as i64))
    }
    /// The newest message.
    pub(super) async fn last_message(&self, ctx: &Context<'_>) -> Result<Option<ChatMessage>> {
        if self.0.last_seq == 0 {
            return Ok(None);
        }
        let message = loader::<LastMessage>(ctx)?
            .load_one((RoomId(self.0.id), self.0.last_seq))
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
    pub(super) url: String,
    /// The name it was sent with.
    pub(super) file_name: String,
    /// Its type, checked from its content.
    pub(super) content_type: String,
    /// Its size in bytes.
    pub(super) size: i64,
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
