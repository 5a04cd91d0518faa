//! `User`, `AuthPayload` and `Session`: what accounts show, and to whom.

use super::*;

/// A person as the viewer may see them (`Person`: the privacy rule was applied by the service or
/// the loader that made it).
pub struct User {
    row: Row,
}

pub(super) enum Row {
    Full(Person),
    /// What a list shows of a person, read with the list; the rest of the row is loaded
    /// (batched with the list's other users) by the first field that needs it.
    Card(UserCard, OnceCell<Person>),
}

impl From<Person> for User {
    fn from(person: Person) -> Self {
        Self {
            row: Row::Full(person),
        }
    }
}

impl User {
    /// A user of whom only the card was read.
    pub fn card(card: UserCard) -> Self {
        Self {
            row: Row::Card(card, OnceCell::new()),
        }
    }

    /// A user by id, through the request's loader; `NOT_FOUND` when there is none.
    pub async fn by_id(ctx: &Context<'_>, id: Uuid) -> Result<Self> {
        let person = loader::<Users>(ctx)?.load_one(UserId(id)).await?;
        Ok(Self::from(
            person.ok_or_else(|| AppError::not_found("User"))?,
        ))
    }

    pub(super) fn id(&self) -> Uuid {
        match &self.row {
            Row::Full(p) => p.row().id,
            Row::Card(c, _) => c.id,
        }
    }

    pub(super) fn names(&self) -> (&str, &str) {
        match &self.row {
            Row::Full(p) => (&p.row().first_name, &p.row().last_name),
            Row::Card(c, _) => (&c.first_name, &c.last_name),
        }
    }

    pub(super) fn avatar_path(&self) -> Option<&str> {
        match &self.row {
            Row::Full(p) => p.row().avatar_path.as_deref(),
            Row::Card(c, _) => c.avatar_path.as_deref(),
        }
    }

    pub(super) fn full_name_value(&self) -> String {
        let (first, last) = self.names();
        format!("{first} {last}")
    }

    pub(super) fn avatar_url_from(&self, state: &AppState) -> Option<String> {
        let base = &state.config.public_url;
        self.avatar_path()
            .map(|path| format!("{base}/media/{path}"))
    }

    /// The person: at hand, or loaded once.
    async fn person(&self, ctx: &Context<'_>) -> Result<&Person> {
        match &self.row {
            Row::Full(p) => Ok(p),
            Row::Card(c, cell) => {
                cell.get_or_try_init(|| async {
                    loader::<Users>(ctx)?
                        .load_one(UserId(c.id))
                        .await?
                        .ok_or_else(|| AppError::not_found("User").into())
                })
                .await
            }
        }
    }

    /// The whole row (its public fields).
    pub(super) async fn full(&self, ctx: &Context<'_>) -> Result<&user::Model> {
        Ok(self.person(ctx).await?.row())
    }

    /// A private field's value; none when the viewer may not see it.
    pub(super) async fn private<'a, T>(
        &'a self,
        ctx: &Context<'_>,
        value: impl FnOnce(&'a user::Model) -> T,
    ) -> Result<Option<T>> {
        Ok(self.person(ctx).await?.private().map(value))
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
    /// The TERMS version the user accepted last. Null unless the viewer is this user or staff.
    async fn accepted_terms_version(&self, ctx: &Context<'_>) -> Result<Option<i32>> {
        Ok(self
            .private(ctx, |m| m.accepted_terms_version)
            .await?
            .flatten())
    }
    /// True while a TERMS version is in effect that the user has not accepted (`acceptTerms`).
    /// False unless the viewer is this user or staff.
    async fn must_accept_terms(&self, ctx: &Context<'_>) -> Result<bool> {
        let Some(accepted) = self.private(ctx, |m| m.accepted_terms_version).await? else {
            return Ok(false);
        };
        let in_effect = loader::<Terms>(ctx)?
            .load_one(TermsInEffect)
            .await?
            .flatten();
        Ok(service::must_accept_terms(accepted, in_effect))
    }
    /// Reward points earned by referrals. Null unless the viewer is this user or staff.
    async fn rewards_balance(&self, ctx: &Context<'_>) -> Result<Option<i32>> {
        self.private(ctx, |m| m.rewards_balance).await
    }
    /// True while the user has a live connection (a WebSocket) open, on any instance.
    async fn is_online(&self, ctx: &Context<'_>) -> Result<bool> {
        let online = loader::<Online>(ctx)?.load_one(UserId(self.id())).await?;
        Ok(online.unwrap_or(false))
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

pub struct AuthPayload(pub(super) SignedIn);

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
        User::from(self.0.user.clone())
    }
}

pub struct Session(pub(super) session::Model);

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
