//! Passwords: reset in three steps and change.

use super::*;

/// Emails a reset code when the address has an account. Answers `true` either way.
#[tracing::instrument(skip_all)]
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
#[tracing::instrument(skip_all)]
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
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
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

#[tracing::instrument(skip_all, fields(keep_session = ?keep_session))]
pub(super) async fn set_password(
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

pub(super) fn owner_of<'a>(email: &'a Email, user: &'a user::Model) -> PasswordOwner<'a> {
    PasswordOwner {
        email,
        first_name: &user.first_name,
        last_name: &user.last_name,
    }
}
