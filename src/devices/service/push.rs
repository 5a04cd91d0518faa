//! Delivering the push queue: due pushes are claimed (so two instances never send one twice at
//! once), sent to the gateway as `{token, platform, title, body, data}`, and then deleted; a
//! device the gateway answers 404 or 410 for is removed; a failure is retried after
//! `PUSH_RETRY_BASE_MS`, doubling each time, up to `PUSH_MAX_ATTEMPTS`. The delivery sleeps
//! until the earliest push is due or a `PushQueued` event wakes it: an idle server asks the
//! database nothing.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

use super::super::entity::{device, push_job};
use crate::app::AppState;
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::events::Topic;
use crate::notifications::entity::notification;

/// How long a claimed push is the claiming instance's before another may try it.
const LEASE: chrono::TimeDelta = chrono::TimeDelta::seconds(60);
/// Pushes claimed per round.
const ROUND: u64 = 100;
/// Pushes sent at once.
const CONCURRENCY: usize = 8;

#[derive(Serialize)]
struct Push<'a> {
    token: &'a str,
    platform: String,
    title: &'a str,
    body: &'a str,
    data: PushData,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PushData {
    notification_id: Uuid,
    kind: String,
    subject_type: Option<String>,
    subject_id: Option<Uuid>,
}

/// How one attempt ended.
enum Outcome {
    /// Taken by the gateway, or not needed (the user is online, push is off): done.
    Done,
    /// The gateway does not know the device (404, 410): it is removed.
    Gone,
    /// Worth another try.
    Failed(String),
}

/// When the earliest queued push is due; `None` when none is queued.
pub async fn next_push_due(db: &impl sea_orm::ConnectionTrait) -> AppResult<Option<DateTime<Utc>>> {
    Ok(push_job::Entity::find()
        .order_by_asc(push_job::Column::NextAttemptAt)
        .one(db)
        .await?
        .map(|j| j.next_attempt_at))
}

/// The delivery, while the server serves: started with when the first push is due (read before
/// serving), then woken by `PushQueued` events and by its own retry times.
pub fn spawn_pushes(
    state: AppState,
    first_due: Option<DateTime<Utc>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut wakes = Box::pin(state.events.subscribe(Topic::Push));
        let mut due = first_due;
        loop {
            let wait = match due {
                Some(at) => (at - Utc::now()).to_std().unwrap_or(Duration::ZERO),
                None => Duration::from_secs(24 * 3600),
            };
            tokio::select! {
                woke = wakes.next() => if woke.is_none() { return },
                _ = tokio::time::sleep(wait) => {}
            }
            due = match deliver_due(&state).await {
                Ok(next) => next,
                Err(err) => {
                    tracing::warn!(error = ?err, "push delivery failed; retrying in a minute");
                    Some(Utc::now() + LEASE)
                }
            };
        }
    })
}

/// Delivers every push that is due now; returns when the next one is due.
#[tracing::instrument(skip_all)]
pub async fn deliver_due(state: &AppState) -> AppResult<Option<DateTime<Utc>>> {
    let settings = &state.config.payments;
    let client = reqwest::Client::builder()
        .timeout(settings.push_timeout)
        .build()
        .map_err(AppError::internal)?;
    loop {
        let now = clock::now();
        let due = push_job::Entity::find()
            .filter(push_job::Column::NextAttemptAt.lte(now))
            .order_by_asc(push_job::Column::NextAttemptAt)
            .limit(ROUND)
            .all(&state.db)
            .await?;
        if due.is_empty() {
            break;
        }
        let mut claimed = Vec::with_capacity(due.len());
        for job in due {
            if claim(state, &job, now).await? {
                claimed.push(job);
            }
        }
        let notes: HashMap<Uuid, notification::Model> = notification::Entity::find()
            .filter(notification::Column::Id.is_in(claimed.iter().map(|j| j.notification_id)))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|n| (n.id, n))
            .collect();
        let devices: HashMap<Uuid, device::Model> = device::Entity::find()
            .filter(device::Column::Id.is_in(claimed.iter().map(|j| j.device_id)))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|d| (d.id, d))
            .collect();
        let users: Vec<Uuid> = notes.values().map(|n| n.user_id).collect();
        let online: HashSet<Uuid> = state.presence.online_among(&users).await;
        let attempts = claimed.into_iter().map(|job| {
            let note = notes.get(&job.notification_id);
            let dev = devices.get(&job.device_id);
            let (client, online) = (&client, &online);
            async move {
                let outcome = match (note, dev, settings.push_gateway_url.as_deref()) {
                    (Some(note), Some(dev), Some(url)) if !online.contains(&note.user_id) => {
                        send(client, url, note, dev).await
                    }
                    _ => Outcome::Done,
                };
                (job, outcome)
            }
        });
        let outcomes: Vec<(push_job::Model, Outcome)> = futures_util::stream::iter(attempts)
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for (job, outcome) in outcomes {
            settle(state, job, outcome).await?;
        }
    }
    next_push_due(&state.db).await
}

/// Takes a due push for this instance: moves its time a lease ahead if nobody did meanwhile.
async fn claim(state: &AppState, job: &push_job::Model, now: DateTime<Utc>) -> AppResult<bool> {
    let moved = push_job::Entity::update_many()
        .col_expr(push_job::Column::NextAttemptAt, Expr::val(now + LEASE))
        .filter(push_job::Column::NotificationId.eq(job.notification_id))
        .filter(push_job::Column::DeviceId.eq(job.device_id))
        .filter(push_job::Column::NextAttemptAt.eq(job.next_attempt_at))
        .exec(&state.db)
        .await?;
    Ok(moved.rows_affected == 1)
}

async fn send(
    client: &reqwest::Client,
    url: &str,
    note: &notification::Model,
    dev: &device::Model,
) -> Outcome {
    let push = Push {
        token: &dev.token,
        platform: sea_orm::ActiveEnum::to_value(&dev.platform),
        title: &note.title,
        body: &note.body,
        data: PushData {
            notification_id: note.id,
            kind: sea_orm::ActiveEnum::to_value(&note.kind),
            subject_type: note.subject_type.clone(),
            subject_id: note.subject_id,
        },
    };
    match client.post(url).json(&push).send().await {
        Ok(r) if r.status().is_success() => Outcome::Done,
        Ok(r) if matches!(r.status().as_u16(), 404 | 410) => Outcome::Gone,
        Ok(r) => Outcome::Failed(format!("answered {}", r.status())),
        Err(e) if e.is_timeout() => Outcome::Failed("timed out".into()),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// Records how an attempt ended: done and gone leave the queue; a failure waits for its retry,
/// or is given up after the last attempt.
async fn settle(state: &AppState, job: push_job::Model, outcome: Outcome) -> AppResult<()> {
    let this_job = || {
        push_job::Entity::delete_many()
            .filter(push_job::Column::NotificationId.eq(job.notification_id))
            .filter(push_job::Column::DeviceId.eq(job.device_id))
    };
    match outcome {
        Outcome::Done => {
            this_job().exec(&state.db).await?;
        }
        Outcome::Gone => {
            tracing::info!(device_id = %job.device_id, "push gateway does not know the device: removed");
            device::Entity::delete_by_id(job.device_id)
                .exec(&state.db)
                .await?;
        }
        Outcome::Failed(why) => {
            let settings = &state.config.payments;
            let attempts = job.attempts + 1;
            if attempts >= settings.push_max_attempts {
                tracing::warn!(device_id = %job.device_id, notification_id = %job.notification_id, attempts, why, "push given up");
                this_job().exec(&state.db).await?;
                return Ok(());
            }
            tracing::info!(device_id = %job.device_id, attempts, why, "push failed; will retry");
            let factor = 1u32 << (attempts - 1).clamp(0, 16);
            let wait = settings.push_retry_base.saturating_mul(factor);
            let wait = chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::hours(1));
            push_job::Entity::update_many()
                .col_expr(push_job::Column::Attempts, Expr::val(attempts))
                .col_expr(
                    push_job::Column::NextAttemptAt,
                    Expr::val(clock::now() + wait),
                )
                .filter(push_job::Column::NotificationId.eq(job.notification_id))
                .filter(push_job::Column::DeviceId.eq(job.device_id))
                .exec(&state.db)
                .await?;
        }
    }
    Ok(())
}
