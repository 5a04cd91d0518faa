//! The rules of content: policy documents in versions that take effect on their date (computed
//! from the dates, so no job is needed), the TERMS version in effect, and the shop's information.

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

use super::entity::{document, DocumentKind};
use super::types;
use crate::app::AppState;
use crate::auth::Viewer;
use crate::cache::Bounded;
use crate::clock;
use crate::error::{AppError, AppResult};

mod shop;

pub use shop::*;

/// At most this many characters of Markdown per document.
pub const MAX_CONTENT: usize = 200_000;

/// The version of `kind` in effect on `day`: the newest dated that day or earlier.
pub async fn in_effect(
    db: &impl ConnectionTrait,
    kind: DocumentKind,
    day: NaiveDate,
) -> AppResult<Option<document::Model>> {
    Ok(document::Entity::find()
        .filter(document::Column::Kind.eq(kind))
        .filter(document::Column::EffectiveDate.lte(day))
        .order_by_desc(document::Column::Version)
        .one(db)
        .await?)
}

/// The TERMS version in effect today, if any was published.
pub async fn terms_version(state: &AppState) -> AppResult<Option<i32>> {
    Ok(in_effect(&state.db, DocumentKind::Terms, state.today())
        .await?
        .map(|d| d.version))
}

/// The document of `kind` in effect (public).
#[tracing::instrument(skip_all, fields(kind = ?kind))]
pub async fn document(state: &AppState, kind: DocumentKind) -> AppResult<Option<document::Model>> {
    in_effect(&state.db, kind, state.today()).await
}

/// Every version of `kind`, newest first (staff).
#[tracing::instrument(skip_all, fields(viewer = %viewer, kind = ?kind))]
pub async fn history(
    state: &AppState,
    viewer: &Viewer,
    kind: DocumentKind,
) -> AppResult<Vec<document::Model>> {
    viewer.staff()?;
    Ok(document::Entity::find()
        .filter(document::Column::Kind.eq(kind))
        .order_by_desc(document::Column::Version)
        .all(&state.db)
        .await?)
}

fn content(raw: &str) -> AppResult<String> {
    crate::input::required("content", raw, MAX_CONTENT)
}

/// The newest version of `kind`, if any.
async fn latest(
    db: &impl ConnectionTrait,
    kind: DocumentKind,
) -> AppResult<Option<document::Model>> {
    Ok(document::Entity::find()
        .filter(document::Column::Kind.eq(kind))
        .order_by_desc(document::Column::Version)
        .one(db)
        .await?)
}

fn not_before(previous: &document::Model) -> AppError {
    AppError::bad_input(
        "effectiveDate",
        format!(
            "A version takes effect no earlier than version {} ({}).",
            previous.version, previous.effective_date
        ),
    )
}

/// How often a publication tries to take the next version number. Each lost try means another
/// publication of the same kind landed meanwhile, so N publications at once need at most N tries.
const PUBLISH_ATTEMPTS: usize = 32;

/// An admin publishes the next version of a document, in effect from `effective_date` (not
/// before the version before it).
#[tracing::instrument(skip_all, fields(viewer = %viewer, kind = ?kind))]
pub async fn publish(
    state: &AppState,
    viewer: &Viewer,
    kind: DocumentKind,
    text: &str,
    effective_date: NaiveDate,
) -> AppResult<document::Model> {
    viewer.admin()?;
    let text = content(text)?;
    for _ in 0..PUBLISH_ATTEMPTS {
        let previous = latest(&state.db, kind).await?;
        if let Some(previous) = &previous {
            if effective_date < previous.effective_date {
                return Err(not_before(previous));
            }
        }
        let now = clock::now();
        let row = document::Model {
            id: Uuid::now_v7(),
            kind,
            version: previous.map_or(1, |p| p.version + 1),
            content: text.clone(),
            effective_date,
            created_at: now,
            updated_at: now,
        };
        let active: document::ActiveModel = row.into();
        match active.insert(&state.db).await.map_err(AppError::from) {
            // Another publication took this number (the unique index on kind and version).
            Err(AppError::Conflict { .. }) => continue,
            other => return other,
        }
    }
    Err(AppError::conflict(
        "Other versions are being published; try again.",
    ))
}

/// A version not yet in effect (`CONFLICT` otherwise), as an admin names it.
async fn future_version(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<document::Model> {
    viewer.admin()?;
    let found = document::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("Document"))?;
    if found.effective_date <= state.today() {
        return Err(AppError::conflict(
            "This version is (or was) in effect; publish a new version instead.",
        ));
    }
    Ok(found)
}

/// An admin changes a version that is not yet in effect: its content, its date (today at the
/// earliest, and between its neighbours' dates), or both.
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn update(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    text: Option<&str>,
    effective_date: Option<NaiveDate>,
) -> AppResult<document::Model> {
    let mut row = future_version(state, viewer, id).await?;
    if let Some(text) = text {
        row.content = content(text)?;
    }
    if let Some(date) = effective_date {
        if date < state.today() {
            return Err(AppError::bad_input(
                "effectiveDate",
                "A version not yet in effect can be moved to today at the earliest.",
            ));
        }
        let neighbours = document::Entity::find()
            .filter(document::Column::Kind.eq(row.kind))
            .filter(document::Column::Version.is_in([row.version - 1, row.version + 1]))
            .all(&state.db)
            .await?;
        for n in neighbours {
            if n.version < row.version && date < n.effective_date {
                return Err(not_before(&n));
            }
            if n.version > row.version && date > n.effective_date {
                return Err(AppError::bad_input(
                    "effectiveDate",
                    format!(
                        "A version takes effect no later than version {} ({}).",
                        n.version, n.effective_date
                    ),
                ));
            }
        }
        row.effective_date = date;
    }
    let seen = row.updated_at;
    row.updated_at = std::cmp::max(clock::now(), seen + chrono::TimeDelta::microseconds(1));
    // Only while still not in effect and unchanged since read: a version that took effect (or
    // another admin's edit) meanwhile is not overwritten.
    let updated = document::Entity::update_many()
        .set(row.clone().into_active_model().reset_all())
        .filter(document::Column::Id.eq(id))
        .filter(document::Column::UpdatedAt.eq(seen))
        .filter(document::Column::EffectiveDate.gt(state.today()))
        .exec(&state.db)
        .await?;
    if updated.rows_affected == 0 {
        return Err(AppError::conflict(
            "This version changed or took effect meanwhile; reload it.",
        ));
    }
    Ok(row)
}

/// An admin deletes the newest version of a kind while it is not yet in effect.
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn delete(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<bool> {
    let row = future_version(state, viewer, id).await?;
    let newer = Query::select()
        .expr(Expr::val(1))
        .from(document::Entity)
        .and_where(document::Column::Kind.eq(row.kind))
        .and_where(document::Column::Version.gt(row.version))
        .to_owned();
    let deleted = document::Entity::delete_many()
        .filter(document::Column::Id.eq(id))
        .filter(document::Column::EffectiveDate.gt(state.today()))
        .filter(Expr::exists(newer).not())
        .exec(&state.db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(AppError::conflict(
            "Only the newest version, not yet in effect, can be deleted.",
        ));
    }
    Ok(true)
}

/// A version as last saved: its id and when it was saved.
type Edition = (Uuid, DateTime<Utc>);

/// Rendered HTML, per version as last saved.
static RENDERED: LazyLock<Bounded<Edition, Arc<str>>> = LazyLock::new(|| Bounded::new(1_000));

/// A version's content as safe HTML, rendered once per version and edit.
pub fn html_of(doc: &document::Model) -> Arc<str> {
    let key = (doc.id, doc.updated_at);
    if let Some(html) = RENDERED.lock().get(&key) {
        return html.clone();
    }
    let html: Arc<str> = types::render_markdown(&doc.content).into();
    RENDERED.lock().insert(key, html.clone());
    html
}
