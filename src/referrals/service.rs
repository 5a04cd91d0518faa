//! Referral rules: recording at sign-up, qualifying at email verification, and the viewer's list.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

use super::entity::{referral, ReferralStatus};
use super::types::normalise_code;
use crate::accounts::entity::user;
use crate::accounts::service as accounts;
use crate::app::AppState;
use crate::auth::Viewer;
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::events::Outbox;
use crate::notifications::entity::NotificationKind;
use crate::notifications::service::{self as notifications, Notice};

/// The user whose code this is, or `BAD_USER_INPUT` on `referralCode`.
#[tracing::instrument(skip_all)]
pub async fn referrer_by_code(db: &impl ConnectionTrait, raw: &str) -> AppResult<user::Model> {
    accounts::user_by_referral_code(db, &normalise_code(raw))
        .await?
        .ok_or_else(|| AppError::bad_input("referralCode", "This referral code does not exist."))
}

/// Records that `referred` signed up with `referrer`'s code (PENDING). Runs in the sign-up transaction.
#[tracing::instrument(skip_all, fields(referred_id = %referred_id))]
pub async fn record_signup(
    db: &impl ConnectionTrait,
    referrer: &user::Model,
    referred_id: Uuid,
    reward_points: i32,
) -> AppResult<()> {
    if referrer.id == referred_id {
        return Err(AppError::bad_input(
            "referralCode",
            "You cannot refer yourself.",
        ));
    }
    referral::ActiveModel {
        id: Set(Uuid::now_v7()),
        referrer_id: Set(referrer.id),
        referred_id: Set(referred_id),
        code: Set(referrer.referral_code.clone()),
        status: Set(ReferralStatus::Pending),
        reward_points: Set(reward_points),
        created_at: Set(clock::now()),
        credited_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The referred user verified their email: a PENDING referral becomes QUALIFIED.
#[tracing::instrument(skip_all, fields(referred_id = %referred_id))]
pub async fn qualify(db: &impl ConnectionTrait, referred_id: Uuid) -> AppResult<()> {
    referral::Entity::update_many()
        .col_expr(
            referral::Column::Status,
            Expr::value(ReferralStatus::Qualified),
        )
        .filter(referral::Column::ReferredId.eq(referred_id))
        .filter(referral::Column::Status.eq(ReferralStatus::Pending))
        .exec(db)
        .await?;
    Ok(())
}

/// The referred user completed their first service or purchase: a QUALIFIED referral becomes
/// CREDITED and the referrer's balance grows by its reward. A conditional update decides, so it
/// happens once however many completions race. Runs in the caller's transaction; returns the
/// referrer's notification when this call credited, to publish after the commit.
#[tracing::instrument(skip_all, fields(referred_id = %referred_id))]
pub async fn credit(db: &impl ConnectionTrait, referred_id: Uuid) -> AppResult<Outbox> {
    let Some(referral) = referral::Entity::find()
        .filter(referral::Column::ReferredId.eq(referred_id))
        .filter(referral::Column::Status.eq(ReferralStatus::Qualified))
        .one(db)
        .await?
    else {
        return Ok(Outbox::default());
    };
    let result = referral::Entity::update_many()
        .col_expr(
            referral::Column::Status,
            Expr::value(ReferralStatus::Credited),
        )
        .col_expr(referral::Column::CreditedAt, Expr::value(clock::now()))
        .filter(referral::Column::Id.eq(referral.id))
        .filter(referral::Column::Status.eq(ReferralStatus::Qualified))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(Outbox::default());
    }
    accounts::add_reward_points(db, referral.referrer_id, referral.reward_points).await?;
    let notice = Notice {
        user_id: referral.referrer_id,
        kind: NotificationKind::ReferralCredited,
        title: "Referral reward".to_string(),
        body: format!(
            "Someone you referred became a customer: {} points were added to your balance.",
            referral.reward_points
        ),
        subject: Some(("Referral", referral.id)),
    };
    notifications::store(db, [notice]).await
}

/// The viewer's own code, link and the referrals made with it, newest first.
pub struct ReferralInfo {
    pub code: String,
    pub link: String,
    pub referrals: Vec<referral::Model>,
    pub total_earned: i64,
}

#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn my_referrals(state: &AppState, viewer: &Viewer) -> AppResult<ReferralInfo> {
    let identity = viewer.identity()?;
    let me = accounts::get_user(&state.db, identity.user_id).await?;
    let referrals = referral::Entity::find()
        .filter(referral::Column::ReferrerId.eq(me.id))
        .order_by_desc(referral::Column::Id)
        .all(&state.db)
        .await?;
    let total_earned = referrals
        .iter()
        .filter(|r| r.status == ReferralStatus::Credited)
        .map(|r| i64::from(r.reward_points))
        .sum();
    Ok(ReferralInfo {
        link: referral_link(&state.config.public_url, &me.referral_code),
        code: me.referral_code,
        referrals,
        total_earned,
    })
}

pub fn referral_link(public_url: &str, code: &str) -> String {
    format!("{public_url}/r/{code}")
}
