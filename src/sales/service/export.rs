//! The sales' CSV export: the sales the viewer sees (as `sales` shows them), by the day sold.

use super::*;
use crate::exports::sheet::{amount, batch_of, cell, instant, Rows};
use crate::exports::Span;

pub const EXPORT_HEADER: [&str; 14] = [
    "id",
    "unitId",
    "price",
    "soldOn",
    "buyerName",
    "buyerEmail",
    "buyerPhone",
    "buyerId",
    "paymentMethod",
    "salespersonId",
    "commissionRate",
    "commissionAmount",
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
    let Some(mut query) = visible_sales(viewer)? else {
        return Ok(Rows::new());
    };
    if let Some(from) = span.from {
        query = query.filter(sale::Column::SoldOn.gte(from));
    }
    if let Some(to) = span.to {
        query = query.filter(sale::Column::SoldOn.lte(to));
    }
    let sales = batch_of(query, sale::Column::Id, after, limit)
        .all(db)
        .await?;
    Ok(sales
        .into_iter()
        .map(|s| {
            let cells = vec![
                s.id.to_string(),
                s.unit_id.to_string(),
                amount(Some(s.price_cents)),
                s.sold_on.to_string(),
                s.buyer_name,
                cell(s.buyer_email),
                cell(s.buyer_phone),
                cell(s.buyer_id),
                sea_orm::ActiveEnum::to_value(&s.payment_method),
                cell(s.salesperson_id),
                cell(
                    s.commission_rate_bp
                        .map(|bp| Decimal::new(i64::from(bp), 4)),
                ),
                amount(s.commission_cents),
                cell(s.notes),
                instant(Some(s.created_at)),
            ];
            (s.id, cells)
        })
        .collect())
}
