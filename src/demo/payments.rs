//! The demo's payments: completed appointments paid in full, one in the workshop paid in part,
//! sales paid by transfer or with a deposit, and one goodwill refund.

use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{viewer_of, why};
use crate::accounts::entity::user;
use crate::app::AppState;
use crate::bookings::entity::{booking, BookingStatus};
use crate::money;
use crate::payments::entity::PaymentMethod;
use crate::payments::service::{self as payments, CounterPayment};
use crate::payments::types::Subject;
use crate::sales::entity::sale;

/// Records the payments; returns how many.
pub(super) async fn seed(
    state: &AppState,
    admin: &user::Model,
    cashier: &user::Model,
) -> Result<usize, String> {
    let staff = viewer_of(cashier);
    let mut made = 0;
    let pay = async |subject: Subject, cents: i64, method: PaymentMethod, reference: &str| {
        payments::record_payment(
            state,
            &staff,
            CounterPayment {
                subject,
                amount: money::decimal(cents),
                method,
                reference: Some(reference.to_string()),
            },
        )
        .await
        .map_err(why)
    };
    let appointments = booking::Entity::find()
        .filter(
            booking::Column::Status.is_in([BookingStatus::Completed, BookingStatus::InProgress]),
        )
        .order_by_asc(booking::Column::Id)
        .all(&state.db)
        .await
        .map_err(|e| format!("seed-demo: {e}"))?;
    let mut first_full = None;
    for b in appointments {
        let Some(price) = b.estimated_price_cents.filter(|p| *p > 0) else {
            continue;
        };
        let subject = Subject::Booking(b.id);
        if b.status == BookingStatus::Completed {
            let paid = pay(subject, price, PaymentMethod::Card, "terminal 2").await?;
            first_full.get_or_insert(paid.id);
        } else {
            pay(subject, price / 2, PaymentMethod::Cash, "deposit").await?;
        }
        made += 1;
    }
    let sold = sale::Entity::find()
        .order_by_asc(sale::Column::Id)
        .all(&state.db)
        .await
        .map_err(|e| format!("seed-demo: {e}"))?;
    for (n, s) in sold.into_iter().enumerate() {
        let subject = Subject::Sale(s.id);
        match n % 3 {
            0 => pay(subject, s.price_cents, PaymentMethod::BankTransfer, "SEPA").await?,
            1 => pay(subject, s.price_cents / 10, PaymentMethod::Card, "deposit").await?,
            _ => continue,
        };
        made += 1;
    }
    // A goodwill refund of 10.00 on the first paid appointment.
    if let Some(id) = first_full {
        payments::refund_payment(
            state,
            &viewer_of(admin),
            id,
            Some(Decimal::new(1000, 2)),
            Some("Goodwill: waited too long".into()),
        )
        .await
        .map_err(why)?;
    }
    Ok(made)
}
