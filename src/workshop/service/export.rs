//! The service records' CSV export: the records the viewer sees (as `serviceRecords` shows them),
//! by when they were opened.

use super::*;
use crate::exports::sheet::{amount, batch_of, cell, instant, within, Rows};
use crate::exports::Span;

pub const EXPORT_HEADER: [&str; 12] = [
    "id",
    "unitId",
    "description",
    "status",
    "location",
    "scheduledFor",
    "completedAt",
    "cost",
    "technicianId",
    "isPastHistory",
    "notes",
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
    let Some(query) = visible_records(viewer)? else {
        return Ok(Rows::new());
    };
    let records = batch_of(
        within(query, service_record::Column::CreatedAt, span),
        service_record::Column::Id,
        after,
        limit,
    )
    .all(db)
    .await?;
    Ok(records
        .into_iter()
        .map(|r| {
            let cells = vec![
                r.id.to_string(),
                r.unit_id.to_string(),
                r.description,
                sea_orm::ActiveEnum::to_value(&r.status),
                cell(r.location),
                cell(r.scheduled_for),
                instant(r.completed_at),
                amount(r.cost_cents),
                cell(r.technician_id),
                r.is_past_history.to_string(),
                cell(r.notes),
                instant(Some(r.created_at)),
            ];
            (r.id, cells)
        })
        .collect())
}
