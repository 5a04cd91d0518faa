//! Reading: message pages, read marks, unread counts, and lookups other parts of the API batch.

use super::*;

pub(super) fn message_sort() -> Sort {
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
#[tracing::instrument(skip_all, fields(viewer = %viewer, room_id = %room_id))]
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
        query = query.filter(crate::search::contains(
            message::Column::SearchText,
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
#[tracing::instrument(skip_all, fields(user = %identity.user_id, room_ids = room_ids.len()))]
pub async fn unread_in_rooms(
    db: &impl ConnectionTrait,
    identity: &Identity,
    room_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, u64>> {
    let user_id = identity.user_id;
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
        .filter(readable_rooms(
            identity,
            Expr::col((message::Entity, message::Column::RoomId)),
        ))
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
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
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
    let unread = unread_in_rooms(&state.db, identity, &rooms).await?;
    Ok(unread.values().sum())
}

/// Who the viewer may start a direct conversation with: customers see active staff, staff see
/// every active account; never themselves. Newest first.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn messageable_users(
    state: &AppState,
    viewer: &Viewer,
    search: Option<String>,
    args: &PageArgs,
    with_total: bool,
) -> AppResult<(Slice<accounts::Person>, Option<u64>)> {
    let identity = viewer.identity()?;
    let roles = (!identity.is_staff()).then(|| vec![Role::Staff, Role::Admin]);
    let filter = accounts::UserFilter {
        search,
        roles,
        statuses: Some(vec![crate::accounts::AccountStatus::Active]),
    };
    accounts::people_other_than_viewer(state, viewer, &filter, args, with_total).await
}

/// Everyone who shares a room with the user (for presence).
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
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

/// `room IN <the rooms the viewer reads>`: members read their rooms; staff also read every
/// support room (the rule of `readable`, for a batch).
pub(super) fn readable_rooms(identity: &Identity, room: Expr) -> Condition {
    let mine = Query::select()
        .column((member::Entity, member::Column::RoomId))
        .from(member::Entity)
        .and_where(Expr::col((member::Entity, member::Column::UserId)).eq(identity.user_id))
        .to_owned();
    let mut readable = Condition::any().add(room.clone().in_subquery(mine));
    if identity.is_staff() {
        let support = Query::select()
            .column((room::Entity, room::Column::Id))
            .from(room::Entity)
            .and_where(room::Column::Kind.eq(ChatRoomKind::Support))
            .to_owned();
        readable = readable.add(room.in_subquery(support));
    }
    readable
}

/// The viewer's identity, or `None` for an anonymous viewer (who reads no room).
fn reader(viewer: &Viewer) -> AppResult<Option<&Identity>> {
    match viewer {
        Viewer::Anonymous => Ok(None),
        _ => Ok(Some(viewer.identity()?)),
    }
}

/// Members of those of these rooms the viewer reads, in the order they joined (for the loader
/// behind `members`).
#[tracing::instrument(skip_all, fields(viewer = %viewer, room_ids = room_ids.len()))]
pub async fn members_of(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    room_ids: &[Uuid],
) -> AppResult<Vec<member::Model>> {
    let Some(identity) = reader(viewer)? else {
        return Ok(Vec::new());
    };
    Ok(member::Entity::find()
        .filter(member::Column::RoomId.is_in(room_ids.iter().copied()))
        .filter(readable_rooms(
            identity,
            Expr::col((member::Entity, member::Column::RoomId)),
        ))
        .order_by_asc(member::Column::JoinedAt)
        .order_by_asc(member::Column::UserId)
        .all(db)
        .await?)
}

/// The newest message of those of these rooms the viewer reads (for the loader behind
/// `lastMessage`).
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn last_messages(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    rooms: &[(Uuid, i64)],
) -> AppResult<Vec<message::Model>> {
    let Some(identity) = reader(viewer)? else {
        return Ok(Vec::new());
    };
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
    Ok(message::Entity::find()
        .filter(wanted)
        .filter(readable_rooms(
            identity,
            Expr::col((message::Entity, message::Column::RoomId)),
        ))
        .all(db)
        .await?)
}

/// Those of these rooms the viewer reads (a message's room, a room named in an event).
#[tracing::instrument(skip_all, fields(viewer = %viewer, ids = ids.len()))]
pub async fn rooms_by_ids(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    ids: &[Uuid],
) -> AppResult<Vec<room::Model>> {
    let Some(identity) = reader(viewer)? else {
        return Ok(Vec::new());
    };
    Ok(room::Entity::find()
        .filter(room::Column::Id.is_in(ids.iter().copied()))
        .filter(readable_rooms(
            identity,
            Expr::col((room::Entity, room::Column::Id)),
        ))
        .all(db)
        .await?)
}

/// Unread messages per room for the viewer (none for an anonymous viewer).
#[tracing::instrument(skip_all, fields(viewer = %viewer, room_ids = room_ids.len()))]
pub async fn viewer_unread_in_rooms(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    room_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, u64>> {
    match reader(viewer)? {
        Some(identity) => unread_in_rooms(db, identity, room_ids).await,
        None => Ok(HashMap::new()),
    }
}

/// Publishes that typing state changed (typing.rs decides when).
pub(crate) fn publish_typing(
    events: &Events,
    room_id: Uuid,
    user_id: Uuid,
    is_typing: bool,
    expires_at: DateTime<Utc>,
) {
    // Nothing is stored: the outbox delivers at once.
    Outbox::of(
        Topic::Room(room_id),
        ChatEvent::Typing {
            room_id,
            user_id,
            is_typing,
            expires_at,
        },
    )
    .publish(events);
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
