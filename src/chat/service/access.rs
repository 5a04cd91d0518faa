//! Chat's state in process, room subjects, and who may read a room.

use super::*;

/// Longest message body, in characters, after trimming.
pub const MAX_BODY_CHARS: usize = 4000;
pub(super) const STRIPES: usize = 64;

/// In-process state of chat: the per-room stripes of the ordering lock and typing indicators.
pub struct ChatState {
    stripes: Vec<tokio::sync::Mutex<()>>,
    pub typing: crate::chat::typing::Typing,
}

impl Default for ChatState {
    fn default() -> Self {
        Self {
            stripes: (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
            typing: crate::chat::typing::Typing::default(),
        }
    }
}

impl ChatState {
    pub(super) async fn order(&self, room_id: Uuid) -> tokio::sync::MutexGuard<'_, ()> {
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

#[tracing::instrument(skip_all, fields(room_id = %room_id, user_id = %user_id))]
pub(super) async fn membership(
    db: &impl ConnectionTrait,
    room_id: Uuid,
    user_id: Uuid,
) -> AppResult<Option<member::Model>> {
    Ok(member::Entity::find_by_id((room_id, user_id))
        .one(db)
        .await?)
}

/// Members read their rooms; staff also read every support room. Anyone else: `NOT_FOUND`.
#[tracing::instrument(skip_all, fields(viewer = %viewer, room_id = %room_id))]
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
#[tracing::instrument(skip_all, fields(user = %user.user_id, room_id = %room_id))]
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
