//! The GraphQL face of notifications: `Notification`, the list, the unread count, the read marks,
//! and `notificationAdded`.

use async_graphql::{Context, Object, Result, Subscription, ID};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};

use super::entity::{notification, NotificationKind};
use super::events::NotificationEvent;
use super::service;
use crate::events::{Delivery, Topic};
use crate::graphql::fanout::{shared, Share};
use crate::graphql::pagination::{self, Page};
use crate::graphql::{missed, parse_id, state, to_id, viewer};
use crate::paging::PageArgs;

pub struct Notification(pub notification::Model);

/// Something that happened which concerns the viewer: stored, and pushed live as it happens.
#[Object]
impl Notification {
    /// The notification's id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// What it is about.
    async fn kind(&self) -> NotificationKind {
        self.0.kind
    }
    /// A short headline.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The text.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// True once the user marked it read.
    async fn is_read(&self) -> bool {
        self.0.is_read
    }
    /// When it was marked read.
    async fn read_at(&self) -> Option<DateTime<Utc>> {
        self.0.read_at
    }
    /// The type of the thing it is about: `ServiceRecord`, `Sale`, `Referral`, `ChatRoom`…
    async fn subject_type(&self) -> Option<&str> {
        self.0.subject_type.as_deref()
    }
    /// The id of the thing it is about.
    async fn subject_id(&self) -> Option<ID> {
        self.0.subject_id.map(to_id)
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Default)]
pub struct NotificationsQuery;

#[Object]
impl NotificationsQuery {
    /// The viewer's notifications, newest first.
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        unread_only: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Notification>> {
        let (slice, total) = service::list(
            state(ctx)?,
            viewer(ctx)?,
            unread_only.unwrap_or(false),
            &PageArgs::forward(first, after),
            pagination::wants_total(ctx),
        )
        .await?;
        Ok(pagination::connection(slice, total, Notification))
    }

    /// How many of the viewer's notifications are unread.
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let count = service::unread_count(state(ctx)?, viewer(ctx)?).await?;
        Ok(i64::try_from(count).unwrap_or(i64::MAX))
    }
}

#[derive(Default)]
pub struct NotificationsMutation;

#[Object]
impl NotificationsMutation {
    /// Marks one of the viewer's notifications read.
    async fn mark_notification_read(&self, ctx: &Context<'_>, id: ID) -> Result<Notification> {
        let id = parse_id("id", &id)?;
        let model = service::mark_read(state(ctx)?, viewer(ctx)?, id).await?;
        Ok(Notification(model))
    }

    /// Marks every unread notification of the viewer read; returns how many were marked.
    async fn mark_all_notifications_read(&self, ctx: &Context<'_>) -> Result<i64> {
        let count = service::mark_all_read(state(ctx)?, viewer(ctx)?).await?;
        Ok(i64::try_from(count).unwrap_or(i64::MAX))
    }
}

#[derive(Default)]
pub struct NotificationsSubscription;

#[Subscription]
impl NotificationsSubscription {
    /// The viewer's new notifications, as they are stored. A subscriber that falls far behind
    /// receives an error saying how many it missed, and stays subscribed.
    async fn notification_added(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<Notification>>> {
        let user = viewer(ctx)?.identity()?.user_id;
        let deliveries = state(ctx)?.events.subscribe(Topic::User(user));
        let added = deliveries.filter_map(|delivery| async move {
            match delivery {
                Delivery::Event(event) => match event.get::<NotificationEvent>()? {
                    NotificationEvent::Created { notification } => {
                        Some(Ok(Notification(notification.clone().into())))
                    }
                },
                Delivery::Missed(n) => Some(Err(missed(n))),
            }
        });
        Ok(shared(ctx, Share::Viewer, added))
    }
}
