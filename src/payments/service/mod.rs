//! The rules of payments: who sees which, what a booking or sale has paid (always summed from its
//! payments), counter payments and refunds that never exceed what they may, and the stats.
//!
//! Every change of what is paid runs in one transaction that first locks the booking's or sale's
//! row (`bookings::service::lock_booking`, `sales::service::lock_sale`), then sums its payments and
//! writes: two payments at the same instant wait for each other, and the second sees the first.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, Select, TransactionTrait,
};
use uuid::Uuid;

use super::entity::{payment, refund, PaymentMethod, PaymentStatus};
use super::types::{Subject, Totals};
use crate::app::AppState;
use crate::auth::Viewer;
use crate::bookings::entity::BookingStatus;
use crate::bookings::service as bookings;
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::paging::{self, KeyKind, PageArgs, Slice, Sort};
use crate::sales::service as sales;
use crate::{input, money};

mod export;
mod online;
mod stats;

pub use export::*;
pub use online::*;
pub use stats::*;

/// Statuses whose amount was received (a refund is taken off separately).
const RECEIVED: [PaymentStatus; 2] = [PaymentStatus::Succeeded, PaymentStatus::Refunded];

/// Payments newest first.
pub fn payment_sort() -> Sort {
    Sort::new(
        "PAYMENT_CREATED_AT_DESC",
        Expr::col((payment::Entity, payment::Column::CreatedAt)),
        KeyKind::Time,
        Expr::col((payment::Entity, payment::Column::Id)),
        true,
    )
}

fn payment_key(p: &payment::Model) -> (i64, Uuid) {
    (paging::time_key(p.created_at), p.id)
}

/// The payments the viewer sees: staff all, a customer those they made; `None` signed out.
fn visible(viewer: &Viewer) -> Option<Select<payment::Entity>> {
    let identity = viewer.identity().ok()?;
    let query = payment::Entity::find();
    Some(if identity.is_staff() {
        query
    } else {
        query.filter(payment::Column::CustomerId.eq(identity.user_id))
    })
}

fn of_subjects(subjects: &[Subject]) -> Condition {
    let (mut booking_ids, mut sale_ids) = (Vec::new(), Vec::new());
    for subject in subjects {
        match subject {
            Subject::Booking(id) => booking_ids.push(*id),
            Subject::Sale(id) => sale_ids.push(*id),
        }
    }
    Condition::any()
        .add(payment::Column::BookingId.is_in(booking_ids))
        .add(payment::Column::SaleId.is_in(sale_ids))
}

fn subject_of(p: &payment::Model) -> Option<Subject> {
    p.booking_id
        .map(Subject::Booking)
        .or(p.sale_id.map(Subject::Sale))
}

/// The payments of these bookings and sales the viewer sees, oldest first.
#[tracing::instrument(skip_all, fields(viewer = %viewer, subjects = subjects.len()))]
pub async fn payments_of(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    subjects: &[Subject],
) -> AppResult<HashMap<Subject, Vec<payment::Model>>> {
    let Some(query) = visible(viewer) else {
        return Ok(HashMap::new());
    };
    let rows = query
        .filter(of_subjects(subjects))
        .order_by_asc(payment::Column::CreatedAt)
        .order_by_asc(payment::Column::Id)
        .all(db)
        .await?;
    let mut out: HashMap<Subject, Vec<payment::Model>> = HashMap::new();
    for row in rows {
        if let Some(subject) = subject_of(&row) {
            out.entry(subject).or_default().push(row);
        }
    }
    Ok(out)
}

/// The payments with these ids the viewer sees.
#[tracing::instrument(skip_all, fields(viewer = %viewer, ids = ids.len()))]
pub async fn visible_payments_by_id(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    ids: &[Uuid],
) -> AppResult<Vec<payment::Model>> {
    let Some(query) = visible(viewer) else {
        return Ok(Vec::new());
    };
    Ok(query
        .filter(payment::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// What the payments of these bookings and sales add up to (absent: no payments), in one
/// statement. Amounts are the subject's own, shown to whoever sees the subject.
#[tracing::instrument(skip_all, fields(subjects = subjects.len()))]
pub async fn totals_of(
    db: &impl ConnectionTrait,
    subjects: &[Subject],
) -> AppResult<HashMap<Subject, Totals>> {
    let sum = |case: &str| Expr::cust(format!("CAST(COALESCE(SUM({case}), 0) AS BIGINT)"));
    /// Booking, sale, paid, refunded, pending.
    type Sums = (Option<Uuid>, Option<Uuid>, i64, i64, i64);
    let rows: Vec<Sums> = payment::Entity::find()
        .select_only()
        .column(payment::Column::BookingId)
        .column(payment::Column::SaleId)
        .expr(sum("CASE WHEN status IN ('SUCCEEDED', 'REFUNDED') THEN amount_cents - refunded_cents ELSE 0 END"))
        .expr(sum("refunded_cents"))
        .expr(sum("CASE WHEN status = 'PENDING' THEN amount_cents ELSE 0 END"))
        .filter(of_subjects(subjects))
        .group_by(payment::Column::BookingId)
        .group_by(payment::Column::SaleId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(booking, sale, paid, refunded, pending)| {
            let subject = booking.map(Subject::Booking).or(sale.map(Subject::Sale))?;
            let totals = Totals {
                paid_cents: paid,
                refunded_cents: refunded,
                pending_cents: pending,
            };
            Some((subject, totals))
        })
        .collect())
}

/// Does this booking or sale have payments of any status?
pub async fn has_payments(db: &impl ConnectionTrait, subject: Subject) -> AppResult<bool> {
    Ok(payment::Entity::find()
        .filter(of_subjects(&[subject]))
        .one(db)
        .await?
        .is_some())
}

/// What a payment may be taken for, its row locked: the price and who pays.
pub(super) struct Payable {
    pub price_cents: i64,
    pub customer: Option<Uuid>,
}

/// Locks the booking or sale and says what may be paid on it: a booking that has a price and is
/// not declined or cancelled, or a sale.
pub(super) async fn lock_payable(
    txn: &impl ConnectionTrait,
    subject: Subject,
) -> AppResult<Payable> {
    match subject {
        Subject::Booking(id) => {
            let booking = bookings::lock_booking(txn, id).await?;
            if matches!(
                booking.status,
                BookingStatus::Declined | BookingStatus::Cancelled
            ) {
                return Err(AppError::conflict(format!(
                    "This booking is {}; nothing is paid on it.",
                    booking.status.name().to_lowercase()
                )));
            }
            let Some(price_cents) = booking.estimated_price_cents else {
                return Err(AppError::conflict("This booking has no price to pay."));
            };
            Ok(Payable {
                price_cents,
                customer: Some(booking.customer_id),
            })
        }
        Subject::Sale(id) => {
            let sale = sales::lock_sale(txn, id).await?;
            Ok(Payable {
                price_cents: sale.price_cents,
                customer: sale.buyer_id,
            })
        }
    }
}

/// Takes `amount` off what is due, or says how much is left.
pub(super) fn check_due(amount_cents: i64, price_cents: i64, totals: &Totals) -> AppResult<()> {
    let due = totals.due_cents(price_cents);
    if amount_cents <= due {
        return Ok(());
    }
    let held = if totals.pending_cents > 0 {
        format!(
            " ({} is held by an online payment under way)",
            money::decimal(totals.pending_cents)
        )
    } else {
        String::new()
    };
    Err(AppError::conflict_on(
        "amount",
        format!(
            "Only {} is left to pay{held}.",
            money::decimal(std::cmp::max(due, 0))
        ),
    ))
}

/// A payment taken at the counter.
pub struct CounterPayment {
    pub subject: Subject,
    pub amount: Decimal,
    pub method: PaymentMethod,
    pub reference: Option<String>,
}

/// Staff record a payment received at the counter: SUCCEEDED at once, never more than is due.
#[tracing::instrument(skip_all, fields(viewer = %viewer, subject = ?input.subject))]
pub async fn record_payment(
    state: &AppState,
    viewer: &Viewer,
    input: CounterPayment,
) -> AppResult<payment::Model> {
    let identity = viewer.staff()?;
    let amount_cents = money::cents("amount", input.amount, true)?;
    if input.method == PaymentMethod::Online {
        return Err(AppError::bad_input(
            "method",
            "Online payments come through the provider (startOnlinePayment).",
        ));
    }
    let reference = input::optional("reference", input.reference.as_deref(), 200)?;
    let txn = state.db.begin().await?;
    let payable = lock_payable(&txn, input.subject).await?;
    let totals = totals_of(&txn, &[input.subject])
        .await?
        .remove(&input.subject)
        .unwrap_or_default();
    check_due(amount_cents, payable.price_cents, &totals)?;
    let now = clock::now();
    let row = payment::Model {
        id: Uuid::now_v7(),
        booking_id: matches!(input.subject, Subject::Booking(_)).then_some(input.subject.id()),
        sale_id: matches!(input.subject, Subject::Sale(_)).then_some(input.subject.id()),
        customer_id: payable.customer,
        amount_cents,
        refunded_cents: 0,
        currency: state.config.payments.currency.clone(),
        method: input.method,
        status: PaymentStatus::Succeeded,
        provider: None,
        provider_reference: reference,
        checkout_url: None,
        recorded_by: Some(identity.user_id),
        created_at: now,
        updated_at: now,
    };
    let saved = row.into_active_model().reset_all().insert(&txn).await?;
    txn.commit().await?;
    Ok(saved)
}

/// An admin refunds (part of) a received payment: by default all that is not refunded yet;
/// refunds of one payment add up to at most its amount, also when two are made at once.
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn refund_payment(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    amount: Option<Decimal>,
    reason: Option<String>,
) -> AppResult<payment::Model> {
    let identity = viewer.admin()?;
    let reason = input::optional("reason", reason.as_deref(), 500)?;
    let asked = amount
        .map(|a| money::cents("amount", a, true))
        .transpose()?;
    let found = payment::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("Payment"))?;
    match found.status {
        PaymentStatus::Succeeded => {}
        PaymentStatus::Refunded => {
            return Err(AppError::conflict(
                "This payment is already refunded in full.",
            ))
        }
        PaymentStatus::Pending | PaymentStatus::Failed => {
            return Err(AppError::conflict(
                "Only a received payment can be refunded.",
            ))
        }
    }
    let cents = asked.unwrap_or(found.amount_cents - found.refunded_cents);
    let now = clock::now();
    let txn = state.db.begin().await?;
    // One conditional statement: of two refunds at once, the second sees the first.
    let after = Expr::col(payment::Column::RefundedCents).add(cents);
    let moved = payment::Entity::update_many()
        .col_expr(payment::Column::RefundedCents, after.clone())
        .col_expr(
            payment::Column::Status,
            Expr::case(
                after.clone().eq(Expr::col(payment::Column::AmountCents)),
                Expr::val(PaymentStatus::Refunded),
            )
            .finally(Expr::val(PaymentStatus::Succeeded))
            .into(),
        )
        .col_expr(payment::Column::UpdatedAt, Expr::val(now))
        .filter(payment::Column::Id.eq(id))
        .filter(payment::Column::Status.eq(PaymentStatus::Succeeded))
        .filter(after.lte(Expr::col(payment::Column::AmountCents)))
        .exec(&txn)
        .await?;
    if moved.rows_affected == 0 {
        let current = payment::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::not_found("Payment"))?;
        return Err(AppError::conflict_on(
            "amount",
            format!(
                "Only {} of this payment can still be refunded.",
                money::decimal(current.amount_cents - current.refunded_cents)
            ),
        ));
    }
    refund::ActiveModel::from(refund::Model {
        id: Uuid::now_v7(),
        payment_id: id,
        amount_cents: cents,
        reason,
        refunded_by: Some(identity.user_id),
        created_at: now,
    })
    .insert(&txn)
    .await?;
    let saved = payment::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("Payment"))?;
    txn.commit().await?;
    Ok(saved)
}

/// Every payment (staff), created in `[from, to)`, newest first.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn list_payments(
    state: &AppState,
    viewer: &Viewer,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    args: &PageArgs,
    with_total: bool,
) -> AppResult<(Slice<payment::Model>, Option<u64>)> {
    viewer.staff()?;
    let mut query = payment::Entity::find();
    if let Some(from) = from {
        query = query.filter(payment::Column::CreatedAt.gte(from));
    }
    if let Some(to) = to {
        query = query.filter(payment::Column::CreatedAt.lt(to));
    }
    payment_sort()
        .page(&state.db, query, args, with_total, payment_key)
        .await
}
