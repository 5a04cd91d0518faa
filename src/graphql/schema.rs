//! The one schema: per-domain roots merged, limits on, and the SDL export. The builder needs no
//! runtime data, so `autohub export-schema` works without a database.

use async_graphql::{MergedObject, MergedSubscription, Schema, SchemaBuilder};

use crate::accounts::graphql::{AccountsMutation, AccountsQuery};
use crate::chat::graphql::{ChatMutation, ChatQuery, ChatSubscription};
use crate::config::QueryLimits;
use crate::notifications::graphql::{
    NotificationsMutation, NotificationsQuery, NotificationsSubscription,
};
use crate::referrals::graphql::ReferralsQuery;
use crate::sales::graphql::{SalesMutation, SalesQuery};
use crate::units::graphql::{UnitsMutation, UnitsQuery};
use crate::workshop::graphql::{WorkshopMutation, WorkshopQuery};

/// Every query of the API.
#[derive(MergedObject, Default)]
pub struct Query(
    AccountsQuery,
    ReferralsQuery,
    UnitsQuery,
    WorkshopQuery,
    SalesQuery,
    NotificationsQuery,
    ChatQuery,
);

/// Every mutation of the API.
#[derive(MergedObject, Default)]
pub struct Mutation(
    AccountsMutation,
    UnitsMutation,
    WorkshopMutation,
    SalesMutation,
    NotificationsMutation,
    ChatMutation,
);

/// Every subscription of the API (served on `/graphql/ws`).
#[derive(MergedSubscription, Default)]
pub struct Subscription(NotificationsSubscription, ChatSubscription);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The schema with its limits, before runtime data is added.
pub fn builder(limits: &QueryLimits) -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    // A parser guard against pathological nesting, well above the depth limit.
    .limit_recursive_depth(64)
}

/// The SDL as committed in `schema.graphql`.
pub fn export_sdl() -> String {
    let limits = QueryLimits {
        max_depth: usize::MAX,
        max_complexity: usize::MAX,
        max_batch: 1,
        max_body_bytes: 0,
        request_timeout: std::time::Duration::ZERO,
    };
    builder(&limits).finish().sdl()
}
