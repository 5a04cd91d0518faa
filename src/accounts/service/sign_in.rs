//! Sign-in: by password and by a texted code.

use super::*;

/// What a successful sign-in hands back.
pub struct SignedIn {
    pub access_token: String,
    pub refresh_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub user: Person,
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
#[tracing::instrument(skip_all)]
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

pub(super) fn ensure_may_sign_in(user: &user::Model) -> AppResult<()> {
    match user.status {
        AccountStatus::Active => Ok(()),
        AccountStatus::PendingVerification => Err(AppError::forbidden(
            "Please verify your email address before signing in.",
        )),
        AccountStatus::Suspended => Err(suspended()),
    }
}

pub(super) fn suspended() -> AppError {
    AppError::forbidden("This account is suspended.")
}
