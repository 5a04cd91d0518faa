//! Checking a sign-in with Google or Facebook, mechanics only (the accounts domain decides whose
//! account it is): Google ID tokens verified as RS256 JWTs against Google's published keys
//! (cached as long as their Cache-Control allows; a token signed with a key not seen yet makes
//! one new fetch, at most once per `GOOGLE_JWKS_REFETCH_SECONDS`), and Facebook access tokens
//! checked with the Graph API's `debug_token`, then read with `/me`.

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::config::SocialSettings;
use crate::error::{AppError, AppResult};

/// The issuers Google signs ID tokens as.
const GOOGLE_ISSUERS: [&str; 2] = ["accounts.google.com", "https://accounts.google.com"];
/// How long keys are kept when the response says nothing about it.
const DEFAULT_KEYS_AGE: Duration = Duration::from_secs(300);

/// Who a provider says signed in.
#[derive(Clone, Debug)]
pub struct ProviderUser {
    /// The provider's stable id of the person.
    pub subject: String,
    /// The address, when the provider vouches for it.
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

fn refused(why: &str) -> AppError {
    AppError::Unauthenticated(format!("The sign-in could not be verified: {why}."))
}

fn client(settings: &SocialSettings) -> AppResult<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(settings.provider_timeout)
        .build()
        .map_err(AppError::internal)
}

/// A provider that could not be asked: logged, and a message a person can act on.
fn unreachable(provider: &str, err: impl std::fmt::Display) -> AppError {
    tracing::warn!(provider, error = %err, "sign-in provider unreachable");
    AppError::internal(format!("{provider} could not be reached: {err}"))
}

struct Keys {
    set: JwkSet,
    fetched: Instant,
    fresh_until: Instant,
}

/// Keys per JWKS URL. The lock is held across a fetch, so concurrent sign-ins fetch once.
static KEYS: LazyLock<Mutex<HashMap<String, Keys>>> = LazyLock::new(Mutex::default);

/// `max-age` of a Cache-Control header.
fn max_age(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::CACHE_CONTROL)?.to_str().ok()?;
    value.split(',').find_map(|part| {
        let seconds = part.trim().strip_prefix("max-age=")?;
        seconds.parse().ok().map(Duration::from_secs)
    })
}

async fn fetch_keys(settings: &SocialSettings) -> AppResult<Keys> {
    let response = client(settings)?
        .get(&settings.google_jwks_url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| unreachable("Google", e))?;
    let age = max_age(response.headers()).unwrap_or(DEFAULT_KEYS_AGE);
    let set: JwkSet = response
        .json()
        .await
        .map_err(|e| unreachable("Google", e))?;
    let now = Instant::now();
    Ok(Keys {
        set,
        fetched: now,
        fresh_until: now + age,
    })
}

/// The key `kid` of Google's published keys.
async fn google_key(settings: &SocialSettings, kid: &str) -> AppResult<DecodingKey> {
    let mut cache = KEYS.lock().await;
    let url = settings.google_jwks_url.clone();
    let now = Instant::now();
    let stale = cache.get(&url).is_none_or(|k| k.fresh_until <= now);
    // A key not seen yet (Google rotated): one new fetch, unless one was made just now.
    let unknown = cache.get(&url).is_some_and(|k| {
        k.set.find(kid).is_none() && k.fetched + settings.jwks_refetch_interval <= now
    });
    if stale || unknown {
        let keys = fetch_keys(settings).await?;
        cache.insert(url.clone(), keys);
    }
    let jwk = cache
        .get(&url)
        .and_then(|k| k.set.find(kid))
        .ok_or_else(|| refused("the token is signed with an unknown key"))?;
    DecodingKey::from_jwk(jwk).map_err(|_| refused("the signing key cannot be used"))
}

#[derive(Deserialize)]
struct GoogleClaims {
    sub: String,
    email: Option<String>,
    /// Google sends a boolean; some libraries a string.
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
    given_name: Option<String>,
    family_name: Option<String>,
}

/// Verifies a Google ID token: RS256 with one of Google's keys, issued for `client_id` by
/// Google, not expired. The email counts only when Google verified it.
pub async fn verify_google(
    settings: &SocialSettings,
    client_id: &str,
    id_token: &str,
) -> AppResult<ProviderUser> {
    let header = decode_header(id_token).map_err(|_| refused("this is not an ID token"))?;
    if header.alg != Algorithm::RS256 {
        return Err(refused("the token is not signed with RS256"));
    }
    let kid = header
        .kid
        .ok_or_else(|| refused("the token names no signing key"))?;
    let key = google_key(settings, &kid).await?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[client_id]);
    validation.set_issuer(&GOOGLE_ISSUERS);
    validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    let claims = decode::<GoogleClaims>(id_token, &key, &validation)
        .map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            refused(match e.kind() {
                ErrorKind::ExpiredSignature => "the token has expired",
                ErrorKind::InvalidAudience => "the token is for another application",
                ErrorKind::InvalidIssuer => "the token is not from Google",
                ErrorKind::InvalidSignature => "the signature does not match",
                _ => "the token is not valid",
            })
        })?
        .claims;
    let verified = matches!(claims.email_verified, Some(serde_json::Value::Bool(true)))
        || matches!(&claims.email_verified, Some(serde_json::Value::String(s)) if s == "true");
    if !verified {
        return Err(refused("Google has not verified this email address"));
    }
    Ok(ProviderUser {
        subject: claims.sub,
        email: claims.email,
        first_name: claims.given_name,
        last_name: claims.family_name,
    })
}

#[derive(Deserialize)]
struct DebugToken {
    data: DebugData,
}

#[derive(Deserialize)]
struct DebugData {
    #[serde(default)]
    is_valid: bool,
    app_id: Option<String>,
    user_id: Option<String>,
}

#[derive(Deserialize)]
struct FacebookMe {
    id: String,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

/// Verifies a Facebook user access token: `debug_token` (asked with the app's own token) must
/// say it is valid and for this app; then `/me` names the person.
pub async fn verify_facebook(
    settings: &SocialSettings,
    app_id: &str,
    app_secret: &str,
    access_token: &str,
) -> AppResult<ProviderUser> {
    let client = client(settings)?;
    let base = &settings.facebook_graph_url;
    let app_token = format!("{app_id}|{app_secret}");
    let response = client
        .get(format!("{base}/debug_token"))
        .query(&[("input_token", access_token), ("access_token", &app_token)])
        .send()
        .await
        .map_err(|e| unreachable("Facebook", e))?;
    if response.status().is_server_error() {
        return Err(unreachable("Facebook", response.status()));
    }
    let debug: DebugToken = match response.json().await {
        Ok(d) => d,
        Err(_) => return Err(refused("Facebook does not know this token")),
    };
    if !debug.data.is_valid {
        return Err(refused("Facebook says the token is not valid"));
    }
    if debug.data.app_id.as_deref() != Some(app_id) {
        return Err(refused("the token is for another application"));
    }
    let me: FacebookMe = client
        .get(format!("{base}/me"))
        .query(&[
            ("fields", "id,email,first_name,last_name"),
            ("access_token", access_token),
        ])
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| unreachable("Facebook", e))?
        .json()
        .await
        .map_err(|e| unreachable("Facebook", e))?;
    if debug.data.user_id.as_deref().is_some_and(|u| u != me.id) {
        return Err(refused("the token belongs to someone else"));
    }
    Ok(ProviderUser {
        subject: me.id,
        // Facebook shares only an address its user confirmed.
        email: me.email,
        first_name: me.first_name,
        last_name: me.last_name,
    })
}
