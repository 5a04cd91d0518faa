//! The signed grant in an export URL: who exports what over which days, until when. It is
//! base64url JSON with an HMAC under the media key (`MediaStore::sign_text`, checked in constant
//! time); the download runs as the grant's user in the grant's session, with the role they hold
//! then.

use base64::Engine;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ExportKind, Span};
use crate::app::AppState;
use crate::auth::viewer::Identity;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub kind: ExportKind,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub user_id: Uuid,
    pub session_id: Uuid,
    /// Seconds since the epoch.
    pub expires: i64,
}

const ENGINE: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// What the signature covers: a purpose prefix keeps export grants apart from other signed texts.
fn signed_text(payload: &str) -> String {
    format!("export:{payload}")
}

/// Staff get a URL for an export, valid `EXPORT_URL_TTL_SECONDS` (5 minutes by default).
#[tracing::instrument(skip_all, fields(viewer = %viewer, ?kind))]
pub fn export_url(
    state: &AppState,
    viewer: &Viewer,
    kind: ExportKind,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> AppResult<String> {
    let identity = viewer.staff()?;
    Span::of(state, from, to)?;
    let ttl = state.config.payments.export_url_ttl.as_secs() as i64;
    let grant = Grant {
        kind,
        from,
        to,
        user_id: identity.user_id,
        session_id: identity.session_id,
        expires: chrono::Utc::now().timestamp() + ttl,
    };
    let json = serde_json::to_vec(&grant).map_err(AppError::internal)?;
    let payload = ENGINE.encode(json);
    let signature = state.media.sign_text(&signed_text(&payload));
    Ok(format!(
        "{}/exports/{}.csv?token={payload}.{signature}",
        state.config.public_url,
        kind.file_name()
    ))
}

/// The grant of a token, if it is signed by us and has not expired.
fn verify(state: &AppState, token: &str, now: i64) -> Option<Grant> {
    let (payload, signature) = token.split_once('.')?;
    if !state.media.verify_text(&signed_text(payload), signature) {
        return None;
    }
    let grant: Grant = serde_json::from_slice(&ENGINE.decode(payload).ok()?).ok()?;
    (grant.expires > now).then_some(grant)
}

/// Who downloads under a grant: its user, if the session is still live and they are still staff.
async fn viewer_of(state: &AppState, grant: &Grant) -> Option<Viewer> {
    let identity: Identity =
        crate::accounts::service::live_identity(state, grant.user_id, grant.session_id)
            .await
            .ok()?;
    identity.is_staff().then_some(Viewer::User(identity))
}

/// What an export URL opens: the days its grant covers, read as its user. `None` (403) unless
/// the token is ours, unexpired and for this kind, and its session is live and still staff's.
pub async fn open(
    state: &AppState,
    kind: ExportKind,
    token: Option<&str>,
) -> Option<(Viewer, Span)> {
    let now = chrono::Utc::now().timestamp();
    let grant = verify(state, token?, now).filter(|g| g.kind == kind)?;
    let viewer = viewer_of(state, &grant).await?;
    let span = Span::of(state, grant.from, grant.to).ok()?;
    Some((viewer, span))
}
