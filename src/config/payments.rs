//! The settings of payments, exports and push notifications.

use std::time::Duration;

use super::{provider_url, ConfigError, Secret, Vars};

/// Payments, CSV exports and push delivery.
#[derive(Clone, Debug)]
pub struct PaymentSettings {
    /// The business currency (ISO 4217, e.g. `USD`): every payment is in it.
    pub currency: String,
    /// Where online payments are ordered (`POST {amount, currency, reference}`); `None`: off.
    pub provider_url: Option<String>,
    /// How long the provider may take to answer an order.
    pub provider_timeout: Duration,
    /// The key of the webhook's `X-Signature`; `None`: every webhook is refused (401).
    pub webhook_secret: Option<Secret>,
    /// How long a URL from `exportUrl` works.
    pub export_url_ttl: Duration,
    /// Where push notifications are POSTed; `None`: none are sent (and none are queued).
    pub push_gateway_url: Option<String>,
    /// How long the gateway may take to answer one push.
    pub push_timeout: Duration,
    /// The wait before the first retry of a failed push; each later retry waits twice as long.
    pub push_retry_base: Duration,
    /// Attempts at one push before it is given up (and logged).
    pub push_max_attempts: i32,
}

/// An optional outside service's URL (see `provider_url`).
fn optional_url(vars: &Vars, name: &str) -> Result<Option<String>, ConfigError> {
    vars.raw(name)
        .map(|raw| provider_url(vars, name, &raw))
        .transpose()
}

pub(super) fn payment_settings(vars: &Vars) -> Result<PaymentSettings, ConfigError> {
    let currency = vars.raw("CURRENCY").unwrap_or_else(|| "USD".into());
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ConfigError(format!(
            "CURRENCY: cannot use {currency:?}: expected an ISO 4217 code such as USD or EUR"
        )));
    }
    Ok(PaymentSettings {
        currency,
        provider_url: optional_url(vars, "PAYMENT_PROVIDER_URL")?,
        provider_timeout: Duration::from_millis(
            vars.positive("PAYMENT_PROVIDER_TIMEOUT_MS", 10_000)?,
        ),
        webhook_secret: vars.raw("PAYMENT_WEBHOOK_SECRET").map(Secret::new),
        export_url_ttl: Duration::from_secs(vars.positive("EXPORT_URL_TTL_SECONDS", 300)?),
        push_gateway_url: optional_url(vars, "PUSH_GATEWAY_URL")?,
        push_timeout: Duration::from_millis(vars.positive("PUSH_TIMEOUT_MS", 5_000)?),
        push_retry_base: Duration::from_millis(vars.positive("PUSH_RETRY_BASE_MS", 5_000)?),
        push_max_attempts: vars.positive("PUSH_MAX_ATTEMPTS", 6)?,
    })
}
