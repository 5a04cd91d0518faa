//! The rules of accounts (PRODUCT.md §1): sign-up, codes, sign-in, sessions, passwords, profiles
//! and the staff and admin operations. Authorization is checked here, next to each rule.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Select, TransactionTrait,
};
use uuid::Uuid;

use super::entity::{
    one_time_code, refresh_token, session, user, AccountStatus, MembershipTier, Role,
};
use super::types::{Email, Password, PasswordOwner, Phone};
use crate::app::AppState;
use crate::auth::limiter::Rule;
use crate::auth::otp::{self, Purpose};
use crate::auth::viewer::{ClientInfo, Identity};
use crate::auth::{random_token, sha256_hex, Viewer};
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::input;
use crate::paging::{self, KeyKind, PageArgs, Slice, Sort};
use crate::referrals;

const NAME_MAX: usize = 100;

// ---------------------------------------------------------------------------------------------
// Sign-up and email verification
// ---------------------------------------------------------------------------------------------

/// What every new account is made from, as typed.
pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
}

pub struct RegisterInput {
    pub account: NewAccount,
    pub referral_code: Option<String>,
    pub accept_terms: bool,
}

/// Creates a PENDING_VERIFICATION customer and emails them a verification code.
#[tracing::instrument(skip_all)]
pub async fn register(state: &AppState, input: RegisterInput) -> AppResult<user::Model> {
    if !input.accept_terms {
        return Err(AppError::bad_input(
            "acceptTerms",
            "You must accept the terms to sign up.",
        ));
    }
    let valid = input.account.parse()?;
    let referrer = match input::optional("referralCode", input.referral_code.as_deref(), 16)? {
        Some(code) => Some(referrals::service::referrer_by_code(&state.db, &code).await?),
        None => None,
    };
    let new_user = valid
        .into_new_user(state, Role::Customer, AccountStatus::PendingVerification)
        .await?;
    let reward = state.config.referral_reward_points;
    let txn = state.db.begin().await?;
    let user = new_user.insert(&txn).await.map_err(on_email_conflict)?;
    if let Some(referrer) = referrer {
        referrals::service::record_signup(&txn, &referrer, user.id, reward).await?;
    }
    txn.commit().await?;

    // The first code always goes out; it still counts against the address's send limit.
    let _ = throttle_send(state, Purpose::VerifyEmail, &user.email).await;
    deliver_code(state, Purpose::VerifyEmail, &user.email, Some(user.id)).await;
    Ok(user)
}

/// Sends a new verification code when the address belongs to an unverified account.
/// Answers the same whether or not it does (no account enumeration).
pub async fn resend_verification_email(state: &AppState, raw_email: &str) -> AppResult<bool> {
    let Ok(email) = Email::parse("email", raw_email) else {
        return Ok(true);
    };
    throttle_send(state, Purpose::VerifyEmail, email.as_str()).await?;
    if let Some(user) = find_by_email(&state.db, &email).await? {
        if user.status == AccountStatus::PendingVerification {
            deliver_code(state, Purpose::VerifyEmail, &user.email, Some(user.id)).await;
        }
    }
    Ok(true)
}

/// Checks the code, activates the account, qualifies a referral, and signs the user in.
#[tracing::instrument(skip_all)]
pub async fn verify_email(
    state: &AppState,
    raw_email: &str,
    code: &str,
    client: &ClientInfo,
) -> AppResult<SignedIn> {
    let email = Email::parse("email", raw_email)?;
    let user = find_by_email(&state.db, &email)
        .await?
        .ok_or_else(wrong_code)?;
    check_code(state, Purpose::VerifyEmail, &user.email, code, Consume::Yes).await?;
    if user.status == AccountStatus::Suspended {
        return Err(suspended());
    }
    let user_id = user.id;
    let txn = state.db.begin().await?;
    let mut active = user.into_active_model();
    active.status = Set(AccountStatus::Active);
    active.email_verified = Set(true);
    active.updated_at = Set(clock::now());
    let user = active.update(&txn).await?;
    referrals::service::qualify(&txn, user_id).await?;
    txn.commit().await?;
    start_session(state, user, None, client).await
}

// ---------------------------------------------------------------------------------------------
// Sign-in
// ---------------------------------------------------------------------------------------------

/// What a successful sign-in hands back.
pub struct SignedIn {
    pub access_token: String,
    pub refresh_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub user: user::Model,
}

/// Signs in by email and password. Every attempt takes a place in the failure window of the
/// account and of the client address before the password is checked, and gives it back only
/// when the password was right: so however many attempts arrive at once (batched, aliased or
/// concurrent), no more than the limit are ever evaluated.
#[tracing::instrument(skip_all)]
pub async fn login(
    state: &AppState,
    raw_email: &str,
    password: &str,
    device_name: Option<&str>,
    client: &ClientInfo,
) -> AppResult<SignedIn> {
    let device_name = input::optional("deviceName", device_name, 100)?;
    let wrong = || AppError::Unauthenticated("The email or password is wrong.".into());
    let email = Email::parse("email", raw_email).map_err(|_| wrong())?;

    let throttle = &state.config.login_throttle;
    let mut rules = vec![Rule::new(
        format!("login:account:{}", email.as_str()),
        throttle.max_failures,
        throttle.window,
    )];
    if let Some(ip) = &client.ip {
        rules.push(Rule::new(
            format!("login:ip:{ip}"),
            throttle.max_failures,
            throttle.window,
        ));
    }
    let attempt = state
        .limiter
        .hit(&rules)
        .await
        .map_err(|retry_after_seconds| AppError::RateLimited {
            retry_after_seconds,
        })?;

    let user = find_by_email(&state.db, &email).await?;
    let matches = match &user {
        Some(user) => state.hashing.verify(password, &user.password_hash).await?,
        None => {
            state.hashing.verify_dummy(password).await?;
            false
        }
    };
    let user = match user {
        Some(user) if matches => user,
        _ => return Err(wrong()),
    };
    state.limiter.release(attempt).await;
    ensure_may_sign_in(&user)?;
    start_session(state, user, device_name, client).await
}

/// Texts a login code to a phone number that belongs to an account. Answers `true` either way.
pub async fn request_phone_login_code(state: &AppState, raw_phone: &str) -> AppResult<bool> {
    let Ok(phone) = Phone::parse("phone", raw_phone) else {
        return Ok(true);
    };
    throttle_send(state, Purpose::PhoneLogin, phone.as_str()).await?;
    if let Some(user) = find_by_phone(&state.db, &phone).await? {
        if user.status == AccountStatus::Active {
            deliver_code(state, Purpose::PhoneLogin, phone.as_str(), Some(user.id)).await;
        }
    }
    Ok(true)
}

/// Signs in with a texted code; the phone number counts as verified afterwards.
#[tracing::instrument(skip_all)]
pub async fn login_with_phone_code(
    state: &AppState,
    raw_phone: &str,
    code: &str,
    device_name: Option<&str>,
    client: &ClientInfo,
) -> AppResult<SignedIn> {
    let device_name = input::optional("deviceName", device_name, 100)?;
    let phone = Phone::parse("phone", raw_phone)?;
    let user = find_by_phone(&state.db, &phone)
        .await?
        .ok_or_else(wrong_code)?;
    check_code(
        state,
        Purpose::PhoneLogin,
        phone.as_str(),
        code,
        Consume::Yes,
    )
    .await?;
    ensure_may_sign_in(&user)?;
    let user = if user.phone_verified {
        user
    } else {
        let mut active = user.into_active_model();
        active.phone_verified = Set(true);
        active.updated_at = Set(clock::now());
        active.update(&state.db).await?
    };
    start_session(state, user, device_name, client).await
}

fn ensure_may_sign_in(user: &user::Model) -> AppResult<()> {
    match user.status {
        AccountStatus::Active => Ok(()),
        AccountStatus::PendingVerification => Err(AppError::forbidden(
            "Please verify your email address before signing in.",
        )),
        AccountStatus::Suspended => Err(suspended()),
    }
}

fn suspended() -> AppError {
    AppError::forbidden("This account is suspended.")
}

// ---------------------------------------------------------------------------------------------
// Sessions and tokens
// ---------------------------------------------------------------------------------------------

async fn start_session(
    state: &AppState,
    user: user::Model,
    device_name: Option<String>,
    client: &ClientInfo,
) -> AppResult<SignedIn> {
    let now = clock::now();
    let session_id = Uuid::now_v7();
    let refresh_token = random_token(32);
    let new_session = session::ActiveModel {
        id: Set(session_id),
        user_id: Set(user.id),
        device_name: Set(device_name),
        user_agent: Set(client.user_agent.as_deref().map(|ua| truncate(ua, 300))),
        ip_address: Set(client.ip.clone()),
        created_at: Set(now),
        last_used_at: Set(now),
        expires_at: Set(now + clock::span(state.config.refresh_token_ttl)),
        revoked_at: Set(None),
    };
    let token_row = new_refresh_row(&refresh_token, session_id, now);
    let txn = state.db.begin().await?;
    new_session.insert(&txn).await?;
    token_row.insert(&txn).await?;
    txn.commit().await?;
    signed_in(state, user, session_id, refresh_token, now)
}

fn signed_in(
    state: &AppState,
    user: user::Model,
    session_id: Uuid,
    refresh_token: String,
    now: DateTime<Utc>,
) -> AppResult<SignedIn> {
    let expires_at = now + clock::span(state.config.access_token_ttl);
    let access_token =
        state
            .jwt
            .issue(user.id, role_name(user.role), session_id, now, expires_at)?;
    Ok(SignedIn {
        access_token,
        refresh_token,
        access_token_expires_at: expires_at,
        user,
    })
}

fn new_refresh_row(
    token: &str,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> refresh_token::ActiveModel {
    refresh_token::ActiveModel {
        token_hash: Set(sha256_hex(&[token.as_bytes()])),
        session_id: Set(session_id),
        created_at: Set(now),
        rotated_at: Set(None),
    }
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Customer => "CUSTOMER",
        Role::Staff => "STAFF",
        Role::Admin => "ADMIN",
    }
}

/// The identity behind an access token, if its session is still live and its user active.
/// Runs on every authenticated request, so that an ended session is refused at once.
pub async fn live_identity(
    state: &AppState,
    user_id: Uuid,
    session_id: Uuid,
) -> AppResult<Identity> {
    let ended =
        || AppError::Unauthenticated("Your session has ended. Please sign in again.".into());
    let now = clock::now();
    if let Some(identity) = state.sessions.get(session_id, user_id, now) {
        return Ok(identity);
    }
    let read_epoch = crate::auth::sessions::epoch();
    // Every signed-in request runs this: `all` on the primary key rather than `one`, whose
    // `LIMIT ?` makes SQLite re-prepare the statement on each run (see `paging::fetch`).
    let (session, user) = session::Entity::find_by_id(session_id)
        .find_also_related(user::Entity)
        .all(&state.db)
        .await?
        .into_iter()
        .next()
        .ok_or_else(ended)?;
    let user = user.ok_or_else(ended)?;
    if session.user_id != user_id
        || session.revoked_at.is_some()
        || session.expires_at <= now
        || user.status != AccountStatus::Active
    {
        return Err(ended());
    }
    // Keep `lastUsedAt` roughly current without a write on every request.
    if now - session.last_used_at > chrono::TimeDelta::minutes(1) {
        let db = state.db.clone();
        tokio::spawn(async move {
            let result = session::Entity::update_many()
                .col_expr(session::Column::LastUsedAt, Expr::value(now))
                .filter(session::Column::Id.eq(session_id))
                .exec(&db)
                .await;
            if let Err(err) = result {
                tracing::warn!(error = %err, "could not record session use");
            }
        });
    }
    let identity = Identity {
        user_id,
        role: user.role,
        session_id,
    };
    state
        .sessions
        .put(&identity, session.expires_at, read_epoch);
    Ok(identity)
}

/// Rotates a refresh token. A token that was already rotated, presented again, means a copy
/// was stolen: the whole session ends, so neither the thief nor the owner can go on with it.
#[tracing::instrument(skip_all)]
pub async fn refresh(state: &AppState, token: &str) -> AppResult<SignedIn> {
    let ended = || {
        AppError::Unauthenticated(
            "This refresh token is no longer valid. Please sign in again.".into(),
        )
    };
    let now = clock::now();
    let hash = sha256_hex(&[token.trim().as_bytes()]);
    let row = refresh_token::Entity::find_by_id(hash.clone())
        .one(&state.db)
        .await?
        .ok_or_else(ended)?;
    let (session, user) = session::Entity::find_by_id(row.session_id)
        .find_also_related(user::Entity)
        .one(&state.db)
        .await?
        .ok_or_else(ended)?;
    let user = user.ok_or_else(ended)?;
    if session.revoked_at.is_some() || session.expires_at <= now {
        return Err(ended());
    }
    // Claim the token: only one caller can move it from live to rotated.
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RotatedAt, Expr::value(now))
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .filter(refresh_token::Column::RotatedAt.is_null())
        .exec(&state.db)
        .await?
        .rows_affected
        == 1;
    if !claimed {
        tracing::warn!(session = %session.id, "a rotated refresh token was presented again; ending its session");
        end_session(&state.db, session.id).await?;
        return Err(ended());
    }
    ensure_may_sign_in(&user)?;

    let new_token = random_token(32);
    let token_row = new_refresh_row(&new_token, session.id, now);
    let expires_at = now + clock::span(state.config.refresh_token_ttl);
    let session_id = session.id;
    let txn = state.db.begin().await?;
    token_row.insert(&txn).await?;
    session::Entity::update_many()
        .col_expr(session::Column::LastUsedAt, Expr::value(now))
        .col_expr(session::Column::ExpiresAt, Expr::value(expires_at))
        .filter(session::Column::Id.eq(session_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    signed_in(state, user, session_id, new_token, now)
}

/// Ends one session; its access tokens are refused from now on.
async fn end_session(db: &impl ConnectionTrait, session_id: Uuid) -> AppResult<()> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(clock::now()))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    crate::auth::sessions::invalidate();
    Ok(())
}

/// Ends every live session of a user but `keep`; returns how many ended.
async fn end_sessions_of(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    keep: Option<Uuid>,
) -> AppResult<u64> {
    let mut update = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(clock::now()))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        update = update.filter(session::Column::Id.ne(keep));
    }
    let ended = update.exec(db).await?.rows_affected;
    // In a transaction the caller invalidates again once it commits.
    crate::auth::sessions::invalidate();
    Ok(ended)
}

pub async fn logout(state: &AppState, viewer: &Viewer) -> AppResult<bool> {
    let identity = viewer.identity()?;
    end_session(&state.db, identity.session_id).await?;
    Ok(true)
}

/// The viewer's live sessions, newest first.
pub async fn my_sessions(state: &AppState, viewer: &Viewer) -> AppResult<Vec<session::Model>> {
    let identity = viewer.identity()?;
    Ok(session::Entity::find()
        .filter(session::Column::UserId.eq(identity.user_id))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(clock::now()))
        .order_by_desc(session::Column::Id)
        .all(&state.db)
        .await?)
}

/// Ends one of the viewer's own sessions; someone else's is `NOT_FOUND`.
pub async fn revoke_session(
    state: &AppState,
    viewer: &Viewer,
    session_id: Uuid,
) -> AppResult<bool> {
    let identity = viewer.identity()?;
    let owned = session::Entity::find_by_id(session_id)
        .one(&state.db)
        .await?
        .filter(|s| s.user_id == identity.user_id && s.revoked_at.is_none())
        .ok_or_else(|| AppError::not_found("Session"))?;
    end_session(&state.db, owned.id).await?;
    Ok(true)
}

pub async fn revoke_other_sessions(state: &AppState, viewer: &Viewer) -> AppResult<u64> {
    let identity = viewer.identity()?;
    end_sessions_of(&state.db, identity.user_id, Some(identity.session_id)).await
}

// ---------------------------------------------------------------------------------------------
// Passwords
// ---------------------------------------------------------------------------------------------

/// Emails a reset code when the address has an account. Answers `true` either way.
pub async fn request_password_reset(state: &AppState, raw_email: &str) -> AppResult<bool> {
    let Ok(email) = Email::parse("email", raw_email) else {
        return Ok(true);
    };
    throttle_send(state, Purpose::ResetPassword, email.as_str()).await?;
    if let Some(user) = find_by_email(&state.db, &email).await? {
        deliver_code(state, Purpose::ResetPassword, &user.email, Some(user.id)).await;
    }
    Ok(true)
}

/// Step two of a reset: tells the frontend the code is right, without using it up.
pub async fn verify_password_reset_code(
    state: &AppState,
    raw_email: &str,
    code: &str,
) -> AppResult<bool> {
    let email = Email::parse("email", raw_email)?;
    let user = find_by_email(&state.db, &email)
        .await?
        .ok_or_else(wrong_code)?;
    check_code(
        state,
        Purpose::ResetPassword,
        &user.email,
        code,
        Consume::No,
    )
    .await?;
    Ok(true)
}

/// Sets a new password with a reset code and ends every session of the user.
#[tracing::instrument(skip_all)]
pub async fn reset_password(
    state: &AppState,
    raw_email: &str,
    code: &str,
    new_password: &str,
) -> AppResult<bool> {
    let email = Email::parse("email", raw_email)?;
    let user = find_by_email(&state.db, &email)
        .await?
        .ok_or_else(wrong_code)?;
    // Check the new password first, so that a weak one does not use up the code.
    let password = Password::parse("newPassword", new_password, &owner_of(&email, &user))?;
    check_code(
        state,
        Purpose::ResetPassword,
        &user.email,
        code,
        Consume::Yes,
    )
    .await?;
    let password_hash = state.hashing.hash(password.expose()).await?;
    set_password(state, user, password_hash, None).await?;
    Ok(true)
}

/// Changes the viewer's password and ends every other session of theirs.
#[tracing::instrument(skip_all)]
pub async fn change_password(
    state: &AppState,
    viewer: &Viewer,
    current_password: &str,
    new_password: &str,
) -> AppResult<bool> {
    let identity = viewer.identity()?;
    let user = get_user(&state.db, identity.user_id).await?;
    if !state
        .hashing
        .verify(current_password, &user.password_hash)
        .await?
    {
        return Err(AppError::bad_input(
            "currentPassword",
            "The current password is wrong.",
        ));
    }
    let email = Email::parse("email", &user.email)?;
    let password = Password::parse("newPassword", new_password, &owner_of(&email, &user))?;
    let password_hash = state.hashing.hash(password.expose()).await?;
    set_password(state, user, password_hash, Some(identity.session_id)).await?;
    Ok(true)
}

async fn set_password(
    state: &AppState,
    user: user::Model,
    password_hash: String,
    keep_session: Option<Uuid>,
) -> AppResult<()> {
    let txn = state.db.begin().await?;
    let user_id = user.id;
    let mut active = user.into_active_model();
    active.password_hash = Set(password_hash);
    active.updated_at = Set(clock::now());
    active.update(&txn).await?;
    end_sessions_of(&txn, user_id, keep_session).await?;
    txn.commit().await?;
    crate::auth::sessions::invalidate();
    Ok(())
}

fn owner_of<'a>(email: &'a Email, user: &'a user::Model) -> PasswordOwner<'a> {
    PasswordOwner {
        email,
        first_name: &user.first_name,
        last_name: &user.last_name,
    }
}

// ---------------------------------------------------------------------------------------------
// One-time codes
// ---------------------------------------------------------------------------------------------

/// Counts a code request against the address's limits (one per interval, a few per hour),
/// whether or not the address has an account, so the answer tells nothing about accounts.
async fn throttle_send(state: &AppState, purpose: Purpose, target: &str) -> AppResult<()> {
    let otp = &state.config.otp;
    let key = format!("code:{}:{target}", purpose.as_str());
    state
        .limiter
        .hit(&[
            Rule::new(format!("{key}:interval"), 1, otp.resend_interval),
            Rule::new(
                format!("{key}:hour"),
                otp.max_per_hour,
                std::time::Duration::from_secs(3600),
            ),
        ])
        .await
        .map(drop)
        .map_err(|retry_after_seconds| AppError::RateLimited {
            retry_after_seconds,
        })
}

/// Makes a new code (which replaces any earlier one for the same purpose and address) and sends
/// it. A failed delivery is logged, not shown: the user can ask again.
async fn deliver_code(state: &AppState, purpose: Purpose, target: &str, user_id: Option<Uuid>) {
    let result = async {
        let code = issue_code(state, purpose, target, user_id).await?;
        let minutes = state.config.otp.ttl.as_secs().div_ceil(60);
        match purpose {
            Purpose::VerifyEmail => {
                let body = format!(
                    "Welcome to AutoHub.\n\nYour verification code is {code}.\nIt is valid for {minutes} minutes.\n"
                );
                state.mailer.send(target, "Your AutoHub verification code", body).await
            }
            Purpose::ResetPassword => {
                let body = format!(
                    "Someone asked to reset the password of your AutoHub account.\n\nYour reset code is {code}.\nIt is valid for {minutes} minutes. If it was not you, ignore this message.\n"
                );
                state.mailer.send(target, "Your AutoHub password reset code", body).await
            }
            Purpose::PhoneLogin => {
                let body = format!("Your AutoHub sign-in code is {code}. It is valid for {minutes} minutes.");
                state.sms.send(target, &body).await
            }
        }
    }
    .await;
    if let Err(err) = result {
        tracing::error!(purpose = purpose.as_str(), error = ?err.code(), "could not deliver a code");
    }
}

async fn issue_code(
    state: &AppState,
    purpose: Purpose,
    target: &str,
    user_id: Option<Uuid>,
) -> AppResult<String> {
    let code = otp::generate();
    let now = clock::now();
    let row = one_time_code::ActiveModel {
        id: Set(Uuid::now_v7()),
        purpose: Set(purpose.as_str().to_string()),
        target: Set(target.to_string()),
        user_id: Set(user_id),
        code_hash: Set(otp::hash(
            state.config.jwt_secret.expose(),
            purpose,
            target,
            &code,
        )),
        attempts: Set(0),
        expires_at: Set(now + clock::span(state.config.otp.ttl)),
        consumed_at: Set(None),
        created_at: Set(now),
    };
    let target = target.to_string();
    let txn = state.db.begin().await?;
    // The newest code wins: every earlier one for this purpose and address dies.
    one_time_code::Entity::update_many()
        .col_expr(one_time_code::Column::ConsumedAt, Expr::value(now))
        .filter(one_time_code::Column::Purpose.eq(purpose.as_str()))
        .filter(one_time_code::Column::Target.eq(target))
        .filter(one_time_code::Column::ConsumedAt.is_null())
        .exec(&txn)
        .await?;
    row.insert(&txn).await?;
    txn.commit().await?;
    Ok(code)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Consume {
    Yes,
    No,
}

fn wrong_code() -> AppError {
    AppError::bad_input("code", "This code is wrong or no longer valid.")
}

/// Checks a code. Each check first takes one of the code's tries in a single conditional
/// update, so concurrent guesses cannot exceed the limit; a right code is then used up
/// (`Consume::Yes`, also conditional: a code works once) or its try given back.
async fn check_code(
    state: &AppState,
    purpose: Purpose,
    target: &str,
    code: &str,
    consume: Consume,
) -> AppResult<()> {
    let code = code.trim();
    let now = clock::now();
    let row = one_time_code::Entity::find()
        .filter(one_time_code::Column::Purpose.eq(purpose.as_str()))
        .filter(one_time_code::Column::Target.eq(target))
        .filter(one_time_code::Column::ConsumedAt.is_null())
        .order_by_desc(one_time_code::Column::CreatedAt)
        .order_by_desc(one_time_code::Column::Id)
        .one(&state.db)
        .await?
        .ok_or_else(wrong_code)?;
    if row.expires_at <= now {
        return Err(AppError::bad_input(
            "code",
            "This code has expired. Ask for a new one.",
        ));
    }
    let took_a_try = one_time_code::Entity::update_many()
        .col_expr(
            one_time_code::Column::Attempts,
            Expr::col(one_time_code::Column::Attempts).add(1),
        )
        .filter(one_time_code::Column::Id.eq(row.id))
        .filter(one_time_code::Column::ConsumedAt.is_null())
        .filter(one_time_code::Column::Attempts.lt(state.config.otp.max_attempts))
        .exec(&state.db)
        .await?
        .rows_affected
        == 1;
    if !took_a_try {
        return Err(AppError::bad_input(
            "code",
            "Too many wrong tries for this code. Ask for a new one.",
        ));
    }
    let expected = otp::hash(state.config.jwt_secret.expose(), purpose, target, code);
    if expected != row.code_hash {
        return Err(wrong_code());
    }
    let update = one_time_code::Entity::update_many().filter(one_time_code::Column::Id.eq(row.id));
    let done = match consume {
        Consume::Yes => update
            .col_expr(one_time_code::Column::ConsumedAt, Expr::value(now))
            .filter(one_time_code::Column::ConsumedAt.is_null()),
        Consume::No => update.col_expr(
            one_time_code::Column::Attempts,
            Expr::col(one_time_code::Column::Attempts).sub(1),
        ),
    }
    .exec(&state.db)
    .await?
    .rows_affected
        == 1;
    if done {
        Ok(())
    } else {
        Err(wrong_code())
    }
}

// ---------------------------------------------------------------------------------------------
// Profiles and privacy
// ---------------------------------------------------------------------------------------------

/// The signed-in user, or `None` when nobody is signed in. A bad token is an error.
pub async fn me(state: &AppState, viewer: &Viewer) -> AppResult<Option<user::Model>> {
    match viewer {
        Viewer::Anonymous => Ok(None),
        _ => {
            let identity = viewer.identity()?;
            Ok(Some(get_user(&state.db, identity.user_id).await?))
        }
    }
}

/// Anyone signed in may look a user up; what they see of them is decided by `may_see_private`.
pub async fn user(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<Option<user::Model>> {
    viewer.identity()?;
    Ok(user::Entity::find_by_id(id).one(&state.db).await?)
}

/// Email, phone, address, date of birth (and referral details) are for the user and staff.
pub fn may_see_private(viewer: &Viewer, user: Uuid) -> bool {
    viewer.is_staff() || viewer.user_id() == Some(user)
}

/// What a list shows of a person: id, name and picture. Lists that join their users read only
/// these columns; `User` loads the rest of the row if a field asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCard {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub avatar_path: Option<String>,
}

/// Absent fields stay as they are; an empty string clears an optional field.
#[derive(Default)]
pub struct ProfileChanges {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub date_of_birth: Option<chrono::NaiveDate>,
    pub address: Option<String>,
    pub zip_code: Option<String>,
    pub bio: Option<String>,
}

pub async fn update_profile(
    state: &AppState,
    viewer: &Viewer,
    changes: ProfileChanges,
) -> AppResult<user::Model> {
    let identity = viewer.identity()?;
    let user = get_user(&state.db, identity.user_id).await?;
    let old_phone = user.phone.clone();
    let mut active = user.into_active_model();
    if let Some(v) = changes.first_name {
        active.first_name = Set(input::required("firstName", &v, NAME_MAX)?);
    }
    if let Some(v) = changes.last_name {
        active.last_name = Set(input::required("lastName", &v, NAME_MAX)?);
    }
    if let Some(v) = changes.phone {
        let phone = parse_phone(Some(&v))?.map(Phone::into_inner);
        if phone != old_phone {
            // A new number has to be proven again.
            active.phone_verified = Set(false);
        }
        active.phone = Set(phone);
    }
    if let Some(date) = changes.date_of_birth {
        let today = clock::now().date_naive();
        if date > today || date < today - chrono::Days::new(365 * 130) {
            return Err(AppError::bad_input(
                "dateOfBirth",
                "Enter a real date of birth.",
            ));
        }
        active.date_of_birth = Set(Some(date));
    }
    if let Some(v) = changes.address {
        active.address = Set(input::optional("address", Some(&v), 300)?);
    }
    if let Some(v) = changes.zip_code {
        active.zip_code = Set(input::optional("zipCode", Some(&v), 20)?);
    }
    if let Some(v) = changes.bio {
        active.bio = Set(input::optional("bio", Some(&v), 2000)?);
    }
    active.updated_at = Set(clock::now());
    Ok(active.update(&state.db).await?)
}

/// Replaces the viewer's picture (JPEG, PNG or WebP by content); the old file is removed.
pub async fn upload_avatar(
    state: &AppState,
    viewer: &Viewer,
    file: crate::media::Incoming,
) -> AppResult<user::Model> {
    let identity = viewer.identity()?;
    let user = get_user(&state.db, identity.user_id).await?;
    let stored = state.media.store_image("file", "avatars", &file).await?;
    let old = user.avatar_path.clone();
    let mut active = user.into_active_model();
    active.avatar_path = Set(Some(stored.path.clone()));
    active.updated_at = Set(clock::now());
    match active.update(&state.db).await {
        Ok(user) => {
            if let Some(old) = old {
                state.media.remove(&old).await;
            }
            Ok(user)
        }
        Err(err) => {
            state.media.remove(&stored.path).await;
            Err(err.into())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Staff and admin operations
// ---------------------------------------------------------------------------------------------

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
pub async fn list_users(
    state: &AppState,
    viewer: &Viewer,
    filter: &UserFilter,
    args: &PageArgs,
    with_total: bool,
) -> AppResult<(Slice<user::Model>, Option<u64>)> {
    viewer.staff()?;
    user_sort()
        .page(&state.db, filtered_users(filter)?, args, with_total, |u| {
            (paging::time_key(u.created_at), u.id)
        })
        .await
}

fn filtered_users(filter: &UserFilter) -> AppResult<Select<user::Entity>> {
    let mut query = user::Entity::find();
    if let Some(search) = input::optional("search", filter.search.as_deref(), 100)? {
        let col = |c: user::Column| Expr::col((user::Entity, c));
        query = query.filter(input::contains_any(
            [
                col(user::Column::Email),
                col(user::Column::FirstName),
                col(user::Column::LastName),
            ],
            &search,
        ));
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
pub async fn create_staff(
    state: &AppState,
    viewer: &Viewer,
    account: NewAccount,
    role: Role,
) -> AppResult<user::Model> {
    viewer.admin()?;
    if role == Role::Customer {
        return Err(AppError::bad_input(
            "role",
            "Staff accounts are STAFF or ADMIN; customers sign up themselves.",
        ));
    }
    create_active_account(state, account, role).await
}

/// Makes an ADMIN from the command line: the one way to the first administrator.
pub async fn create_admin(state: &AppState, account: NewAccount) -> AppResult<user::Model> {
    create_active_account(state, account, Role::Admin).await
}

/// An active, verified account of any role, made without sign-up (`create-admin`, `createStaff`,
/// and the demo data).
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

pub async fn set_user_role(
    state: &AppState,
    viewer: &Viewer,
    user_id: Uuid,
    role: Role,
) -> AppResult<user::Model> {
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
    Ok(user)
}

/// An admin sets an account's status; SUSPENDED ends every session of the account at once.
pub async fn set_account_status(
    state: &AppState,
    viewer: &Viewer,
    user_id: Uuid,
    status: AccountStatus,
) -> AppResult<user::Model> {
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
    Ok(user)
}

pub async fn set_membership_tier(
    state: &AppState,
    viewer: &Viewer,
    user_id: Uuid,
    tier: MembershipTier,
) -> AppResult<user::Model> {
    viewer.staff()?;
    let user = get_user_or_not_found(&state.db, user_id).await?;
    let mut active = user.into_active_model();
    active.membership_tier = Set(tier);
    active.updated_at = Set(clock::now());
    Ok(active.update(&state.db).await?)
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A `NewAccount` whose every field passed its check.
struct ValidAccount {
    email: Email,
    password: Password,
    first_name: String,
    last_name: String,
    phone: Option<Phone>,
}

impl NewAccount {
    fn parse(&self) -> AppResult<ValidAccount> {
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
    async fn into_new_user(
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
            last_seen_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
    }
}

fn parse_phone(raw: Option<&str>) -> AppResult<Option<Phone>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(p) => Phone::parse("phone", p).map(Some),
    }
}

fn email_taken() -> AppError {
    AppError::conflict_on(
        "email",
        "An account with this email address already exists.",
    )
}

/// A unique violation while inserting a user can only be the email (racing sign-ups).
fn on_email_conflict(err: sea_orm::DbErr) -> AppError {
    match AppError::from(err) {
        AppError::Conflict { .. } => email_taken(),
        other => other,
    }
}

async fn find_by_email(db: &impl ConnectionTrait, email: &Email) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(db)
        .await?)
}

async fn find_by_phone(db: &impl ConnectionTrait, phone: &Phone) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Phone.eq(phone.as_str()))
        .order_by_desc(user::Column::PhoneVerified)
        .order_by_asc(user::Column::Id)
        .one(db)
        .await?)
}

/// The viewer's own row; missing means their account is gone, so they are signed out.
async fn get_user(db: &impl ConnectionTrait, id: Uuid) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(AppError::unauthenticated)
}

/// The user an input names (`ownerId`, `buyerId`…), or `BAD_USER_INPUT` on that field.
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
pub async fn staff_member(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|u| matches!(u.role, Role::Staff | Role::Admin)))
}

async fn get_user_or_not_found(db: &impl ConnectionTrait, id: Uuid) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("User"))
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Who the viewer may start a direct conversation with: customers see active staff, staff see
/// every active account; never themselves. Newest first.
pub async fn messageable_users(
    state: &AppState,
    viewer: &Viewer,
    search: Option<String>,
    args: &PageArgs,
    with_total: bool,
) -> AppResult<(Slice<user::Model>, Option<u64>)> {
    let identity = viewer.identity()?;
    let roles = (!identity.is_staff()).then(|| vec![Role::Staff, Role::Admin]);
    let filter = UserFilter {
        search,
        roles,
        statuses: Some(vec![AccountStatus::Active]),
    };
    let query = filtered_users(&filter)?.filter(user::Column::Id.ne(identity.user_id));
    user_sort()
        .page(&state.db, query, args, with_total, |u| {
            (paging::time_key(u.created_at), u.id)
        })
        .await
}

/// When the user's last live connection closed (presence).
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

/// The accounts with these ids (a chat member's name…).
pub async fn users_by_ids(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}
