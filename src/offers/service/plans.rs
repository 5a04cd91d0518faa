//! Membership plans: one per tier (the migration makes them), each with the discount its members
//! get on every service appointment. Everyone reads them; admins change them.

use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, IntoActiveModel};

use super::*;
use crate::input;
use crate::money;
use crate::offers::entity::plan;

/// At most this many benefits per plan.
pub const MAX_BENEFITS: usize = 20;

/// The plans, NONE first, as the tiers rank.
#[tracing::instrument(skip_all)]
pub async fn plans(db: &impl ConnectionTrait) -> AppResult<Vec<plan::Model>> {
    let mut plans = plan::Entity::find().all(db).await?;
    plans.sort_by_key(|p| p.tier as u8);
    Ok(plans)
}

/// The plan of a tier.
pub async fn plan_of(
    db: &impl ConnectionTrait,
    tier: MembershipTier,
) -> AppResult<Option<plan::Model>> {
    Ok(plan::Entity::find_by_id(tier).one(db).await?)
}

/// A plan's benefits as a list.
pub fn benefits(plan: &plan::Model) -> Vec<String> {
    serde_json::from_str(&plan.benefits).unwrap_or_default()
}

pub struct PlanInput {
    pub name: String,
    pub monthly_price: Decimal,
    pub benefits: Vec<String>,
    pub discount_percent: Decimal,
}

/// An admin changes the plan of a tier.
#[tracing::instrument(skip_all, fields(viewer = %viewer, tier = ?tier))]
pub async fn update_plan(
    state: &AppState,
    viewer: &Viewer,
    tier: MembershipTier,
    input: PlanInput,
) -> AppResult<plan::Model> {
    viewer.admin()?;
    let name = input::required("name", &input.name, 120)?;
    let monthly_price_cents = money::cents("monthlyPrice", input.monthly_price, false)?;
    let discount_basis_points = money::cents("discountPercent", input.discount_percent, false)?;
    if discount_basis_points > 10_000 {
        return Err(AppError::bad_input(
            "discountPercent",
            "A discount runs from 0 to 100 percent.",
        ));
    }
    if input.benefits.len() > MAX_BENEFITS {
        return Err(AppError::bad_input(
            "benefits",
            format!("A plan lists at most {MAX_BENEFITS} benefits."),
        ));
    }
    let benefits = input
        .benefits
        .iter()
        .enumerate()
        .map(|(i, b)| input::required(&format!("benefits.{i}"), b, 200))
        .collect::<AppResult<Vec<String>>>()?;
    let row = plan::Model {
        tier,
        name,
        monthly_price_cents,
        benefits: serde_json::to_string(&benefits).map_err(AppError::internal)?,
        discount_basis_points: i32::try_from(discount_basis_points).unwrap_or(10_000),
        updated_at: clock::now(),
    };
    Ok(row
        .into_active_model()
        .reset_all()
        .update(&state.db)
        .await?)
}
