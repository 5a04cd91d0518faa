//! The bookings' CSV export: the bookings the viewer sees (as `bookings` shows them), by when they
//! start, with what their payments say.

use super::*;
use crate::exports::sheet::{amount, batch_of, cell, instant, within, Rows};
use crate::exports::Span;
use crate::payments::service as payments;
use crate::payments::types::Subject;

pub const EXPORT_HEADER: [&str; 17] = [
    "id",
    "kind",
    "status",
    "customerId",
    "customerEmail",
    "unitId",
    "locationId",
    "startsAt",
    "endsAt",
    "estimatedPrice",
    "offerTitle",
    "offerDiscount",
    "planDiscount",
    "amountPaid",
    "paymentStatus",
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
    let Some(query) = visible(viewer)? else {
        return Ok(Rows::new());
    };
    let rows = batch_of(
        within(query, booking::Column::StartsAt, span),
        booking::Column::Id,
        after,
        limit,
    )
    .all(db)
    .await?;
    let customers: Vec<Uuid> = rows.iter().map(|b| b.customer_id).collect();
    let emails: std::collections::HashMap<Uuid, String> = accounts::users_by_ids(db, &customers)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect();
    let subjects: Vec<Subject> = rows.iter().map(|b| Subject::Booking(b.id)).collect();
    let totals = payments::totals_of(db, &subjects).await?;
    Ok(rows
        .into_iter()
        .map(|b| {
            let paid = totals
                .get(&Subject::Booking(b.id))
                .copied()
                .unwrap_or_default();
            let cells = vec![
                b.id.to_string(),
                sea_orm::ActiveEnum::to_value(&b.kind),
                b.status.name(),
                b.customer_id.to_string(),
                cell(emails.get(&b.customer_id)),
                b.unit_id.to_string(),
                cell(b.location_id),
                instant(Some(b.starts_at)),
                instant(Some(b.ends_at)),
                amount(b.estimated_price_cents),
                cell(b.offer_title),
                amount(b.offer_discount_cents),
                amount(b.plan_discount_cents),
                amount(Some(paid.paid_cents)),
                paid.status(b.estimated_price_cents).name().to_string(),
                cell(b.notes),
                instant(Some(b.created_at)),
            ];
            (b.id, cells)
        })
        .collect())
}
