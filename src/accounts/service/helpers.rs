//! What the concerns above share.

use super::*;

/// A `NewAccount` whose every field passed its check.
pub(super) struct ValidAccount {
    email: Email,
    password: Password,
    first_name: String,
    last_name: String,
    phone: Option<Phone>,
}

impl NewAccount {
    pub(super) fn parse(&self) -> AppResult<ValidAccount> {
        let email = Email::parse("email", &self.email)?;
        let first_name = input::required("firstName", &self.first_name, NAME_MAX)?;
        let last_name = input::required("lastName", &self.last_name, NAME_MAX)?;
        let phone = parse_phone(self.phone.as_deref())?;
        let password = Password::parse(
            "password",
            &self.password,
            &PasswordOwner {
                email: &email,
                first_name: &first_name,
                last_name: &last_name,
            },
        )?;
        Ok(ValidAccount {
            email,
            password,
            first_name,
            last_name,
            phone,
        })
    }
}

impl ValidAccount {
    /// Refuses a taken email, hashes the password, and builds the row to insert.
    pub(super) async fn into_new_user(
        self,
        state: &AppState,
        role: Role,
        status: AccountStatus,
    ) -> AppResult<user::ActiveModel> {
        if find_by_email(&state.db, &self.email).await?.is_some() {
            return Err(email_taken());
        }
        let password_hash = state.hashing.hash(self.password.expose()).await?;
        let now = clock::now();
        Ok(user::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(self.email.into_inner()),
            password_hash: Set(password_hash),
            first_name: Set(self.first_name),
            last_name: Set(self.last_name),
            phone: Set(self.phone.map(Phone::into_inner)),
            phone_verified: Set(false),
            role: Set(role),
            status: Set(status),
            email_verified: Set(false),
            date_of_birth: Set(None),
            address: Set(None),
            zip_code: Set(None),
            bio: Set(None),
            avatar_path: Set(None),
            membership_tier: Set(MembershipTier::None),
            referral_code: Set(referrals::types::generate_code()),
            rewards_balance: Set(0),
            accepted_terms_version: Set(None),
            last_seen_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            // Filled from the names and email when saved.
            search_text: sea_orm::ActiveValue::NotSet,
        })
    }
}

pub(super) fn parse_phone(raw: Option<&str>) -> AppResult<Option<Phone>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(p) => Phone::parse("phone", p).map(Some),
    }
}

pub(super) fn email_taken() -> AppError {
    AppError::conflict_on(
        "email",
        "An account with this email address already exists.",
    )
}

/// A unique violation while inserting a user can only be the email (racing sign-ups).
pub(super) fn on_email_conflict(err: sea_orm::DbErr) -> AppError {
    match AppError::from(err) {
        AppError::Conflict { .. } => email_taken(),
        other => other,
    }
}

#[tracing::instrument(skip_all)]
pub(super) async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &Email,
) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(db)
        .await?)
}

#[tracing::instrument(skip_all)]
pub(super) async fn find_by_phone(
    db: &impl ConnectionTrait,
    phone: &Phone,
) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Phone.eq(phone.as_str()))
        .order_by_desc(user::Column::PhoneVerified)
        .order_by_asc(user::Column::Id)
        .one(db)
        .await?)
}

/// The viewer's own row; missing means their account is gone, so they are signed out.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get_user(db: &impl ConnectionTrait, id: Uuid) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(AppError::unauthenticated)
}

/// The user an input names (`ownerId`, `buyerId`…), or `BAD_USER_INPUT` on that field.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn user_named_in(
    db: &impl ConnectionTrait,
    field: &str,
    id: Uuid,
) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input(field, "There is no such user."))
}

/// The staff member an input names (`technicianId`, `salespersonId`), or `BAD_USER_INPUT`.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn staff_named_in(
    db: &impl ConnectionTrait,
    field: &str,
    id: Uuid,
) -> AppResult<user::Model> {
    staff_member(db, id).await?.ok_or_else(|| {
        AppError::bad_input(
            field,
            format!(
                "{} must be a staff member.",
                input::label(field.trim_end_matches("Id"))
            ),
        )
    })
}

/// The STAFF or ADMIN account with this id, if there is one.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn staff_member(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|u| matches!(u.role, Role::Staff | Role::Admin)))
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub(super) async fn get_user_or_not_found(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("User"))
}

pub(super) fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Users matching the filter other than the viewer, newest first, as the viewer may see them:
/// for other domains' lists of people (chat's directory of whom one may write to). Signed in only.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn people_other_than_viewer(
    state: &AppState,
    viewer: &Viewer,
    filter: &UserFilter,
    args: &PageArgs,
    with_total: bool,
) -> AppResult<(Slice<Person>, Option<u64>)> {
    let identity = viewer.identity()?;
    let query = filtered_users(filter)?.filter(user::Column::Id.ne(identity.user_id));
    let (slice, total) = user_sort()
        .page(&state.db, query, args, with_total, |u| {
            (paging::time_key(u.created_at), u.id)
        })
        .await?;
    Ok((slice.map(|u| Person::seen_by(viewer, u)), total))
}

/// When the user's last live connection closed (presence).
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn record_last_seen(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    at: DateTime<Utc>,
) -> AppResult<()> {
    user::Entity::update_many()
        .col_expr(user::Column::LastSeenAt, Expr::value(at))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The user whose referral code this is (already normalised), if any.
#[tracing::instrument(skip_all)]
pub async fn user_by_referral_code(
    db: &impl ConnectionTrait,
    code: &str,
) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::ReferralCode.eq(code))
        .one(db)
        .await?)
}

/// Adds reward points to a user's balance (a credited referral), in the caller's transaction;
/// one conditional-free increment, so concurrent credits add up.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn add_reward_points(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    points: i32,
) -> AppResult<()> {
    user::Entity::update_many()
        .col_expr(
            user::Column::RewardsBalance,
            Expr::col(user::Column::RewardsBalance).add(points),
        )
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The accounts with these ids (a chat member's name…).
#[tracing::instrument(skip_all, fields(ids = ids.len()))]
pub async fn users_by_ids(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The ids of active staff members and administrators (whom a new booking is announced to).
#[tracing::instrument(skip_all)]
pub async fn active_staff_ids(db: &impl ConnectionTrait) -> AppResult<Vec<Uuid>> {
    Ok(user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Role.is_in([Role::Staff, Role::Admin]))
        .filter(user::Column::Status.eq(AccountStatus::Active))
        .into_tuple()
        .all(db)
        .await?)
}

/// The ids of users whose name, email or phone contains `text` (folded as search folds it), as
/// a subquery for other domains' searches (bookings by customer).
pub fn ids_matching(text: &str) -> sea_orm::sea_query::SelectStatement {
    let mut matches = Condition::any().add(crate::search::contains(user::Column::SearchText, text));
    // Phone numbers are ASCII: LIKE compares them alike on both databases.
    let phone = text.trim().replace(['\\', '%', '_'], "");
    if !phone.is_empty() {
        matches = matches.add(user::Column::Phone.contains(phone));
    }
    user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(matches)
        .into_query()
}
