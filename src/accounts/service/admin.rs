//! Staff and admin operations.

use super::*;

#[derive(Default)]
pub struct UserFilter {
    pub search: Option<String>,
    pub roles: Option<Vec<Role>>,
    pub statuses: Option<Vec<AccountStatus>>,
}

/// Users newest first (ties broken by id).
pub fn user_sort() -> Sort {
    Sort::new(
        "USER_CREATED_AT_DESC",
        Expr::col((user::Entity, user::Column::CreatedAt)),
        KeyKind::Time,
        Expr::col((user::Entity, user::Column::Id)),
        true,
    )
}

/// A page of users matching the filter, newest first, and their count when asked. Staff only.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn list_users(
    state: &AppState,
    viewer: &Viewer,
    filter: &UserFilter,
    args: &PageArgs,
    with_total: bool,
) -> AppResult<(Slice<Person>, Option<u64>)> {
    viewer.staff()?;
    let (slice, total) = user_sort()
        .page(&state.db, filtered_users(filter)?, args, with_total, |u| {
            (paging::time_key(u.created_at), u.id)
        })
        .await?;
    Ok((slice.map(|u| Person::seen_by(viewer, u)), total))
}

pub(super) fn filtered_users(filter: &UserFilter) -> AppResult<Select<user::Entity>> {
    let mut query = user::Entity::find();
    if let Some(search) = input::optional("search", filter.search.as_deref(), 100)? {
        // Email and names (see `user::Model::search_text`).
        query = query.filter(crate::search::contains(user::Column::SearchText, &search));
    }
    if let Some(roles) = &filter.roles {
        query = query.filter(user::Column::Role.is_in(roles.iter().copied()));
    }
    if let Some(statuses) = &filter.statuses {
        query = query.filter(user::Column::Status.is_in(statuses.iter().copied()));
    }
    Ok(query)
}

/// An admin makes a STAFF or ADMIN account, active at once.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn create_staff(
    state: &AppState,
    viewer: &Viewer,
    account: NewAccount,
    role: Role,
) -> AppResult<Person> {
    viewer.admin()?;
    if role == Role::Customer {
        return Err(AppError::bad_input(
            "role",
            "Staff accounts are STAFF or ADMIN; customers sign up themselves.",
        ));
    }
    let staff = create_active_account(state, account, role).await?;
    Ok(Person::seen_by(viewer, staff))
}

/// Makes an ADMIN from the command line: the one way to the first administrator.
#[tracing::instrument(skip_all)]
pub async fn create_admin(state: &AppState, account: NewAccount) -> AppResult<user::Model> {
    create_active_account(state, account, Role::Admin).await
}

/// An active, verified account of any role, made without sign-up (`create-admin`, `createStaff`,
/// and the demo data).
#[tracing::instrument(skip_all)]
pub(crate) async fn create_active_account(
    state: &AppState,
    account: NewAccount,
    role: Role,
) -> AppResult<user::Model> {
    let mut new_user = account
        .parse()?
        .into_new_user(state, role, AccountStatus::Active)
        .await?;
    new_user.email_verified = Set(true);
    new_user.insert(&state.db).await.map_err(on_email_conflict)
}

#[tracing::instrument(skip_all, fields(viewer = %viewer, user_id = %user_id))]
pub async fn set_user_role(
    state: &AppState,
    viewer: &Viewer,
    user_id: Uuid,
    role: Role,
) -> AppResult<Person> {
    let admin = viewer.admin()?;
    if admin.user_id == user_id {
        return Err(AppError::conflict("You cannot change your own role."));
    }
    let user = get_user_or_not_found(&state.db, user_id).await?;
    let mut active = user.into_active_model();
    active.role = Set(role);
    active.updated_at = Set(clock::now());
    let user = active.update(&state.db).await?;
    // Cached sessions carry the role: drop them.
    crate::auth::sessions::invalidate();
    Ok(Person::seen_by(viewer, user))
}

/// An admin sets an account's status; SUSPENDED ends every session of the account at once.
#[tracing::instrument(skip_all, fields(viewer = %viewer, user_id = %user_id))]
pub async fn set_account_status(
    state: &AppState,
    viewer: &Viewer,
    user_id: Uuid,
    status: AccountStatus,
) -> AppResult<Person> {
    let admin = viewer.admin()?;
    if admin.user_id == user_id {
        return Err(AppError::conflict(
            "You cannot change the status of your own account.",
        ));
    }
    let user = get_user_or_not_found(&state.db, user_id).await?;
    let txn = state.db.begin().await?;
    let mut active = user.into_active_model();
    active.status = Set(status);
    active.updated_at = Set(clock::now());
    let user = active.update(&txn).await?;
    if status == AccountStatus::Suspended {
        end_sessions_of(&txn, user_id, None).await?;
    }
    txn.commit().await?;
    crate::auth::sessions::invalidate();
    Ok(Person::seen_by(viewer, user))
}

#[tracing::instrument(skip_all, fields(viewer = %viewer, user_id = %user_id))]
pub async fn set_membership_tier(
    state: &AppState,
    viewer: &Viewer,
    user_id: Uuid,
    tier: MembershipTier,
) -> AppResult<Person> {
    viewer.staff()?;
    let user = get_user_or_not_found(&state.db, user_id).await?;
    let mut active = user.into_active_model();
    active.membership_tier = Set(tier);
    active.updated_at = Set(clock::now());
    Ok(Person::seen_by(viewer, active.update(&state.db).await?))
}
