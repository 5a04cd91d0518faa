//! The rules of presigned uploads: a ticket (a signed URL that binds the uploader, the size, the
//! type and the expiry) for one PUT; the PUT streamed through the same checks as a multipart
//! upload; an operation attaching the file by `uploadId` (its uploader only, once); and the
//! sweep of files nobody attached.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::entity::{upload, UploadState};
use crate::app::AppState;
use crate::auth::Viewer;
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::input;
use crate::media::{self, FileSource, Incoming};

/// Where uploaded files wait under MEDIA_DIR.
const FOLDER: &str = "uploads";

/// Declared types we take, and whether each is a document (PDF: chat files only).
fn declared(content_type: &str) -> Option<bool> {
    match content_type {
        "image/jpeg" | "image/png" | "image/webp" => Some(false),
        "application/pdf" => Some(true),
        _ => None,
    }
}

/// A presigned upload URL.
pub struct Ticket {
    pub id: Uuid,
    pub url: String,
    pub expires_at: DateTime<Utc>,
    pub max_bytes: i64,
}

/// What the signature binds: the upload, its uploader, size and type, and the expiry.
fn signed_text(row: &upload::Model, expires: i64) -> String {
    format!(
        "upload\n{}\n{}\n{}\n{}\n{expires}",
        row.id, row.uploader_id, row.size, row.content_type
    )
}

/// A signed-in user asks for a URL to PUT one file of at most `size` bytes of `content_type`.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn create_ticket(
    state: &AppState,
    viewer: &Viewer,
    file_name: &str,
    content_type: &str,
    size: i64,
) -> AppResult<Ticket> {
    let identity = viewer.identity()?;
    let file_name = input::required("fileName", file_name, 255)?;
    let content_type = content_type.trim().to_ascii_lowercase();
    let documents = declared(&content_type).ok_or_else(|| {
        AppError::bad_input(
            "contentType",
            "Only image/jpeg, image/png, image/webp and application/pdf are accepted.",
        )
    })?;
    let limit = state.media.limit(documents) as i64;
    if !(1..=limit).contains(&size) {
        return Err(AppError::bad_input(
            "size",
            format!("A file of this type may be 1 to {limit} bytes."),
        ));
    }
    let now = clock::now();
    let expires_at = now + clock::span(state.config.uploads.ticket_ttl);
    let row = upload::Model {
        id: Uuid::now_v7(),
        uploader_id: identity.user_id,
        file_name,
        content_type,
        size,
        state: UploadState::Waiting,
        path: None,
        created_at: now,
        expires_at,
    };
    let expires = expires_at.timestamp();
    let sig = state.media.sign_text(&signed_text(&row, expires));
    let url = format!(
        "{}/uploads/{}?expires={expires}&sig={sig}",
        state.config.public_url, row.id
    );
    let active: upload::ActiveModel = row.clone().into();
    active.insert(&state.db).await?;
    Ok(Ticket {
        id: row.id,
        url,
        expires_at,
        max_bytes: size,
    })
}

/// Why a PUT was refused, as HTTP understands it.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// 403: the signature does not match or the URL expired.
    Forbidden,
    /// 404: no such upload.
    NotFound,
    /// 409: a file was already sent to this URL.
    AlreadySent,
    /// 413: more bytes than the ticket allows.
    TooLarge,
    /// 415: the bytes are not of the declared type.
    WrongType,
    /// 500.
    Internal,
}

async fn set_state(
    state: &AppState,
    id: Uuid,
    to: UploadState,
    path: Option<String>,
) -> AppResult<()> {
    upload::Entity::update_many()
        .col_expr(upload::Column::State, Expr::val(to))
        .col_expr(upload::Column::Path, Expr::val(path))
        .filter(upload::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// A PUT to a presigned URL: checked against its signature and expiry, taken once, streamed
/// through the media checks with the ticket's size as the limit, and kept only when its bytes
/// are of the declared type. A refused PUT keeps nothing.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn receive(
    state: &AppState,
    id: Uuid,
    expires: i64,
    sig: &str,
    body: &mut (impl tokio::io::AsyncRead + Unpin),
) -> Result<(), Refused> {
    let row = upload::Entity::find_by_id(id)
        .one(&state.db)
        .await
        .map_err(|_| Refused::Internal)?
        .ok_or(Refused::NotFound)?;
    if !state.media.verify_text(&signed_text(&row, expires), sig)
        || expires < Utc::now().timestamp()
    {
        return Err(Refused::Forbidden);
    }
    // One PUT per ticket: of two at once, one takes it.
    let taken = upload::Entity::update_many()
        .col_expr(upload::Column::State, Expr::val(UploadState::Receiving))
        .filter(upload::Column::Id.eq(id))
        .filter(upload::Column::State.eq(UploadState::Waiting))
        .exec(&state.db)
        .await
        .map_err(|_| Refused::Internal)?;
    if taken.rows_affected == 0 {
        return Err(Refused::AlreadySent);
    }
    let documents = declared(&row.content_type).unwrap_or(false);
    let limit = usize::try_from(row.size).unwrap_or(0);
    let outcome = state
        .media
        .receive("file", FOLDER, body, limit, documents)
        .await;
    let refused = match outcome {
        Ok(stored) if stored.content_type == row.content_type => {
            return set_state(state, id, UploadState::Stored, Some(stored.path))
                .await
                .map_err(|_| Refused::Internal);
        }
        Ok(stored) => {
            state.media.remove(&stored.path).await;
            Refused::WrongType
        }
        Err(err) if media::is_too_large(&err) => Refused::TooLarge,
        Err(AppError::BadInput { .. }) => Refused::WrongType,
        Err(_) => Refused::Internal,
    };
    let _ = set_state(state, id, UploadState::Failed, None).await;
    Err(refused)
}

/// An upload an operation is attaching: finish it with `close`.
pub struct Claim {
    id: Uuid,
    path: String,
}

/// The file an operation attaches: sent with the request, or a stored upload of the viewer's
/// (taken for this operation: another one cannot attach it meanwhile). Another user's upload,
/// one not stored yet or already attached is `NOT_FOUND`.
pub async fn open(
    state: &AppState,
    viewer: &Viewer,
    source: FileSource,
) -> AppResult<(Incoming, Option<Claim>)> {
    let id = match source {
        FileSource::Sent(incoming) => return Ok((incoming, None)),
        FileSource::Uploaded(id) => id,
    };
    let identity = viewer.identity()?;
    let missing = || AppError::not_found("Upload");
    let taken = upload::Entity::update_many()
        .col_expr(upload::Column::State, Expr::val(UploadState::Attaching))
        .filter(upload::Column::Id.eq(id))
        .filter(upload::Column::UploaderId.eq(identity.user_id))
        .filter(upload::Column::State.eq(UploadState::Stored))
        .exec(&state.db)
        .await?;
    if taken.rows_affected == 0 {
        return Err(missing());
    }
    let row = upload::Entity::find_by_id(id).one(&state.db).await?;
    let found = match row.as_ref().and_then(|r| r.path.clone()) {
        Some(path) => state.media.bytes(&path).await.map(|bytes| (path, bytes)),
        None => None,
    };
    let Some((path, bytes)) = found else {
        set_state(state, id, UploadState::Failed, None).await?;
        return Err(missing());
    };
    let file_name = row.map(|r| r.file_name).unwrap_or_default();
    Ok((Incoming { file_name, bytes }, Some(Claim { id, path })))
}

/// Ends an attachment: the upload is spent (its file removed: the operation stored its own
/// copy) when the operation succeeded, and waits again otherwise.
pub async fn close(state: &AppState, claim: Option<Claim>, attached: bool) {
    let Some(claim) = claim else {
        return;
    };
    let result = if attached {
        state.media.remove(&claim.path).await;
        set_state(state, claim.id, UploadState::Attached, None).await
    } else {
        set_state(state, claim.id, UploadState::Stored, Some(claim.path)).await
    };
    if result.is_err() {
        tracing::warn!(id = %claim.id, "an upload's state could not be updated");
    }
}

/// Removes uploads older than the retention that were never attached (their files too), and
/// forgets attached ones; how many were removed.
pub async fn sweep(state: &AppState) -> AppResult<usize> {
    let cutoff = clock::now() - clock::span(state.config.uploads.retention);
    let old = upload::Entity::find()
        .filter(upload::Column::CreatedAt.lt(cutoff))
        .all(&state.db)
        .await?;
    for row in &old {
        if let Some(path) = &row.path {
            state.media.remove(path).await;
        }
    }
    let ids: Vec<Uuid> = old.iter().map(|r| r.id).collect();
    upload::Entity::delete_many()
        .filter(upload::Column::Id.is_in(ids))
        .exec(&state.db)
        .await?;
    Ok(old.len())
}

async fn sweep_logged(state: &AppState) {
    match sweep(state).await {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "old uploads removed"),
        // Logged where it became an internal error; the next sweep tries again.
        Err(_) => tracing::warn!("the upload sweep failed"),
    }
}

/// The sweep an instance runs once at start, before it serves: files left from before a
/// restart go then.
pub async fn sweep_at_start(state: &AppState) {
    sweep_logged(state).await;
}

/// Sweeps every `UPLOAD_SWEEP_MS` while the instance serves.
pub fn spawn_sweeps(state: AppState) -> tokio::task::JoinHandle<()> {
    let every = state.config.uploads.sweep_every;
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            sweep_logged(&state).await;
        }
    })
}
