//! The payments' CSV export: every payment (staff; a customer their own), by when it was made.

use super::*;
use crate::exports::sheet::{amount, batch_of, cell, instant, within, Rows};
use crate::exports::Span;

pub const EXPORT_HEADER: [&str; 14] = [
    "id",
    "bookingId",
    "saleId",
    "customerId",
    "amount",
    "refundedAmount",
    "currency",
    "method",
    "status",
    "provider",
    "providerReference",
    "recordedById",
    "createdAt",
    "updatedAt",
];

/// A batch of the export's rows after `after`.
pub async fn export_rows(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    span: &Span,
    after: Option<Uuid>,
    limit: u64,
) -> AppResult<Rows> {
    let Some(query) = visible(viewer) else {
        return Ok(Rows::new());
    };
    let rows = batch_of(
        within(query, payment::Column::CreatedAt, span),
        payment::Column::Id,
        after,
        limit,
    )
    .all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|p| {
            let cells = vec![
                p.id.to_string(),
                cell(p.booking_id),
                cell(p.sale_id),
                cell(p.customer_id),
                amount(Some(p.amount_cents)),
                amount(Some(p.refunded_cents)),
                p.currency,
                sea_orm::ActiveEnum::to_value(&p.method),
                sea_orm::ActiveEnum::to_value(&p.status),
                cell(p.provider),
                cell(p.provider_reference),
                cell(p.recorded_by),
                instant(Some(p.created_at)),
                instant(Some(p.updated_at)),
            ];
            (p.id, cells)
        })
        .collect())
}
