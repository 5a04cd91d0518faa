//! Sign-up and email verification.

use super::*;

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
pub async fn register(state: &AppState, input: RegisterInput) -> AppResult<Person> {
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
    let mut new_user = valid
        .into_new_user(state, Role::Customer, AccountStatus::PendingVerification)
        .await?;
    // What they accepted: the TERMS version in effect now.
    new_user.accepted_terms_version = Set(crate::content::service::terms_version(state).await?);
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
    Ok(Person::own(user))
}

/// Sends a new verification code when the address belongs to an unverified account.
/// Answers the same whether or not it does (no account enumeration).
#[tracing::instrument(skip_all)]
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
