//! Sessions and tokens: issuing, refreshing, listing and ending sessions.

use super::*;

#[tracing::instrument(skip_all)]
pub(super) async fn start_session(
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

pub(super) fn signed_in(
    state: &AppState,
    user: user::Model,
    session_id: Uuid,
    refresh_token: String,
    now: DateTime<Utc>,
) -> AppResult<SignedIn> {
    let expires_at = now + clock::span(state.config.access_token_ttl);
    let access_token = state.jwt.issue(
        user.id,
        &sea_orm::ActiveEnum::to_value(&user.role),
        session_id,
        now,
        expires_at,
    )?;
    Ok(SignedIn {
        access_token,
        refresh_token,
        access_token_expires_at: expires_at,
        user: Person::own(user),
    })
}

pub(super) fn new_refresh_row(
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

/// The identity behind an access token, if its session is still live and its user active.
/// Runs on every authenticated request, so that an ended session is refused at once.
#[tracing::instrument(skip_all, fields(user_id = %user_id, session_id = %session_id))]
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
#[tracing::instrument(skip_all, fields(session_id = %session_id))]
pub(super) async fn end_session(db: &impl ConnectionTrait, session_id: Uuid) -> AppResult<()> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(clock::now()))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    crate::auth::sessions::invalidate();
    crate::devices::service::forget_session(db, session_id).await?;
    Ok(())
}

/// Ends every live session of a user but `keep`; returns how many ended.
#[tracing::instrument(skip_all, fields(user_id = %user_id, keep = ?keep))]
pub(super) async fn end_sessions_of(
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
    crate::devices::service::forget_sessions_of(db, user_id, keep).await?;
    Ok(ended)
}

#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn logout(state: &AppState, viewer: &Viewer) -> AppResult<bool> {
    let identity = viewer.identity()?;
    end_session(&state.db, identity.session_id).await?;
    Ok(true)
}

/// The viewer's live sessions, newest first.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
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
#[tracing::instrument(skip_all, fields(viewer = %viewer, session_id = %session_id))]
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

#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn revoke_other_sessions(state: &AppState, viewer: &Viewer) -> AppResult<u64> {
    let identity = viewer.identity()?;
    end_sessions_of(&state.db, identity.user_id, Some(identity.session_id)).await
}
