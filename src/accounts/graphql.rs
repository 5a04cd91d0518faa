//! The GraphQL face of accounts: `User`, `Session`, `AuthPayload`, their inputs, and the
//! account queries and mutations. Resolvers parse arguments and call the service.

use async_graphql::{Context, InputObject, Object, Result, Upload, Value, ID};
use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::entity::{session, user, AccountStatus, MembershipTier, Role};
use super::service::{
    self, NewAccount, ProfileChanges, RegisterInput as NewCustomer, SignedIn, UserCard,
};
use crate::app::AppState;
use crate::error::AppError;
use crate::graphql::in_place::{value, PlainFields};
use crate::graphql::pagination::{self, Page};
use crate::graphql::{client, loaders, parse_id, read_upload, state, to_id, viewer};
use crate::paging::PageArgs;
use crate::referrals::service::referral_link;

pub struct User {
    row: Row,
    /// Shown as to its owner whoever asks: the user a sign-up or sign-in just returned.
    own: bool,
}

enum Row {
    Full(user::Model),
    /// What a list shows of a person, read with the list; the rest of the row is loaded
    /// (batched with the list's other users) by the first field that needs it.
    Card(UserCard, OnceCell<user::Model>),
}

impl User {
    pub fn new(model: user::Model) -> Self {
        Self {
            row: Row::Full(model),
            own: false,
        }
    }

    /// The account the request just created or signed in to, shown to its owner.
    pub fn own(model: user::Model) -> Self {
        Self {
            row: Row::Full(model),
            own: true,
        }
    }

    /// A user of whom only the card was read.
    pub fn card(card: UserCard) -> Self {
        Self {
            row: Row::Card(card, OnceCell::new()),
            own: false,
        }
    }

    fn id(&self) -> Uuid {
        match &self.row {
            Row::Full(m) => m.id,
            Row::Card(c, _) => c.id,
        }
    }

    fn names(&self) -> (&str, &str) {
        match &self.row {
            Row::Full(m) => (&m.first_name, &m.last_name),
            Row::Card(c, _) => (&c.first_name, &c.last_name),
        }
    }

    fn avatar_path(&self) -> Option<&str> {
        match &self.row {
            Row::Full(m) => m.avatar_path.as_deref(),
            Row::Card(c, _) => c.avatar_path.as_deref(),
        }
    }

    fn full_name_value(&self) -> String {
        let (first, last) = self.names();
        format!("{first} {last}")
    }

    fn avatar_url_from(&self, state: &AppState) -> Option<String> {
        let base = &state.config.public_url;
        self.avatar_path()
            .map(|path| format!("{base}/media/{path}"))
    }

    /// The whole row: at hand, or loaded once.
    async fn full(&self, ctx: &Context<'_>) -> Result<&user::Model> {
        match &self.row {
            Row::Full(m) => Ok(m),
            Row::Card(c, cell) => {
                cell.get_or_try_init(|| async {
                    loaders(ctx)?
                        .users
                        .load_one(c.id)
                        .await?
                        .ok_or_else(|| AppError::not_found("User").into())
                })
                .await
            }
        }
    }

    fn may_see_private(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(self.own || service::may_see_private(viewer(ctx)?, self.id()))
    }

    /// A private field's value: loaded only when the viewer may see it.
    async fn private<'a, T>(
        &'a self,
        ctx: &Context<'_>,
        value: impl FnOnce(&'a user::Model) -> T,
    ) -> Result<Option<T>> {
        if !self.may_see_private(ctx)? {
            return Ok(None);
        }
        Ok(Some(value(self.full(ctx).await?)))
    }
}

/// A person with an account: customer, staff member or administrator. Contact details and
/// referral details are visible to the user themselves and to staff; others see a public profile.
#[Object]
impl User {
    /// The user's id.
    #[graphql(name = "id")]
    async fn id_field(&self) -> ID {
        to_id(self.id())
    }
    /// Email address (lower case). Null unless the viewer is this user or staff.
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        self.private(ctx, |m| m.email.as_str()).await
    }
    /// Given name.
    async fn first_name(&self) -> &str {
        self.names().0
    }
    /// Family name.
    async fn last_name(&self) -> &str {
        self.names().1
    }
    /// Given and family name together.
    async fn full_name(&self) -> String {
        self.full_name_value()
    }
    /// Phone number. Null unless the viewer is this user or staff.
    async fn phone(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.private(ctx, |m| m.phone.as_deref()).await?.flatten())
    }
    /// True once the user signed in with a code texted to their phone.
    async fn phone_verified(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(self.full(ctx).await?.phone_verified)
    }
    /// What the user may do.
    async fn role(&self, ctx: &Context<'_>) -> Result<Role> {
        Ok(self.full(ctx).await?.role)
    }
    /// Whether the account may sign in.
    async fn status(&self, ctx: &Context<'_>) -> Result<AccountStatus> {
        Ok(self.full(ctx).await?.status)
    }
    /// True once the user proved they own their email address.
    async fn email_verified(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(self.full(ctx).await?.email_verified)
    }
    /// Date of birth. Null unless the viewer is this user or staff.
    async fn date_of_birth(&self, ctx: &Context<'_>) -> Result<Option<NaiveDate>> {
        Ok(self.private(ctx, |m| m.date_of_birth).await?.flatten())
    }
    /// Postal address. Null unless the viewer is this user or staff.
    async fn address(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.private(ctx, |m| m.address.as_deref()).await?.flatten())
    }
    /// Postal code. Null unless the viewer is this user or staff.
    async fn zip_code(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self
            .private(ctx, |m| m.zip_code.as_deref())
            .await?
            .flatten())
    }
    /// A few words the user wrote about themselves.
    async fn bio(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.full(ctx).await?.bio.as_deref())
    }
    /// Where the user's picture is served; null when they have none.
    async fn avatar_url(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(self.avatar_url_from(state(ctx)?))
    }
    /// Membership level, which decides the offers the user may use.
    async fn membership_tier(&self, ctx: &Context<'_>) -> Result<MembershipTier> {
        Ok(self.full(ctx).await?.membership_tier)
    }
    /// The user's own referral code. Null unless the viewer is this user or staff.
    async fn referral_code(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        self.private(ctx, |m| m.referral_code.as_str()).await
    }
    /// The sign-up link that carries the referral code. Null unless the viewer is this user or staff.
    async fn referral_link(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let base = &state(ctx)?.config.public_url;
        self.private(ctx, |m| referral_link(base, &m.referral_code))
            .await
    }
    /// Reward points earned by referrals. Null unless the viewer is this user or staff.
    async fn rewards_balance(&self, ctx: &Context<'_>) -> Result<Option<i32>> {
        self.private(ctx, |m| m.rewards_balance).await
    }
    /// True while the user has a live connection (a WebSocket) open, on any instance.
    async fn is_online(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(state(ctx)?.presence.is_online(self.id()).await)
    }
    /// When the user was last connected.
    async fn last_seen_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        Ok(self.full(ctx).await?.last_seen_at)
    }
    /// When the account was made.
    async fn created_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        Ok(self.full(ctx).await?.created_at)
    }
    /// When the account last changed.
    async fn updated_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        Ok(self.full(ctx).await?.updated_at)
    }
}

/// What a list shows of a person is at hand (`Unit.owner` fills it in place).
impl PlainFields for User {
    fn plain(&self, ctx: &Context<'_>, name: &str) -> Option<Value> {
        Some(match name {
            "id" => value(to_id(self.id())),
            "firstName" => Value::String(self.names().0.to_owned()),
            "lastName" => Value::String(self.names().1.to_owned()),
            "fullName" => Value::String(self.full_name_value()),
            "avatarUrl" => value(self.avatar_url_from(state(ctx).ok()?)),
            _ => return None,
        })
    }
}

pub struct AuthPayload(SignedIn);

/// What a sign-in returns: a short-lived access token for the `Authorization: Bearer` header,
/// and a refresh token that gets new ones (and is replaced each time it is used).
#[Object]
impl AuthPayload {
    /// A JWT to send as `Authorization: Bearer <token>`; valid for 15 minutes by default.
    async fn access_token(&self) -> &str {
        &self.0.access_token
    }
    /// An opaque token for `refreshToken`; it works once and then is replaced.
    async fn refresh_token(&self) -> &str {
        &self.0.refresh_token
    }
    /// When the access token stops working.
    async fn access_token_expires_at(&self) -> DateTime<Utc> {
        self.0.access_token_expires_at
    }
    /// The signed-in user.
    async fn user(&self) -> User {
        User::own(self.0.user.clone())
    }
}

pub struct Session(session::Model);

/// A signed-in device or browser.
#[Object]
impl Session {
    /// The session's id (for `revokeSession`).
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// The name the client gave at sign-in.
    async fn device_name(&self) -> Option<&str> {
        self.0.device_name.as_deref()
    }
    /// The browser or app that signed in.
    async fn user_agent(&self) -> Option<&str> {
        self.0.user_agent.as_deref()
    }
    /// The address the sign-in came from.
    async fn ip_address(&self) -> Option<&str> {
        self.0.ip_address.as_deref()
    }
    /// When the session began.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the session was last used (to the minute).
    async fn last_used_at(&self) -> DateTime<Utc> {
        self.0.last_used_at
    }
    /// When the session ends unless it is refreshed.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    /// True for the session of the token making this request.
    async fn current(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(viewer(ctx)?.identity()?.session_id == self.0.id)
    }
}

/// A new customer account.
#[derive(InputObject)]
pub struct RegisterInput {
    /// Email address; a code is sent there to verify it.
    email: String,
    /// At least 8 characters, not only digits, not a common password, not containing the email or names.
    password: String,
    /// Given name.
    first_name: String,
    /// Family name.
    last_name: String,
    /// Phone number, for sign-in by texted code.
    phone: Option<String>,
    /// Someone's referral code (`REF-XXXXXX`).
    referral_code: Option<String>,
    /// Must be true: the user accepts the terms of service.
    accept_terms: bool,
}

/// Changes to the viewer's profile. Absent fields stay as they are; an empty string clears one.
#[derive(InputObject)]
pub struct UpdateProfileInput {
    /// Given name.
    first_name: Option<String>,
    /// Family name.
    last_name: Option<String>,
    /// Phone number; a new number must be verified again.
    phone: Option<String>,
    /// Date of birth.
    date_of_birth: Option<NaiveDate>,
    /// Postal address.
    address: Option<String>,
    /// Postal code.
    zip_code: Option<String>,
    /// A few words about the user.
    bio: Option<String>,
}

/// A staff or admin account, active at once.
#[derive(InputObject)]
pub struct CreateStaffInput {
    /// Email address.
    email: String,
    /// Initial password (same policy as sign-up).
    password: String,
    /// Given name.
    first_name: String,
    /// Family name.
    last_name: String,
    /// Phone number.
    phone: Option<String>,
    /// STAFF or ADMIN.
    role: Role,
}

/// Narrows `users`; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct UserFilter {
    /// Part of the email, first or last name, case-insensitive.
    search: Option<String>,
    /// Only these roles.
    roles: Option<Vec<Role>>,
    /// Only these statuses.
    statuses: Option<Vec<AccountStatus>>,
}

async fn users_page(
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
    Ok(pagination::connection(slice, total, User::new))
}

#[derive(Default)]
pub struct AccountsQuery;

#[Object]
impl AccountsQuery {
    /// The signed-in user; null when not signed in.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(service::me(state(ctx)?, viewer(ctx)?).await?.map(User::new))
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
        let filter = filter.unwrap_or_default();
        let filter = service::UserFilter {
            search: filter.search,
            roles: filter.roles,
            statuses: filter.statuses,
        };
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
            .map(User::new))
    }
}

#[derive(Default)]
pub struct AccountsMutation;

#[Object]
impl AccountsMutation {
    /// Creates a customer account waiting for email verification, and emails a code.
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> Result<User> {
        let user = service::register(
            state(ctx)?,
            NewCustomer {
                account: NewAccount {
                    email: input.email,
                    password: input.password,
                    first_name: input.first_name,
                    last_name: input.last_name,
                    phone: input.phone,
                },
                referral_code: input.referral_code,
                accept_terms: input.accept_terms,
            },
        )
        .await?;
        Ok(User::own(user))
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
        let changes = ProfileChanges {
            first_name: input.first_name,
            last_name: input.last_name,
            phone: input.phone,
            date_of_birth: input.date_of_birth,
            address: input.address,
            zip_code: input.zip_code,
            bio: input.bio,
        };
        Ok(User::new(
            service::update_profile(state(ctx)?, viewer(ctx)?, changes).await?,
        ))
    }

    /// Sets the viewer's picture: JPEG, PNG or WebP (checked by content), at most `UPLOAD_MAX_FILE_BYTES` (25 MiB by default).
    async fn upload_avatar(&self, ctx: &Context<'_>, file: Upload) -> Result<User> {
        let file = read_upload(ctx, &file).await?;
        Ok(User::new(
            service::upload_avatar(state(ctx)?, viewer(ctx)?, file).await?,
        ))
    }

    /// Makes a STAFF or ADMIN account, active at once (admin only).
    async fn create_staff(&self, ctx: &Context<'_>, input: CreateStaffInput) -> Result<User> {
        let account = NewAccount {
            email: input.email,
            password: input.password,
            first_name: input.first_name,
            last_name: input.last_name,
            phone: input.phone,
        };
        let staff = service::create_staff(state(ctx)?, viewer(ctx)?, account, input.role).await?;
        Ok(User::new(staff))
    }

    /// Changes a user's role (admin only; not one's own).
    async fn set_user_role(&self, ctx: &Context<'_>, user_id: ID, role: Role) -> Result<User> {
        let user_id = parse_id("userId", &user_id)?;
        Ok(User::new(
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
        Ok(User::new(
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
        Ok(User::new(
            service::set_membership_tier(state(ctx)?, viewer(ctx)?, user_id, tier).await?,
        ))
    }
}
