//! What came in over some days: payments received and refunds made, added up in SQL.

use super::*;
use crate::exports::sheet::within;
use crate::exports::Span;

/// Received payments of one method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodTotal {
    pub method: PaymentMethod,
    pub count: i64,
    pub amount_cents: i64,
}

/// Payments received (by the day they were made) and refunds made (by the day they were made)
/// over the local days `[from, to]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PaymentStats {
    pub count: i64,
    pub received_cents: i64,
    pub refunded_cents: i64,
    pub by_method: Vec<MethodTotal>,
}

#[tracing::instrument(skip_all, fields(viewer = %viewer, %from, %to))]
pub async fn payment_stats(
    state: &AppState,
    viewer: &Viewer,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<PaymentStats> {
    viewer.staff()?;
    let days = Span::of(state, Some(from), Some(to))?;
    let received = payment::Entity::find().filter(payment::Column::Status.is_in(RECEIVED));
    let rows: Vec<(PaymentMethod, i64, i64)> = within(received, payment::Column::CreatedAt, &days)
        .select_only()
        .column(payment::Column::Method)
        .expr(Expr::cust("CAST(COUNT(*) AS BIGINT)"))
        .expr(Expr::cust("CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT)"))
        .group_by(payment::Column::Method)
        .order_by_asc(payment::Column::Method)
        .into_tuple()
        .all(&state.db)
        .await?;
    let refunded: Option<i64> = within(refund::Entity::find(), refund::Column::CreatedAt, &days)
        .select_only()
        .expr(Expr::cust("CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT)"))
        .into_tuple()
        .one(&state.db)
        .await?;
    let by_method: Vec<MethodTotal> = rows
        .into_iter()
        .map(|(method, count, amount_cents)| MethodTotal {
            method,
            count,
            amount_cents,
        })
        .collect();
    Ok(PaymentStats {
        count: by_method.iter().map(|m| m.count).sum(),
        received_cents: by_method.iter().map(|m| m.amount_cents).sum(),
        refunded_cents: refunded.unwrap_or(0),
        by_method,
    })
}
