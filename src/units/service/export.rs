//! The units' CSV export: the units the viewer sees (as `units` shows them), by when they were added.

use super::*;
use crate::exports::sheet::{amount, batch_of, cell, instant, within, Rows};
use crate::exports::Span;

pub const EXPORT_HEADER: [&str; 15] = [
    "id",
    "vin",
    "make",
    "model",
    "trim",
    "year",
    "mileage",
    "color",
    "licensePlate",
    "status",
    "isListed",
    "listPrice",
    "ownerId",
    "ownerEmail",
    "createdAt",
];

/// A batch of the export's rows after `after`.
pub async fn export_rows(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    span: &Span,
    after: Option<Uuid>,
    limit: u64,
) -> AppResult<Rows> {
    let mut query = unit::Entity::find();
    if let Some(ids) = visible_ids(&audience(viewer)?) {
        query = query.filter(Expr::col((unit::Entity, unit::Column::Id)).in_subquery(ids));
    }
    let units = batch_of(
        within(query, unit::Column::CreatedAt, span),
        unit::Column::Id,
        after,
        limit,
    )
    .all(db)
    .await?;
    let owners: Vec<Uuid> = units.iter().filter_map(|u| u.owner_id).collect();
    let emails: std::collections::HashMap<Uuid, String> = accounts::users_by_ids(db, &owners)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect();
    Ok(units
        .into_iter()
        .map(|u| {
            let email = u.owner_id.and_then(|o| emails.get(&o).cloned());
            let cells = vec![
                u.id.to_string(),
                u.vin,
                u.make,
                u.model,
                cell(u.trim),
                u.year.to_string(),
                u.mileage.to_string(),
                cell(u.color),
                cell(u.license_plate),
                sea_orm::ActiveEnum::to_value(&u.status),
                u.is_listed.to_string(),
                amount(u.list_price_cents),
                cell(u.owner_id),
                cell(email),
                instant(Some(u.created_at)),
            ];
            (u.id, cells)
        })
        .collect())
}
