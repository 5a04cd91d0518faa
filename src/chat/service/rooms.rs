//! Rooms: listing, opening (support, direct, group), changing, and their members.

use super::*;

pub(super) fn room_sort() -> Sort {
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
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
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

pub(super) fn title(field: &str, value: &str) -> AppResult<String> {
    input::required(field, value, 200)
}

#[tracing::instrument(skip_all, fields(room_id = %room_id, user_id = %user_id, added_by = ?added_by))]
pub(super) async fn join(
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
#[tracing::instrument(skip_all, fields(members = members.len()))]
pub(super) async fn open_keyed(
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

pub(super) fn new_room(kind: ChatRoomKind, title: String, created_by: Uuid) -> room::Model {
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

/// Is the subject the customer's: their unit, a record of their unit, a sale of or to them,
/// their booking?
#[tracing::instrument(skip_all, fields(customer = %customer, id = %id))]
pub(super) async fn subject_of_customer(
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
        SubjectType::Booking => bookings::customer_of(db, id).await? == Some(customer),
    })
}

pub struct OpenSupport {
    pub title: String,
    pub subject: Option<(SubjectType, Uuid)>,
    pub customer_id: Option<Uuid>,
}

/// A customer opens a support room for themselves, staff for a customer; one active room per
/// customer and subject (opening again returns it).
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
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

pub(super) fn full_name(user: &user::Model) -> String {
    format!("{} {}", user.first_name, user.last_name)
}

/// Two users' room; customers may only message staff. Opening again returns the same room.
#[tracing::instrument(skip_all, fields(viewer = %viewer, other_id = %other_id))]
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
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
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

pub(super) fn member_added_notice(room: &room::Model, user_id: Uuid) -> Notice {
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
pub(super) fn may_manage(identity: &Identity, room: &room::Model) -> bool {
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

#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
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
    Outbox::of(
        Topic::Room(id),
        ChatEvent::RoomUpdated {
            room: saved.clone().into(),
        },
    )
    .publish(&state.events);
    Ok(saved)
}

/// Group rooms only: the creator or an admin adds staff.
#[tracing::instrument(skip_all, fields(viewer = %viewer, room_id = %room_id, user_id = %user_id))]
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
    let notices = notifications::store(&txn, [member_added_notice(&access.room, user_id)]).await?;
    txn.commit().await?;
    let mut outbox = Outbox::of(
        Topic::Room(room_id),
        ChatEvent::MemberAdded {
            room_id,
            user_id,
            added_by: Some(access.identity.user_id),
        },
    );
    outbox.extend(notices);
    outbox.publish(&state.events);
    Ok(access.room)
}

#[tracing::instrument(skip_all, fields(viewer = %viewer, room_id = %room_id))]
pub(super) async fn manageable_group(
    state: &AppState,
    viewer: &Viewer,
    room_id: Uuid,
) -> AppResult<Access> {
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

#[tracing::instrument(skip_all, fields(room_id = %room_id, user_id = %user_id, removed_by = ?removed_by))]
pub(super) async fn drop_member(
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
    Outbox::of(
        Topic::Room(room_id),
        ChatEvent::MemberRemoved {
            room_id,
            user_id,
            removed_by,
        },
    )
    .publish(&state.events);
    Ok(true)
}

/// The creator or an admin removes a member of a group room; their subscriptions to it end.
#[tracing::instrument(skip_all, fields(viewer = %viewer, room_id = %room_id, user_id = %user_id))]
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
#[tracing::instrument(skip_all, fields(viewer = %viewer, room_id = %room_id))]
pub async fn leave_room(state: &AppState, viewer: &Viewer, room_id: Uuid) -> AppResult<bool> {
    let access = readable(&state.db, viewer, room_id).await?;
    if access.room.kind == ChatRoomKind::Direct {
        return Err(AppError::conflict("Direct rooms cannot be left."));
    }
    drop_member(state, room_id, access.identity.user_id, None).await
}
