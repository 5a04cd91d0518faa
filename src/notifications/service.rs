//! Notifications: stored in the transaction of what they tell about, published once it commits,
//! read and marked only by their owner.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use super::entity::{notification, NotificationKind};
use crate::app::AppState;
use crate::auth::Viewer;
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::events::Outbox;
use crate::events::Topic;

use super::events::NotificationEvent;
use crate::paging::{self, KeyKind, PageArgs, Slice, Sort};

/// A notification about to be stored: for whom, what, and what it is about.
pub struct Notice {
    pub user_id: Uuid,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    /// The kind of thing it is about (`ServiceRecord`, `Sale`, `Referral`, `ChatRoom`…) and its id.
    pub subject: Option<(&'static str, Uuid)>,
}

/// Keeps a text within its column, cutting on a character boundary.
fn clip(text: String, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => text[..end].to_string(),
        None => text,
    }
}

/// Of these users, those holding an unread notification of this kind about this subject (so a
/// burst of messages makes one notice, not one per message).
#[tracing::instrument(skip_all, fields(users = users.len(), subject_id = %subject_id))]
pub async fn holding_unread(
    db: &impl ConnectionTrait,
    users: &[Uuid],
    kind: NotificationKind,
    subject_id: Uuid,
) -> AppResult<Vec<Uuid>> {
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.is_in(users.iter().copied()))
        .filter(notification::Column::Kind.eq(kind))
        .filter(notification::Column::SubjectId.eq(subject_id))
        .filter(notification::Column::IsRead.eq(false))
        .all(db)
        .await?
        .into_iter()
        .map(|n| n.user_id)
        .collect())
}

/// Marks read a user's unread notifications of this kind about this subject (a room they just
/// read), in the caller's transaction.
#[tracing::instrument(skip_all, fields(user_id = %user_id, subject_id = %subject_id))]
pub async fn mark_read_for_subject(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    kind: NotificationKind,
    subject_id: Uuid,
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    notification::Entity::update_many()
        .col_expr(notification::Column::IsRead, Expr::value(true))
        .col_expr(notification::Column::ReadAt, Expr::value(at))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::Kind.eq(kind))
        .filter(notification::Column::SubjectId.eq(subject_id))
        .filter(notification::Column::IsRead.eq(false))
        .exec(db)
        .await?;
    Ok(())
}

/// Stores notices in the caller's transaction, in one statement however many there are.
#[tracing::instrument(skip_all)]
pub async fn store(
    db: &impl ConnectionTrait,
    notices: impl IntoIterator<Item = Notice>,
) -> AppResult<Outbox> {
    let now = clock::now();
    let rows: Vec<notification::Model> = notices
        .into_iter()
        .map(|notice| notification::Model {
            id: Uuid::now_v7(),
            user_id: notice.user_id,
            kind: notice.kind,
            title: clip(notice.title, 200),
            body: clip(notice.body, 1000),
            subject_type: notice.subject.map(|(kind, _)| kind.to_string()),
            subject_id: notice.subject.map(|(_, id)| id),
            is_read: false,
            read_at: None,
            created_at: now,
        })
        .collect();
    let mut outbox = Outbox::default();
    if rows.is_empty() {
        return Ok(outbox);
    }
    notification::Entity::insert_many(rows.iter().cloned().map(notification::ActiveModel::from))
        .exec_without_returning(db)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|n| n.id).collect();
    outbox.extend(crate::devices::service::queue_pushes(db, &ids).await?);
    for stored in rows {
        outbox.push(
            Topic::User(stored.user_id),
            NotificationEvent::Created {
                notification: stored.into(),
            },
        );
    }
    Ok(outbox)
}

pub fn notification_sort() -> Sort {
    Sort::new(
        "NOTIFICATION_CREATED_AT_DESC",
        Expr::col((notification::Entity, notification::Column::CreatedAt)),
        KeyKind::Time,
        Expr::col((notification::Entity, notification::Column::Id)),
        true,
    )
}

fn notification_key(n: &notification::Model) -> (i64, Uuid) {
    (paging::time_key(n.created_at), n.id)
}

/// The viewer's notifications, newest first; only the unread ones when asked.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn list(
    state: &AppState,
    viewer: &Viewer,
    unread_only: bool,
    args: &PageArgs,
    with_total: bool,
) -> AppResult<(Slice<notification::Model>, Option<u64>)> {
    let identity = viewer.identity()?;
    let mut query =
        notification::Entity::find().filter(notification::Column::UserId.eq(identity.user_id));
    if unread_only {
        query = query.filter(notification::Column::IsRead.eq(false));
    }
    notification_sort()
        .page(&state.db, query, args, with_total, notification_key)
        .await
}

/// How many of the viewer's notifications are unread.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn unread_count(state: &AppState, viewer: &Viewer) -> AppResult<u64> {
    let identity = viewer.identity()?;
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(identity.user_id))
        .filter(notification::Column::IsRead.eq(false))
        .count(&state.db)
        .await?)
}

/// Marks one of the viewer's notifications read (again is fine); anyone else's is `NOT_FOUND`.
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn mark_read(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<notification::Model> {
    let identity = viewer.identity()?;
    let owned = || {
        notification::Entity::find_by_id(id)
            .filter(notification::Column::UserId.eq(identity.user_id))
    };
    let found = owned()
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("Notification"))?;
    if found.is_read {
        return Ok(found);
    }
    notification::Entity::update_many()
        .col_expr(notification::Column::IsRead, Expr::value(true))
        .col_expr(notification::Column::ReadAt, Expr::value(clock::now()))
        .filter(notification::Column::Id.eq(id))
        .filter(notification::Column::IsRead.eq(false))
        .exec(&state.db)
        .await?;
    owned()
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("Notification"))
}

/// Marks every unread notification of the viewer read; returns how many it marked.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn mark_all_read(state: &AppState, viewer: &Viewer) -> AppResult<u64> {
    let identity = viewer.identity()?;
    let result = notification::Entity::update_many()
        .col_expr(notification::Column::IsRead, Expr::value(true))
        .col_expr(notification::Column::ReadAt, Expr::value(clock::now()))
        .filter(notification::Column::UserId.eq(identity.user_id))
        .filter(notification::Column::IsRead.eq(false))
        .exec(&state.db)
        .await?;
    Ok(result.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::clip;

    #[test]
    fn clipping_keeps_whole_characters() {
        assert_eq!(clip("héllo".to_string(), 2), "hé");
        assert_eq!(clip("abc".to_string(), 10), "abc");
    }
}
