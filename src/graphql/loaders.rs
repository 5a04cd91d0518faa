//! The DataLoader machinery every domain's loaders share. The loaders themselves live with their
//! domain (`units::loaders`, `chat::loaders` …): each is made for one viewer and returns only what
//! that viewer may see, so a resolver that reuses one cannot leak a row.
//!
//! A request (or a WebSocket connection) carries one `Loaders`: each kind of loader is made the
//! first time a field asks for it, so a request that resolves no relation makes none. Nothing is
//! cached across viewers or requests; on a WebSocket the loaders batch and never cache.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::dataloader::DataLoader;
use async_graphql::Context;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Viewer;
use crate::error::AppError;

/// A relation rows are reached through, for loaders that several levels of one query use. Nested
/// pages reach users at different moments (owners with the page, technicians after the records,
/// salespeople after the sales), and units both as a room's subject and as a record's unit: one
/// loader per lane makes each batch hold exactly the keys one level produced, so a query's
/// statement count does not depend on which level's batch wakes first.
pub trait Lane: Send + Sync + 'static {}

/// Rows named directly (a buyer, a room's members, a room's subject …).
pub struct Direct;
impl Lane for Direct {}

/// What a loader is made with: the services and the viewer it loads for.
#[derive(Clone)]
pub struct Scope {
    pub state: AppState,
    pub viewer: Viewer,
}

/// A loader a request makes for its viewer on first use.
pub trait RequestLoader: Send + Sync + Sized + 'static {
    fn new(scope: &Scope) -> Self;
}

type Made = HashMap<TypeId, Arc<dyn Any + Send + Sync>>;

/// The loaders of one request or one WebSocket connection.
pub struct Loaders {
    scope: Scope,
    /// How long each loader gathers keys before it runs its batch.
    delay: Duration,
    made: Mutex<Made>,
}

impl Loaders {
    pub fn new(state: AppState, viewer: Viewer) -> Self {
        let delay = state.config.dataloader_delay;
        Self {
            scope: Scope { state, viewer },
            delay,
            made: Mutex::default(),
        }
    }

    /// The request's loader of kind `L`, made now if this is the first field that needs it.
    pub fn get<L: RequestLoader>(&self) -> Arc<DataLoader<L>> {
        let mut made = self.made.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(loader) = made
            .get(&TypeId::of::<L>())
            .and_then(|l| l.clone().downcast::<DataLoader<L>>().ok())
        {
            return loader;
        }
        let loader = Arc::new(DataLoader::new(L::new(&self.scope), tokio::spawn).delay(self.delay));
        made.insert(TypeId::of::<L>(), loader.clone());
        loader
    }
}

/// The request's loader of kind `L`.
pub fn loader<L: RequestLoader>(ctx: &Context<'_>) -> async_graphql::Result<Arc<DataLoader<L>>> {
    Ok(ctx.data::<Loaders>()?.get::<L>())
}

/// `Loader::Error` must be `Clone`; `AppError` is, and keeps its code.
#[derive(Clone)]
pub struct LoadError(pub AppError);

impl From<LoadError> for async_graphql::Error {
    fn from(err: LoadError) -> Self {
        err.0.into()
    }
}

impl From<AppError> for LoadError {
    fn from(err: AppError) -> Self {
        Self(err)
    }
}

impl From<sea_orm::DbErr> for LoadError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self(err.into())
    }
}

/// Groups rows by their parent's id, keeping their order.
pub fn grouped<M, K: std::hash::Hash + Eq>(
    rows: Vec<M>,
    parent: impl Fn(&M) -> K,
) -> HashMap<K, Vec<M>> {
    let mut map: HashMap<K, Vec<M>> = HashMap::new();
    for row in rows {
        map.entry(parent(&row)).or_default().push(row);
    }
    map
}

/// Declares a key newtype around a `Uuid`: the id of one kind of row, so a loader keyed by unit
/// ids cannot be handed a user's id.
#[macro_export]
macro_rules! id_key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub uuid::Uuid);
    };
}

/// Declares loaders made from the request's `Scope` (its services and viewer): for each name, a
/// `pub struct Name(Scope)` and its `RequestLoader`. The `Loader` impls follow by hand.
#[macro_export]
macro_rules! scoped_loaders {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {
        $(
            $(#[$doc])*
            pub struct $name($crate::graphql::loaders::Scope);

            impl $crate::graphql::loaders::RequestLoader for $name {
                fn new(scope: &$crate::graphql::loaders::Scope) -> Self {
                    Self(scope.clone())
                }
            }
        )+
    };
}

/// The ids behind a batch of keys.
pub fn ids<K: Copy>(keys: &[K], id: impl Fn(K) -> Uuid) -> Vec<Uuid> {
    keys.iter().copied().map(id).collect()
}
