//! The accounts queries and mutations.

use super::*;

pub(super) async fn users_page(
    ctx: &Context<'_>,
    filter: &service::UserFilter,
    args: &PageArgs,
) -> Result<Page<User>> {
    let (slice, total) = service::list_users(
        state(ctx)?,
        viewer(ctx)?,
        filter,
        args,
        pagination::wants_total(ctx),
    )
    .await?;
    Ok(pagination::connection(slice, total, User::from))
}

#[derive(Default)]
pub struct AccountsQuery;

#[Object]
impl AccountsQuery {
    /// The signed-in user; null when not signed in.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(service::me(state(ctx)?, viewer(ctx)?)
            .await?
            .map(User::from))
    }

    /// The viewer's signed-in devices, newest first.
    async fn my_sessions(&self, ctx: &Context<'_>) -> Result<Vec<Session>> {
        let sessions = service::my_sessions(state(ctx)?, viewer(ctx)?).await?;
        Ok(sessions.into_iter().map(Session).collect())
    }

    /// Every account, newest first (staff only).
    async fn users(
        &self,
        ctx: &Context<'_>,
        filter: Option<UserFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Page<User>> {
        let filter = service::UserFilter::from(filter.unwrap_or_default());
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        users_page(ctx, &filter, &args).await
    }

    /// Staff and administrators, newest first (staff only).
    async fn staff(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<User>> {
        let filter = service::UserFilter {
            roles: Some(vec![Role::Staff, Role::Admin]),
            ..Default::default()
        };
        users_page(ctx, &filter, &PageArgs::forward(first, after)).await
    }

    /// One user by id (signed in); what is shown follows the privacy rules of `User`.
    async fn user(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>> {
        let id = parse_id("id", &id)?;
        Ok(service::user(state(ctx)?, viewer(ctx)?, id)
            .await?
            .map(User::from))
    }
}

#[derive(Default)]
pub struct AccountsMutation;

#[Object]
impl AccountsMutation {
    /// Creates a customer account waiting for email verification, and emails a code.
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> Result<User> {
        let user = service::register(state(ctx)?, NewCustomer::from(input)).await?;
        Ok(User::from(user))
    }

    /// Sends a new verification code. Answers true whether or not the address has an account.
    async fn resend_verification_email(&self, ctx: &Context<'_>, email: String) -> Result<bool> {
        Ok(service::resend_verification_email(state(ctx)?, &email).await?)
    }

    /// Activates the account with the emailed code and signs in.
    async fn verify_email(
        &self,
        ctx: &Context<'_>,
        email: String,
        code: String,
    ) -> Result<AuthPayload> {
        let signed_in = service::verify_email(state(ctx)?, &email, &code, client(ctx)?).await?;
        Ok(AuthPayload(signed_in))
    }

    /// Signs in with email and password.
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
        device_name: Option<String>,
    ) -> Result<AuthPayload> {
        let signed_in = service::login(
            state(ctx)?,
            &email,
            &password,
            device_name.as_deref(),
            client(ctx)?,
        )
        .await?;
        Ok(AuthPayload(signed_in))
    }

    /// Signs in with a Google ID token (RS256, for this server's `GOOGLE_CLIENT_ID`, with a
    /// verified email). The first sign-in links the account of that email, or makes a customer.
    async fn login_with_google(
        &self,
        ctx: &Context<'_>,
        id_token: String,
        device_name: Option<String>,
    ) -> Result<AuthPayload> {
        let signed_in = service::login_with_google(
            state(ctx)?,
            &id_token,
            device_name.as_deref(),
            client(ctx)?,
        )
        .await?;
        Ok(AuthPayload(signed_in))
    }

    /// Signs in with a Facebook user access token of this server's app. The first sign-in
    /// links the account of that email, or makes a customer.
    async fn login_with_facebook(
        &self,
        ctx: &Context<'_>,
        access_token: String,
        device_name: Option<String>,
    ) -> Result<AuthPayload> {
        let signed_in = service::login_with_facebook(
            state(ctx)?,
            &access_token,
            device_name.as_deref(),
            client(ctx)?,
        )
        .await?;
        Ok(AuthPayload(signed_in))
    }

    /// Texts a sign-in code. Answers true whether or not the number has an account.
    async fn request_phone_login_code(&self, ctx: &Context<'_>, phone: String) -> Result<bool> {
        Ok(service::request_phone_login_code(state(ctx)?, &phone).await?)
    }

    /// Signs in with a texted code.
    async fn login_with_phone_code(
        &self,
        ctx: &Context<'_>,
        phone: String,
        code: String,
        device_name: Option<String>,
    ) -> Result<AuthPayload> {
        let signed_in = service::login_with_phone_code(
            state(ctx)?,
            &phone,
            &code,
            device_name.as_deref(),
            client(ctx)?,
        )
        .await?;
        Ok(AuthPayload(signed_in))
    }

    /// Trades a refresh token for new tokens; the old refresh token stops working. Presenting
    /// a refresh token that was already traded ends its whole session.
    async fn refresh_token(&self, ctx: &Context<'_>, refresh_token: String) -> Result<AuthPayload> {
        Ok(AuthPayload(
            service::refresh(state(ctx)?, &refresh_token).await?,
        ))
    }

    /// Ends the current session.
    async fn logout(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(service::logout(state(ctx)?, viewer(ctx)?).await?)
    }

    /// Ends one of the viewer's sessions.
    async fn revoke_session(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let id = parse_id("id", &id)?;
        Ok(service::revoke_session(state(ctx)?, viewer(ctx)?, id).await?)
    }

    /// Ends every session of the viewer but the current one; returns how many ended.
    async fn revoke_other_sessions(&self, ctx: &Context<'_>) -> Result<i32> {
        let ended = service::revoke_other_sessions(state(ctx)?, viewer(ctx)?).await?;
        Ok(i32::try_from(ended).unwrap_or(i32::MAX))
    }

    /// Emails a password reset code. Answers true whether or not the address has an account.
    async fn request_password_reset(&self, ctx: &Context<'_>, email: String) -> Result<bool> {
        Ok(service::request_password_reset(state(ctx)?, &email).await?)
    }

    /// Tells whether a reset code is right, without using it up.
    async fn verify_password_reset_code(
        &self,
        ctx: &Context<'_>,
        email: String,
        code: String,
    ) -> Result<bool> {
        Ok(service::verify_password_reset_code(state(ctx)?, &email, &code).await?)
    }

    /// Sets a new password with a reset code; every session of the user ends.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        email: String,
        code: String,
        new_password: String,
    ) -> Result<bool> {
        Ok(service::reset_password(state(ctx)?, &email, &code, &new_password).await?)
    }

    /// Changes the viewer's password; every other session of theirs ends.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> Result<bool> {
        Ok(
            service::change_password(state(ctx)?, viewer(ctx)?, &current_password, &new_password)
                .await?,
        )
    }

    /// Changes the viewer's profile.
    async fn update_profile(&self, ctx: &Context<'_>, input: UpdateProfileInput) -> Result<User> {
        let changes = ProfileChanges::from(input);
        Ok(User::from(
            service::update_profile(state(ctx)?, viewer(ctx)?, changes).await?,
        ))
    }

    /// Accepts the terms: `version` must be the TERMS version in effect (`document(kind: TERMS)`).
    async fn accept_terms(&self, ctx: &Context<'_>, version: i32) -> Result<User> {
        Ok(User::from(
            service::accept_terms(state(ctx)?, viewer(ctx)?, version).await?,
        ))
    }

    /// Sets the viewer's picture: JPEG, PNG or WebP (checked by content), at most `UPLOAD_MAX_IMAGE_BYTES` (10 MiB by default): the `file`, or the file uploaded before to `createUploadUrl`'s URL (`uploadId`), exactly one of them.
    async fn upload_avatar(
        &self,
        ctx: &Context<'_>,
        file: Option<Upload>,
        upload_id: Option<ID>,
    ) -> Result<User> {
        let (state, viewer) = (state(ctx)?, viewer(ctx)?);
        let source = read_file(ctx, file.as_ref(), upload_id.as_ref()).await?;
        let (file, claim) = crate::uploads::service::open(state, viewer, source).await?;
        let set = service::upload_avatar(state, viewer, file).await;
        crate::uploads::service::close(state, claim, set.is_ok()).await;
        Ok(User::from(set?))
    }

    /// Makes a STAFF or ADMIN account, active at once (admin only).
    async fn create_staff(&self, ctx: &Context<'_>, input: CreateStaffInput) -> Result<User> {
        let role = input.role;
        let account = NewAccount::from(input);
        let staff = service::create_staff(state(ctx)?, viewer(ctx)?, account, role).await?;
        Ok(User::from(staff))
    }

    /// Changes a user's role (admin only; not one's own).
    async fn set_user_role(&self, ctx: &Context<'_>, user_id: ID, role: Role) -> Result<User> {
        let user_id = parse_id("userId", &user_id)?;
        Ok(User::from(
            service::set_user_role(state(ctx)?, viewer(ctx)?, user_id, role).await?,
        ))
    }

    /// Changes an account's status (admin only); SUSPENDED ends every session of the account.
    async fn set_account_status(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        status: AccountStatus,
    ) -> Result<User> {
        let user_id = parse_id("userId", &user_id)?;
        Ok(User::from(
            service::set_account_status(state(ctx)?, viewer(ctx)?, user_id, status).await?,
        ))
    }

    /// Changes a user's membership tier (staff only).
    async fn set_membership_tier(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        tier: MembershipTier,
    ) -> Result<User> {
        let user_id = parse_id("userId", &user_id)?;
        Ok(User::from(
            service::set_membership_tier(state(ctx)?, viewer(ctx)?, user_id, tier).await?,
        ))
    }
}
