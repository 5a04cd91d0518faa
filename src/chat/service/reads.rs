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
