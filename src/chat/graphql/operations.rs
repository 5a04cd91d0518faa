//! The chat queries and mutations.

use super::*;

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
        let (slice, total) = service::messageable_users(
            state(ctx)?,
            viewer(ctx)?,
            search,
            &PageArgs::forward(first, after),
            pagination::wants_total(ctx),
        )
        .await?;
        Ok(pagination::connection(slice, total, User::from))
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
        let open = OpenSupport::try_from(input)?;
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
        let group = NewGroup::try_from(input)?;
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
        let update = RoomUpdate::from(input);
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

    /// Sends a file (an image or a PDF, by its content) with an optional caption: the `file`, or
    /// the file uploaded before to `createUploadUrl`'s URL (`uploadId`), exactly one of them.
    async fn send_file_message(
        &self,
        ctx: &Context<'_>,
        room_id: ID,
        file: Option<Upload>,
        upload_id: Option<ID>,
        caption: Option<String>,
    ) -> Result<ChatMessage> {
        let room = parse_id("roomId", &room_id)?;
        let (state, viewer) = (state(ctx)?, viewer(ctx)?);
        let source = crate::graphql::read_file(ctx, file.as_ref(), upload_id.as_ref()).await?;
        let (incoming, claim) = crate::uploads::service::open(state, viewer, source).await?;
        let sent = service::send_file(state, viewer, room, incoming, caption.as_deref()).await;
        crate::uploads::service::close(state, claim, sent.is_ok()).await;
        Ok(ChatMessage(sent?))
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
        Ok(crate::chat::typing::set_typing(state(ctx)?, viewer(ctx)?, room, is_typing).await?)
    }
}
