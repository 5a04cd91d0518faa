//! The GraphQL face of referrals: `Referral`, `ReferralInfo` and `myReferrals`.

use async_graphql::{Context, Object, Result, ID};
use chrono::{DateTime, Utc};

use super::entity::{referral, ReferralStatus};
use super::service::{self, ReferralInfo as Info};
use crate::accounts::graphql::User;
use crate::graphql::{state, to_id, viewer};

pub struct Referral(referral::Model);

impl Referral {
    async fn load_user(&self, ctx: &Context<'_>, id: uuid::Uuid) -> Result<User> {
        User::by_id(ctx, id).await
    }
}

/// One person who signed up with someone's referral code.
#[Object]
impl Referral {
    /// The referral's id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// Whose code was used.
    async fn referrer(&self, ctx: &Context<'_>) -> Result<User> {
        self.load_user(ctx, self.0.referrer_id).await
    }
    /// Who signed up with it.
    async fn referred(&self, ctx: &Context<'_>) -> Result<User> {
        self.load_user(ctx, self.0.referred_id).await
    }
    /// The code that was used.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Where the referral stands.
    async fn status(&self) -> ReferralStatus {
        self.0.status
    }
    /// Points the referrer gets (or got) when the referral is credited.
    async fn reward_points(&self) -> i32 {
        self.0.reward_points
    }
    /// When the referred user signed up.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the reward was credited.
    async fn credited_at(&self) -> Option<DateTime<Utc>> {
        self.0.credited_at
    }
}

pub struct ReferralInfo(Info);

/// The viewer's referral code, their link, and who signed up with it.
#[Object]
impl ReferralInfo {
    /// The viewer's code, `REF-` and six characters.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// The sign-up link carrying the code.
    async fn link(&self) -> &str {
        &self.0.link
    }
    /// Referrals made with the code, newest first.
    async fn referrals(&self) -> Vec<Referral> {
        self.0.referrals.iter().cloned().map(Referral).collect()
    }
    /// Points earned from credited referrals.
    async fn total_earned(&self) -> i64 {
        self.0.total_earned
    }
}

#[derive(Default)]
pub struct ReferralsQuery;

#[Object]
impl ReferralsQuery {
    /// The viewer's referral code, link and referrals.
    async fn my_referrals(&self, ctx: &Context<'_>) -> Result<ReferralInfo> {
        Ok(ReferralInfo(
            service::my_referrals(state(ctx)?, viewer(ctx)?).await?,
        ))
    }
}
