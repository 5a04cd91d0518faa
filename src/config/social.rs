//! The settings of sign-in with Google and Facebook.

use std::time::Duration;

use super::{provider_url, ConfigError, Secret, Vars};

/// Sign-in with Google and Facebook. A provider without its credentials is off.
#[derive(Clone, Debug)]
pub struct SocialSettings {
    /// The OAuth client id ID tokens must be issued for (`aud`).
    pub google_client_id: Option<String>,
    /// Where Google's signing keys are published (HTTPS; plain HTTP only to a loopback address).
    pub google_jwks_url: String,
    /// The least time between two fetches of the keys for a token with an unknown `kid`.
    pub jwks_refetch_interval: Duration,
    pub facebook_app_id: Option<String>,
    pub facebook_app_secret: Option<Secret>,
    /// The Graph API's base URL (HTTPS; plain HTTP only to a loopback address).
    pub facebook_graph_url: String,
    /// How long a call to a provider may take.
    pub provider_timeout: Duration,
}

pub(super) fn social_settings(vars: &Vars) -> Result<SocialSettings, ConfigError> {
    let facebook_app_id = vars.raw("FACEBOOK_APP_ID");
    let facebook_app_secret = vars.raw("FACEBOOK_APP_SECRET").map(Secret::new);
    if facebook_app_id.is_some() != facebook_app_secret.is_some() {
        return Err(ConfigError(
            "FACEBOOK_APP_ID and FACEBOOK_APP_SECRET: give both or neither".into(),
        ));
    }
    Ok(SocialSettings {
        google_client_id: vars.raw("GOOGLE_CLIENT_ID"),
        google_jwks_url: provider_url(
            vars,
            "GOOGLE_JWKS_URL",
            "https://www.googleapis.com/oauth2/v3/certs",
        )?,
        jwks_refetch_interval: vars.seconds("GOOGLE_JWKS_REFETCH_SECONDS", 60)?,
        facebook_app_id,
        facebook_app_secret,
        facebook_graph_url: provider_url(vars, "FACEBOOK_GRAPH_URL", "https://graph.facebook.com")?,
        provider_timeout: Duration::from_millis(
            vars.positive("SOCIAL_PROVIDER_TIMEOUT_MS", 10_000)?,
        ),
    })
}
