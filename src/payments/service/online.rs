//! Online payments: an order at the provider for what is left to pay, and the provider's word on
//! how it ended (the webhook). The provider is an adapter: `POST PAYMENT_PROVIDER_URL` with JSON
//! `{amount, currency, reference}` and an `Idempotency-Key` (the payment's id), answered
//! `{id, checkoutUrl}`; events come back signed with HMAC-SHA256 over the raw body.

use hmac::{Hmac, Mac};
use sea_orm::sea_query::OnConflict;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::*;
use crate::events::Outbox;
use crate::notifications::entity::NotificationKind;
use crate::notifications::service::{self as notifications, Notice};
use crate::payments::entity::provider_event;

/// A started online payment and where the customer pays it.
pub struct OnlinePayment {
    pub payment: payment::Model,
    pub checkout_url: String,
}

#[derive(Serialize)]
struct Order<'a> {
    /// Two decimals, as a string (`"171.00"`): never a float.
    amount: String,
    currency: &'a str,
    /// The payment's id: the provider's events name the order it returns, and our reference.
    reference: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Ordered {
    id: String,
    checkout_url: String,
}

/// The provider's name on its payments: its host.
fn provider_name(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "provider".into())
}

/// The booking's customer starts paying what is left online. A payment already under way for
/// the booking is returned again (its checkout URL), so a double click orders once.
#[tracing::instrument(skip_all, fields(viewer = %viewer, booking_id = %booking_id))]
pub async fn start_online_payment(
    state: &AppState,
    viewer: &Viewer,
    booking_id: Uuid,
) -> AppResult<OnlinePayment> {
    let identity = viewer.identity()?;
    let booking = bookings::booking(state, viewer, booking_id)
        .await?
        .ok_or_else(|| AppError::not_found("Booking"))?;
    if booking.customer_id != identity.user_id {
        return Err(AppError::forbidden(
            "Only the booking's customer pays it online.",
        ));
    }
    let settings = &state.config.payments;
    let Some(url) = settings.provider_url.as_deref() else {
        return Err(AppError::conflict(
            "Online payments are not available; please pay at the counter.",
        ));
    };
    let subject = Subject::Booking(booking_id);
    let txn = state.db.begin().await?;
    let payable = lock_payable(&txn, subject).await?;
    let under_way = payment::Entity::find()
        .filter(payment::Column::BookingId.eq(booking_id))
        .filter(payment::Column::Status.eq(PaymentStatus::Pending))
        .one(&txn)
        .await?;
    if let Some(pending) = under_way {
        if let Some(checkout_url) = pending.checkout_url.clone() {
            txn.commit().await?;
            return Ok(OnlinePayment {
                payment: pending,
                checkout_url,
            });
        }
        // Ordered by a request still waiting for the provider; or by one that never finished
        // (the process stopped): once the provider's deadline is long past, it failed.
        let deadline = settings.provider_timeout + std::time::Duration::from_secs(30);
        let stale = chrono::TimeDelta::from_std(deadline)
            .is_ok_and(|d| pending.created_at + d < clock::now());
        if !stale {
            return Err(AppError::conflict(
                "An online payment of this booking is being started; try again in a moment.",
            ));
        }
        settle(&txn, pending.id, PaymentStatus::Failed).await?;
    }
    let totals = totals_of(&txn, &[subject])
        .await?
        .remove(&subject)
        .unwrap_or_default();
    let due = totals.due_cents(payable.price_cents);
    if due <= 0 {
        return Err(AppError::conflict(
            "Nothing is left to pay on this booking.",
        ));
    }
    let now = clock::now();
    let pending = payment::Model {
        id: Uuid::now_v7(),
        booking_id: Some(booking_id),
        sale_id: None,
        customer_id: payable.customer,
        amount_cents: due,
        refunded_cents: 0,
        currency: settings.currency.clone(),
        method: PaymentMethod::Online,
        status: PaymentStatus::Pending,
        provider: Some(provider_name(url)),
        provider_reference: None,
        checkout_url: None,
        recorded_by: None,
        created_at: now,
        updated_at: now,
    }
    .into_active_model()
    .reset_all()
    .insert(&txn)
    .await?;
    txn.commit().await?;
    // The amount is held while the provider is asked (outside any transaction).
    match order(state, url, &pending).await {
        Ok(ordered) => {
            let mut placed = pending.clone();
            placed.provider_reference = Some(ordered.id);
            placed.checkout_url = Some(ordered.checkout_url.clone());
            placed.updated_at = clock::now();
            let placed = placed
                .into_active_model()
                .reset_all()
                .update(&state.db)
                .await?;
            Ok(OnlinePayment {
                payment: placed,
                checkout_url: ordered.checkout_url,
            })
        }
        Err(err) => {
            settle(&state.db, pending.id, PaymentStatus::Failed).await?;
            Err(err)
        }
    }
}

/// Orders the payment at the provider.
async fn order(state: &AppState, url: &str, pending: &payment::Model) -> AppResult<Ordered> {
    let settings = &state.config.payments;
    let unavailable = |why: String| {
        tracing::warn!(payment_id = %pending.id, why, "payment provider failed");
        AppError::Unavailable(
            "The payment provider is not answering; please try again in a moment.".into(),
        )
    };
    let client = reqwest::Client::builder()
        .timeout(settings.provider_timeout)
        .build()
        .map_err(AppError::internal)?;
    let response = client
        .post(url)
        .header("Idempotency-Key", pending.id.to_string())
        .json(&Order {
            amount: money::decimal(pending.amount_cents).to_string(),
            currency: &pending.currency,
            reference: pending.id.to_string(),
        })
        .send()
        .await
        .map_err(|e| {
            unavailable(if e.is_timeout() {
                "timed out".into()
            } else {
                e.to_string()
            })
        })?;
    if !response.status().is_success() {
        return Err(unavailable(format!("answered {}", response.status())));
    }
    let ordered: Ordered = response
        .json()
        .await
        .map_err(|e| unavailable(format!("unreadable answer: {e}")))?;
    let usable = url::Url::parse(&ordered.checkout_url)
        .is_ok_and(|u| matches!(u.scheme(), "https" | "http"));
    if ordered.id.is_empty() || ordered.id.len() > 200 || !usable {
        return Err(unavailable(
            "an order without an id or a checkout URL".into(),
        ));
    }
    Ok(ordered)
}

/// Moves a PENDING payment to `to` (one conditional statement); whether it moved.
async fn settle(db: &impl ConnectionTrait, id: Uuid, to: PaymentStatus) -> AppResult<bool> {
    let moved = payment::Entity::update_many()
        .col_expr(payment::Column::Status, Expr::val(to))
        .col_expr(payment::Column::UpdatedAt, Expr::val(clock::now()))
        .filter(payment::Column::Id.eq(id))
        .filter(payment::Column::Status.eq(PaymentStatus::Pending))
        .exec(db)
        .await?;
    Ok(moved.rows_affected == 1)
}

/// Why a webhook was not taken.
#[derive(Debug)]
pub enum WebhookRefusal {
    /// A bad or missing signature (401).
    Unsigned,
    /// Signed, but not an event we read (400).
    Malformed(String),
    /// It could not be stored (500: the provider retries).
    Failed(AppError),
}

impl From<AppError> for WebhookRefusal {
    fn from(err: AppError) -> Self {
        Self::Failed(err)
    }
}

impl From<sea_orm::DbErr> for WebhookRefusal {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Failed(err.into())
    }
}

/// What a taken webhook did.
#[derive(Debug, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// The payment moved (and its customer was told).
    Applied,
    /// Seen before: nothing changed.
    Replayed,
    /// Nothing to change: an order we do not know, or a payment already settled.
    Ignored,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProviderEvent {
    event_id: String,
    order_id: String,
    status: String,
}

/// Does `signature` (hex, optionally `sha256=`) sign `body` under `secret`? Constant time.
pub fn signed(secret: &str, body: &[u8], signature: &str) -> bool {
    let hex_sig = signature.trim();
    let hex_sig = hex_sig.strip_prefix("sha256=").unwrap_or(hex_sig);
    let (Ok(given), Ok(mut mac)) = (
        hex::decode(hex_sig),
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()),
    ) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// The provider's word on an order: checked, stored by event id (a replay changes nothing, also
/// when both copies arrive at once), and applied to the payment with its customer's notice in
/// one transaction.
#[tracing::instrument(skip_all)]
pub async fn receive_webhook(
    state: &AppState,
    body: &[u8],
    signature: Option<&str>,
) -> Result<WebhookOutcome, WebhookRefusal> {
    let secret = state.config.payments.webhook_secret.as_ref();
    match (secret, signature) {
        (Some(secret), Some(sig)) if signed(secret.expose(), body, sig) => {}
        _ => return Err(WebhookRefusal::Unsigned),
    }
    let event: ProviderEvent = serde_json::from_slice(body)
        .map_err(|e| WebhookRefusal::Malformed(format!("not a payment event: {e}")))?;
    let to = match event.status.as_str() {
        "succeeded" => PaymentStatus::Succeeded,
        "failed" => PaymentStatus::Failed,
        other => {
            return Err(WebhookRefusal::Malformed(format!(
                "unknown status {other:?}"
            )))
        }
    };
    if event.event_id.is_empty() || event.event_id.len() > 200 || event.order_id.is_empty() {
        return Err(WebhookRefusal::Malformed(
            "eventId and orderId are required".into(),
        ));
    }
    let txn = state.db.begin().await?;
    // First a write: the event's id is the key, so the second copy inserts nothing (waiting
    // for the first copy's transaction when both arrive at once).
    let stored =
        provider_event::Entity::insert(provider_event::ActiveModel::from(provider_event::Model {
            event_id: event.event_id.clone(),
            payment_id: None,
            status: event.status.clone(),
            received_at: clock::now(),
        }))
        .on_conflict(
            OnConflict::column(provider_event::Column::EventId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    if stored == 0 {
        return Ok(WebhookOutcome::Replayed);
    }
    let found = payment::Entity::find()
        .filter(payment::Column::Method.eq(PaymentMethod::Online))
        .filter(payment::Column::ProviderReference.eq(event.order_id.as_str()))
        .one(&txn)
        .await?;
    let Some(found) = found else {
        tracing::warn!(order_id = %event.order_id, "payment event for an unknown order");
        txn.commit().await?;
        return Ok(WebhookOutcome::Ignored);
    };
    provider_event::Entity::update_many()
        .col_expr(provider_event::Column::PaymentId, Expr::val(found.id))
        .filter(provider_event::Column::EventId.eq(event.event_id.as_str()))
        .exec(&txn)
        .await?;
    if !settle(&txn, found.id, to).await? {
        txn.commit().await?;
        return Ok(WebhookOutcome::Ignored);
    }
    let outbox = match found.customer_id {
        Some(customer) => notifications::store(&txn, [notice(&found, customer, to)]).await?,
        None => Outbox::default(),
    };
    txn.commit().await?;
    outbox.publish(&state.events);
    Ok(WebhookOutcome::Applied)
}

/// What the customer is told when an online payment ends.
fn notice(p: &payment::Model, customer: Uuid, to: PaymentStatus) -> Notice {
    let amount = format!("{} {}", money::decimal(p.amount_cents), p.currency);
    let (title, body) = if to == PaymentStatus::Succeeded {
        (
            "Payment received".to_string(),
            format!("We received your online payment of {amount}. Thank you!"),
        )
    } else {
        (
            "Online payment failed".to_string(),
            format!("Your online payment of {amount} did not go through; nothing was charged."),
        )
    };
    Notice {
        user_id: customer,
        kind: NotificationKind::System,
        title,
        body,
        subject: p.booking_id.map(|id| ("Booking", id)),
    }
}

#[cfg(test)]
mod tests {
    use super::signed;
    use hmac::{Hmac, Mac};

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn only_the_secret_signs_the_exact_body() {
        let body = br#"{"eventId":"e1","orderId":"o1","status":"succeeded"}"#;
        let good = sign("s3cret", body);
        assert!(signed("s3cret", body, &good));
        assert!(signed("s3cret", body, &format!("sha256={good}")));
        assert!(!signed("other", body, &good));
        assert!(!signed("s3cret", b"{}", &good));
        assert!(!signed("s3cret", body, "not hex"));
        assert!(!signed("s3cret", body, ""));
    }
}
