//! The rules of devices: a token belongs to one user (registering it again moves it, and drops
//! what was queued for its previous owner), a device lives as long as the session it was
//! registered in, and notifications are queued for the recipient's devices in the transaction
//! that stores them.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use uuid::Uuid;

use super::entity::{device, push_job, DevicePlatform};
use super::events::PushQueued;
use crate::app::AppState;
use crate::auth::Viewer;
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::events::{Outbox, Topic};
use crate::input;
use crate::notifications::entity::notification;

mod push;

pub use push::*;

/// Registers the viewer's device for push notifications in the viewer's session. A token
/// registered by someone else moves to the viewer (their queued pushes to it are dropped).
#[tracing::instrument(skip_all, fields(viewer = %viewer, ?platform))]
pub async fn register_device(
    state: &AppState,
    viewer: &Viewer,
    token: &str,
    platform: DevicePlatform,
    name: Option<&str>,
) -> AppResult<device::Model> {
    let identity = viewer.identity()?;
    let token = input::required("token", token, 1000)?;
    let name = input::optional("name", name, 100)?;
    let now = clock::now();
    let txn = state.db.begin().await?;
    // Someone else's registration of this token ends, with everything queued for it.
    device::Entity::delete_many()
        .filter(device::Column::Token.eq(token.as_str()))
        .filter(device::Column::UserId.ne(identity.user_id))
        .exec(&txn)
        .await?;
    let row = device::Model {
        id: Uuid::now_v7(),
        user_id: identity.user_id,
        session_id: Some(identity.session_id),
        token: token.clone(),
        platform,
        name,
        created_at: now,
        last_seen_at: now,
    };
    device::Entity::insert(device::ActiveModel::from(row))
        .on_conflict(
            OnConflict::column(device::Column::Token)
                .update_columns([
                    device::Column::UserId,
                    device::Column::SessionId,
                    device::Column::Platform,
                    device::Column::Name,
                    device::Column::LastSeenAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    let saved = device::Entity::find()
        .filter(device::Column::Token.eq(token.as_str()))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::internal("a registered device is missing"))?;
    // Another user's registration of this token, made at the same instant, was taken over by
    // the upsert: what was queued for them stays theirs.
    push_job::Entity::delete_many()
        .filter(push_job::Column::DeviceId.eq(saved.id))
        .filter(
            push_job::Column::NotificationId.in_subquery(
                Query::select()
                    .column(notification::Column::Id)
                    .from(notification::Entity)
                    .and_where(notification::Column::UserId.ne(identity.user_id))
                    .to_owned(),
            ),
        )
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Removes one of the viewer's devices by its token; whether there was one.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn unregister_device(state: &AppState, viewer: &Viewer, token: &str) -> AppResult<bool> {
    let identity = viewer.identity()?;
    let token = input::required("token", token, 1000)?;
    let removed = device::Entity::delete_many()
        .filter(device::Column::Token.eq(token))
        .filter(device::Column::UserId.eq(identity.user_id))
        .exec(&state.db)
        .await?;
    Ok(removed.rows_affected > 0)
}

/// The viewer's devices, oldest first.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn my_devices(state: &AppState, viewer: &Viewer) -> AppResult<Vec<device::Model>> {
    let identity = viewer.identity()?;
    Ok(device::Entity::find()
        .filter(device::Column::UserId.eq(identity.user_id))
        .order_by_asc(device::Column::Id)
        .all(&state.db)
        .await?)
}

/// A session ended: the devices registered in it are removed.
#[tracing::instrument(skip_all, fields(session_id = %session_id))]
pub async fn forget_session(db: &impl ConnectionTrait, session_id: Uuid) -> AppResult<u64> {
    Ok(device::Entity::delete_many()
        .filter(device::Column::SessionId.eq(session_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// Every session of a user but `keep` ended: their devices are removed.
#[tracing::instrument(skip_all, fields(user_id = %user_id, keep = ?keep))]
pub async fn forget_sessions_of(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    keep: Option<Uuid>,
) -> AppResult<u64> {
    let mut delete = device::Entity::delete_many().filter(device::Column::UserId.eq(user_id));
    if let Some(keep) = keep {
        delete = delete.filter(device::Column::SessionId.ne(keep));
    }
    Ok(delete.exec(db).await?.rows_affected)
}

/// Queues a push of each of these stored notifications to each device of its recipient, in the
/// caller's transaction and one statement; the outbox wakes the delivery once it commits.
/// Whether the recipient has an open socket is asked when the push is delivered.
#[tracing::instrument(skip_all, fields(notifications = notification_ids.len()))]
pub async fn queue_pushes(
    db: &impl ConnectionTrait,
    notification_ids: &[Uuid],
) -> AppResult<Outbox> {
    let now = clock::now();
    let select = Query::select()
        .column((notification::Entity, notification::Column::Id))
        .column((device::Entity, device::Column::Id))
        .expr(Expr::val(0))
        .expr(Expr::val(now))
        .expr(Expr::val(now))
        .from(notification::Entity)
        .inner_join(
            device::Entity,
            Expr::col((device::Entity, device::Column::UserId))
                .equals((notification::Entity, notification::Column::UserId)),
        )
        .and_where(
            Expr::col((notification::Entity, notification::Column::Id))
                .is_in(notification_ids.iter().copied()),
        )
        .to_owned();
    let insert = Query::insert()
        .into_table(push_job::Entity)
        .columns([
            push_job::Column::NotificationId,
            push_job::Column::DeviceId,
            push_job::Column::Attempts,
            push_job::Column::NextAttemptAt,
            push_job::Column::CreatedAt,
        ])
        .select_from(select)
        .map_err(AppError::internal)?
        .to_owned();
    let queued = db.execute(&insert).await?.rows_affected();
    Ok(if queued > 0 {
        Outbox::of(Topic::Push, PushQueued)
    } else {
        Outbox::default()
    })
}
