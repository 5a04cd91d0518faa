//! Transitions other domains drive, inside their transactions.

use super::*;

/// Takes the unit's write lock for the rest of the transaction (a no-op UPDATE: a row lock on
/// PostgreSQL, the write lock on SQLite, taken first so SQLite never has to upgrade a read lock),
/// then reads it. `NOT_FOUND` when it is gone.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn lock_unit(txn: &impl ConnectionTrait, id: Uuid) -> AppResult<unit::Model> {
    unit::Entity::update_many()
        .col_expr(unit::Column::Id, Expr::col(unit::Column::Id))
        .filter(unit::Column::Id.eq(id))
        .exec(txn)
        .await?;
    unit::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("Unit"))
}

/// Moves the unit to `to` if its status is one of `from`, in one conditional statement (so of
/// two moves at the same instant only one applies); `unlist` also takes it off sale. Returns
/// whether it moved.
#[tracing::instrument(skip_all, fields(id = %id))]
pub(super) async fn move_status(
    txn: &impl ConnectionTrait,
    id: Uuid,
    from: &[UnitStatus],
    to: UnitStatus,
    unlist: bool,
) -> AppResult<bool> {
    let mut update = unit::Entity::update_many()
        .col_expr(unit::Column::Status, Expr::val(to))
        .col_expr(unit::Column::UpdatedAt, Expr::val(clock::now()));
    if unlist {
        update = update.col_expr(unit::Column::IsListed, Expr::val(false));
    }
    let result = update
        .filter(unit::Column::Id.eq(id))
        .filter(unit::Column::Status.is_in(from.iter().copied()))
        .exec(txn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A sale is being recorded: ACTIVE → SOLD and unlisted; of two sales at the same instant
/// exactly one gets the unit.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn mark_sold(txn: &impl ConnectionTrait, id: Uuid) -> AppResult<()> {
    if move_status(txn, id, &[UnitStatus::Active], UnitStatus::Sold, true).await? {
        return Ok(());
    }
    let unit = unit::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("Unit"))?;
    Err(AppError::conflict_on(
        "unitId",
        match unit.status {
            UnitStatus::Sold => "This unit is already sold.".to_string(),
            other => format!(
                "A unit that is {} cannot be sold.",
                sea_orm::ActiveEnum::to_value(&other)
            ),
        },
    ))
}

/// A sale was deleted: SOLD → ACTIVE.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn unmark_sold(txn: &impl ConnectionTrait, id: Uuid) -> AppResult<()> {
    move_status(txn, id, &[UnitStatus::Sold], UnitStatus::Active, false).await?;
    Ok(())
}

/// Service work started: ACTIVE (or already IN_SERVICE) → IN_SERVICE; a sold or inactive unit
/// cannot be worked on.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn enter_service(txn: &impl ConnectionTrait, id: Uuid) -> AppResult<()> {
    let from = [UnitStatus::Active, UnitStatus::InService];
    if move_status(txn, id, &from, UnitStatus::InService, false).await? {
        return Ok(());
    }
    Err(AppError::conflict(
        "Work cannot start on a unit that is sold or inactive.",
    ))
}

/// No service is in progress any more: IN_SERVICE → ACTIVE.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn leave_service(txn: &impl ConnectionTrait, id: Uuid) -> AppResult<()> {
    move_status(txn, id, &[UnitStatus::InService], UnitStatus::Active, false).await?;
    Ok(())
}

/// `SELECT id FROM units WHERE owner_id = …`: for other domains' "of the viewer's units" filters.
pub fn ids_owned_by(owner: Uuid) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(unit::Column::Id)
        .from(unit::Entity)
        .and_where(unit::Column::OwnerId.eq(owner))
        .to_owned()
}

/// Units by id, whoever may see them: for the rules that decide visibility themselves
/// (`visible_units_by_id`, a sale's parties).
#[tracing::instrument(skip_all, fields(ids = ids.len()))]
pub async fn units_by_id(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<unit::Model>> {
    Ok(unit::Entity::find()
        .filter(unit::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The ids of units whose VIN, plate, make, model or trim contains `text` (folded as search
/// folds it), as a subquery for other domains' searches (bookings by unit).
pub fn ids_matching(text: &str) -> sea_orm::sea_query::SelectStatement {
    unit::Entity::find()
        .select_only()
        .column(unit::Column::Id)
        .filter(crate::search::contains(unit::Column::SearchText, text))
        .into_query()
}

/// Raises the unit's mileage to `km` when that is higher (telemetry; mileage never goes down
/// this way), in the caller's transaction; the mileage after.
#[tracing::instrument(skip_all, fields(id = %id, km))]
pub async fn raise_mileage(txn: &impl ConnectionTrait, id: Uuid, km: i32) -> AppResult<i32> {
    unit::Entity::update_many()
        .col_expr(unit::Column::Mileage, Expr::val(km))
        .col_expr(unit::Column::UpdatedAt, Expr::val(crate::clock::now()))
        .filter(unit::Column::Id.eq(id))
        .filter(unit::Column::Mileage.lt(km))
        .exec(txn)
        .await?;
    unit::Entity::find_by_id(id)
        .one(txn)
        .await?
        .map(|u| u.mileage)
        .ok_or_else(|| AppError::not_found("Unit"))
}
