//! The one schema: per-domain roots merged, limits on, and the SDL export. The builder needs no
//! runtime data, so `autohub export-schema` works without a database.

use async_graphql::{MergedObject, MergedSubscription, Schema, SchemaBuilder};

use crate::accounts::graphql::{AccountsMutation, AccountsQuery};
use crate::bookings::graphql::{BookingsMutation, BookingsQuery};
use crate::chat::graphql::{ChatMutation, ChatQuery, ChatSubscription};
use crate::config::QueryLimits;
use crate::content::graphql::{ContentMutation, ContentQuery};
use crate::devices::graphql::{DevicesMutation, DevicesQuery};
use crate::exports::graphql::ExportsMutation;
use crate::graphql::checks::{CheckLimits, Checks};
use crate::notifications::graphql::{
    NotificationsMutation, NotificationsQuery, NotificationsSubscription,
};
use crate::offers::graphql::{OffersMutation, OffersQuery};
use crate::payments::graphql::{PaymentsMutation, PaymentsQuery};
use crate::referrals::graphql::ReferralsQuery;
use crate::sales::graphql::{SalesMutation, SalesQuery};
use crate::telemetry::graphql::TelemetryMutation;
use crate::units::graphql::{UnitsMutation, UnitsQuery};
use crate::uploads::graphql::UploadsMutation;
use crate::workshop::graphql::{WorkshopMutation, WorkshopQuery};

/// Every query of the API.
#[derive(MergedObject, Default)]
pub struct Query(
    AccountsQuery,
    ReferralsQuery,
    UnitsQuery,
    WorkshopQuery,
    SalesQuery,
    BookingsQuery,
    OffersQuery,
    ContentQuery,
    PaymentsQuery,
    DevicesQuery,
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
    BookingsMutation,
    OffersMutation,
    ContentMutation,
    TelemetryMutation,
    UploadsMutation,
    PaymentsMutation,
    ExportsMutation,
    DevicesMutation,
    NotificationsMutation,
    ChatMutation,
);

/// Every subscription of the API (served on `/graphql/ws`).
#[derive(MergedSubscription, Default)]
pub struct Subscription(NotificationsSubscription, ChatSubscription);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// How deep an operation that selects only introspection may nest: graphql-js's
/// `getIntrospectionQuery` nests 14 deep with its default 9 `ofType` levels, and some tools ask
/// for more. Its lists are bounded separately (see `Checks`).
pub const INTROSPECTION_MAX_DEPTH: usize = 32;

/// The schema with a depth limit, before runtime data is added. Cost is bounded by `Checks`,
/// which counts page sizes.
pub fn builder(max_depth: usize) -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_depth(max_depth)
    // A parser guard against pathological nesting, well above the depth limits.
    .limit_recursive_depth(64)
}

/// The checks async-graphql's validation leaves to us (coercion, cost, aliases), for this schema.
pub fn checks(limits: &QueryLimits) -> Checks {
    Checks::new(
        &export_sdl(),
        CheckLimits {
            max_cost: limits.max_cost,
            max_aliases: limits.max_aliases,
        },
    )
}

/// The SDL as committed in `schema.graphql`.
pub fn export_sdl() -> String {
    builder(usize::MAX).finish().sdl()
}
