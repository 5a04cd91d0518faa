//! Sign-in with Google and Facebook: the provider vouches for the person (`auth::providers`);
//! here the identity finds its account, or links to the account of the same verified email, or
//! makes an ACTIVE customer.

use super::*;
use crate::accounts::entity::{identity, Provider};
use crate::auth::providers::{self, ProviderUser};

fn not_configured(provider: &str) -> AppError {
    AppError::forbidden(format!(
        "Sign-in with {provider} is not configured on this server."
    ))
}

/// Signs in with a Google ID token.
#[tracing::instrument(skip_all)]
pub async fn login_with_google(
    state: &AppState,
    id_token: &str,
    device_name: Option<&str>,
    client: &ClientInfo,
) -> AppResult<SignedIn> {
    let settings = &state.config.social;
    let client_id = settings
        .google_client_id
        .as_deref()
        .ok_or_else(|| not_configured("Google"))?;
    let device_name = input::optional("deviceName", device_name, 100)?;
    let person = providers::verify_google(settings, client_id, id_token.trim()).await?;
    sign_in_as(state, Provider::Google, person, device_name, client).await
}

/// Signs in with a Facebook user access token.
#[tracing::instrument(skip_all)]
pub async fn login_with_facebook(
    state: &AppState,
    access_token: &str,
    device_name: Option<&str>,
    client: &ClientInfo,
) -> AppResult<SignedIn> {
    let settings = &state.config.social;
    let (Some(app_id), Some(secret)) = (&settings.facebook_app_id, &settings.facebook_app_secret)
    else {
        return Err(not_configured("Facebook"));
    };
    let device_name = input::optional("deviceName", device_name, 100)?;
    let person =
        providers::verify_facebook(settings, app_id, secret.expose(), access_token.trim()).await?;
    sign_in_as(state, Provider::Facebook, person, device_name, client).await
}

async fn sign_in_as(
    state: &AppState,
    provider: Provider,
    person: ProviderUser,
    device_name: Option<String>,
    client: &ClientInfo,
) -> AppResult<SignedIn> {
    let user = account_of(state, provider, &person).await?;
    ensure_may_sign_in(&user)?;
    start_session(state, user, device_name, client).await
}

async fn identity_of(
    db: &impl ConnectionTrait,
    provider: Provider,
    subject: &str,
) -> AppResult<Option<identity::Model>> {
    Ok(identity::Entity::find()
        .filter(identity::Column::Provider.eq(provider))
        .filter(identity::Column::Subject.eq(subject))
        .one(db)
        .await?)
}

/// The account of this identity: the one it is linked to, else the account of its verified
/// email (linked now), else a new ACTIVE customer. Two first sign-ins at once end with one
/// account and one identity (unique indexes on the email and on provider and subject).
async fn account_of(
    state: &AppState,
    provider: Provider,
    person: &ProviderUser,
) -> AppResult<user::Model> {
    if let Some(found) = identity_of(&state.db, provider, &person.subject).await? {
        return get_user(&state.db, found.user_id).await;
    }
    let email = person
        .email
        .as_deref()
        .map(|e| Email::parse("email", e))
        .transpose()
        .map_err(|_| {
            AppError::Unauthenticated("The provider gave no usable email address.".into())
        })?
        .ok_or_else(|| {
            AppError::Unauthenticated(
                "The provider shared no email address; allow it, or sign up with email.".into(),
            )
        })?;
    let user = match find_by_email(&state.db, &email).await? {
        Some(user) => proven(state, user).await?,
        None => match new_customer(state, &email, person).await {
            Ok(user) => user,
            // Made meanwhile by a sign-in racing this one.
            Err(AppError::Conflict { .. }) => find_by_email(&state.db, &email)
                .await?
                .ok_or_else(|| AppError::internal("an account vanished while signing in"))?,
            Err(other) => return Err(other),
        },
    };
    let link = identity::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        provider: Set(provider),
        subject: Set(person.subject.clone()),
        created_at: Set(clock::now()),
    };
    match link.insert(&state.db).await.map_err(AppError::from) {
        Ok(_) => Ok(user),
        // Linked meanwhile by a sign-in racing this one: that link decides.
        Err(AppError::Conflict { .. }) => {
            let found = identity_of(&state.db, provider, &person.subject)
                .await?
                .ok_or_else(|| AppError::internal("an identity vanished while signing in"))?;
            get_user(&state.db, found.user_id).await
        }
        Err(other) => Err(other),
    }
}

/// The provider proved the email: an account still waiting for that proof is verified.
async fn proven(state: &AppState, user: user::Model) -> AppResult<user::Model> {
    if user.status != AccountStatus::PendingVerification {
        return Ok(user);
    }
    let mut active = user.into_active_model();
    active.email_verified = Set(true);
    active.status = Set(AccountStatus::Active);
    active.updated_at = Set(clock::now());
    Ok(active.update(&state.db).await?)
}

/// An ACTIVE customer with a referral code and a random password nobody knows (a password can
/// be set later with "forgot password").
async fn new_customer(
    state: &AppState,
    email: &Email,
    person: &ProviderUser,
) -> AppResult<user::Model> {
    let name = |given: &Option<String>, fallback: &str| {
        given
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(fallback)
            .chars()
            .take(NAME_MAX)
            .collect::<String>()
    };
    let first_name = name(&person.first_name, email.local_part());
    let last_name = name(&person.last_name, "-");
    let mut last_error = None;
    // A random password could, very rarely, contain the person's name; draw again then.
    for _ in 0..5 {
        let account = NewAccount {
            email: email.as_str().to_string(),
            password: random_token(24),
            first_name: first_name.clone(),
            last_name: last_name.clone(),
            phone: None,
        };
        match create_active_account(state, account, Role::Customer).await {
            Err(AppError::BadInput { field, .. }) if field == "password" => {
                last_error = Some(AppError::internal("no usable random password"));
            }
            other => return other,
        }
    }
    Err(last_error.unwrap_or_else(|| AppError::internal("no usable random password")))
}
