//! The GraphQL face of payments.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::entity::{payment, PaymentMethod, PaymentStatus};
use super::loaders::{PaymentTotals, Payments};
use super::service::{self, CounterPayment};
use super::types::{BookingPaymentStatus, Subject, Totals};
use crate::accounts::graphql::User;
use crate::accounts::loaders::{UserId, Users};
use crate::bookings::graphql::Booking;
use crate::bookings::loaders::{BookingId, Bookings};
use crate::error::AppError;
use crate::graphql::loaders::{loader, Direct};
use crate::graphql::pagination::{self, Page};
use crate::graphql::{parse_id, parse_optional_id, state, to_id, viewer};
use crate::money;
use crate::paging::PageArgs;
use crate::sales::graphql::Sale;
use crate::sales::loaders::{SaleId, Sales};

pub struct Payment(pub payment::Model);

/// Money received for a booking or a sale: at the counter, or online through the provider.
#[Object]
impl Payment {
    /// The payment's id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// What was paid (refunds are in `refundedAmount`).
    async fn amount(&self) -> Decimal {
        money::decimal(self.0.amount_cents)
    }
    /// The business currency it was paid in (ISO 4217).
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    /// How it was paid (ONLINE through the provider).
    async fn method(&self) -> PaymentMethod {
        self.0.method
    }
    /// PENDING (online, not settled), SUCCEEDED, FAILED or REFUNDED (in full).
    async fn status(&self) -> PaymentStatus {
        self.0.status
    }
    /// The payment provider's name for an online payment; null at the counter.
    async fn provider(&self) -> Option<&str> {
        self.0.provider.as_deref()
    }
    /// The provider's order id online; the slip or transfer reference given at the counter.
    async fn provider_reference(&self) -> Option<&str> {
        self.0.provider_reference.as_deref()
    }
    /// The booking it pays, if the viewer sees it.
    async fn booking(&self, ctx: &Context<'_>) -> Result<Option<Booking>> {
        let Some(id) = self.0.booking_id else {
            return Ok(None);
        };
        Ok(loader::<Bookings>(ctx)?
            .load_one(BookingId(id))
            .await?
            .map(Booking))
    }
    /// The sale it pays, if the viewer sees it.
    async fn sale(&self, ctx: &Context<'_>) -> Result<Option<Sale>> {
        let Some(id) = self.0.sale_id else {
            return Ok(None);
        };
        Ok(loader::<Sales>(ctx)?.load_one(SaleId(id)).await?.map(Sale))
    }
    /// The staff member who took it at the counter; null online.
    async fn recorded_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.recorded_by else {
            return Ok(None);
        };
        Ok(loader::<Users<Direct>>(ctx)?
            .load_one(UserId(id))
            .await?
            .map(User::from))
    }
    /// How much of it was refunded (0.00 when none).
    async fn refunded_amount(&self) -> Decimal {
        money::decimal(self.0.refunded_cents)
    }
    /// When it was made (online: started).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When its status or refunds last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// The payments of a booking or sale, oldest first (for the fields of `Booking` and `Sale`).
pub async fn payments_of(ctx: &Context<'_>, subject: Subject) -> Result<Vec<Payment>> {
    Ok(loader::<Payments>(ctx)?
        .load_one(subject)
        .await?
        .unwrap_or_default()
        .into_iter()
        .map(Payment)
        .collect())
}

/// What a booking's or sale's payments add up to.
pub async fn totals_of(ctx: &Context<'_>, subject: Subject) -> Result<Totals> {
    Ok(loader::<PaymentTotals>(ctx)?
        .load_one(subject)
        .await?
        .unwrap_or_default())
}

/// The payment status of a booking priced `price` (in cents; `None`: nothing is charged).
pub async fn status_of(
    ctx: &Context<'_>,
    booking: uuid::Uuid,
    price_cents: Option<i64>,
) -> Result<BookingPaymentStatus> {
    Ok(totals_of(ctx, Subject::Booking(booking))
        .await?
        .status(price_cents))
}

pub struct OnlinePayment(service::OnlinePayment);

/// A started online payment: the customer pays it at `checkoutUrl`.
#[Object]
impl OnlinePayment {
    /// The payment, PENDING until the provider reports how it ended.
    async fn payment(&self) -> Payment {
        Payment(self.0.payment.clone())
    }
    /// Where the customer pays (the provider's page).
    async fn checkout_url(&self) -> &str {
        &self.0.checkout_url
    }
}

/// Received payments of one method.
#[derive(SimpleObject)]
pub struct MethodTotal {
    /// How they were paid.
    pub method: PaymentMethod,
    /// How many were received.
    pub count: i64,
    /// Their amounts added up.
    pub amount: Decimal,
}

/// What came in over some days: payments received (by the day they were made) and refunds made
/// (by the day they were made).
#[derive(SimpleObject)]
pub struct PaymentStats {
    /// Payments received (refunded ones included).
    pub count: i64,
    /// Their amounts added up.
    pub received: Decimal,
    /// Refunds made in the days.
    pub refunded: Decimal,
    /// Received payments by method.
    pub by_method: Vec<MethodTotal>,
}

impl From<service::PaymentStats> for PaymentStats {
    fn from(s: service::PaymentStats) -> Self {
        Self {
            count: s.count,
            received: money::decimal(s.received_cents),
            refunded: money::decimal(s.refunded_cents),
            by_method: s
                .by_method
                .into_iter()
                .map(|m| MethodTotal {
                    method: m.method,
                    count: m.count,
                    amount: money::decimal(m.amount_cents),
                })
                .collect(),
        }
    }
}

/// A payment received at the counter, for a booking or a sale (give one of the two).
#[derive(InputObject)]
pub struct RecordPaymentInput {
    /// The booking paid (or give `saleId`).
    pub booking_id: Option<ID>,
    /// The sale paid (or give `bookingId`).
    pub sale_id: Option<ID>,
    /// Greater than zero; at most what is left to pay.
    pub amount: Decimal,
    /// How it was paid (not ONLINE: online payments come from the provider).
    pub method: PaymentMethod,
    /// The slip, terminal or transfer reference (up to 200 characters).
    pub reference: Option<String>,
}

impl TryFrom<RecordPaymentInput> for CounterPayment {
    type Error = AppError;

    fn try_from(input: RecordPaymentInput) -> Result<Self, AppError> {
        let booking = parse_optional_id("bookingId", input.booking_id.as_ref())?;
        let sale = parse_optional_id("saleId", input.sale_id.as_ref())?;
        let subject = match (booking, sale) {
            (Some(id), None) => Subject::Booking(id),
            (None, Some(id)) => Subject::Sale(id),
            (Some(_), Some(_)) => {
                return Err(AppError::bad_input(
                    "saleId",
                    "Give a bookingId or a saleId, not both.",
                ))
            }
            (None, None) => {
                return Err(AppError::bad_input(
                    "bookingId",
                    "Give the bookingId or the saleId the payment is for.",
                ))
            }
        };
        Ok(Self {
            subject,
            amount: input.amount,
            method: input.method,
            reference: input.reference,
        })
    }
}

#[derive(Default)]
pub struct PaymentsQuery;

#[Object]
impl PaymentsQuery {
    /// Every payment (staff), newest first; `from`/`to` bound when it was made (`[from, to)`).
    async fn payments(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Payment>> {
        let (slice, total) = service::list_payments(
            state(ctx)?,
            viewer(ctx)?,
            from,
            to,
            &PageArgs::forward(first, after),
            pagination::wants_total(ctx),
        )
        .await?;
        Ok(pagination::connection(slice, total, Payment))
    }

    /// What came in over the showroom's days `from` to `to`, both included (staff).
    async fn payment_stats(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<PaymentStats> {
        Ok(service::payment_stats(state(ctx)?, viewer(ctx)?, from, to)
            .await?
            .into())
    }
}

#[derive(Default)]
pub struct PaymentsMutation;

#[Object]
impl PaymentsMutation {
    /// Staff record a payment received at the counter (SUCCEEDED at once).
    async fn record_payment(
        &self,
        ctx: &Context<'_>,
        input: RecordPaymentInput,
    ) -> Result<Payment> {
        let input = CounterPayment::try_from(input)?;
        Ok(Payment(
            service::record_payment(state(ctx)?, viewer(ctx)?, input).await?,
        ))
    }

    /// The booking's customer pays what is left online: a PENDING payment and the provider's
    /// checkout URL (the same one again while it is under way).
    async fn start_online_payment(
        &self,
        ctx: &Context<'_>,
        booking_id: ID,
    ) -> Result<OnlinePayment> {
        let id = parse_id("bookingId", &booking_id)?;
        Ok(OnlinePayment(
            service::start_online_payment(state(ctx)?, viewer(ctx)?, id).await?,
        ))
    }

    /// An admin refunds a received payment, in full (no amount) or in part; refunds add up to
    /// at most its amount.
    async fn refund_payment(
        &self,
        ctx: &Context<'_>,
        id: ID,
        amount: Option<Decimal>,
        reason: Option<String>,
    ) -> Result<Payment> {
        let id = parse_id("id", &id)?;
        Ok(Payment(
            service::refund_payment(state(ctx)?, viewer(ctx)?, id, amount, reason).await?,
        ))
    }
}
