//! Chat's DataLoaders: rooms, their members, newest messages and unread counts, only for the
//! rooms the loader's viewer reads (members, and staff for support rooms).

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use super::entity::{member, message, room};
use super::service;
use crate::graphql::loaders::{grouped, ids, LoadError, RequestLoader, Scope};

crate::id_key!(
    /// A chat room's id.
    RoomId
);

/// Rooms by id (a message's room, a room named in an event).
pub struct Rooms(Scope);

impl RequestLoader for Rooms {
    fn new(scope: &Scope) -> Self {
        Self(scope.clone())
    }
}

impl Loader<RoomId> for Rooms {
    type Value = room::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[RoomId]) -> Result<HashMap<RoomId, room::Model>, LoadError> {
        let Self(on) = self;
        let rows = service::rooms_by_ids(&on.state.db, &on.viewer, &ids(keys, |k| k.0)).await?;
        Ok(rows.into_iter().map(|r| (RoomId(r.id), r)).collect())
    }
}

/// A room's members in the order they joined.
pub struct Members(Scope);

impl RequestLoader for Members {
    fn new(scope: &Scope) -> Self {
        Self(scope.clone())
    }
}

impl Loader<RoomId> for Members {
    type Value = Vec<member::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[RoomId],
    ) -> Result<HashMap<RoomId, Vec<member::Model>>, LoadError> {
        let Self(on) = self;
        let rows = service::members_of(&on.state.db, &on.viewer, &ids(keys, |k| k.0)).await?;
        Ok(grouped(rows, |m| RoomId(m.room_id)))
    }
}

/// A room's newest message, by room and its `last_seq`.
pub struct LastMessage(Scope);

impl RequestLoader for LastMessage {
    fn new(scope: &Scope) -> Self {
        Self(scope.clone())
    }
}

impl Loader<(RoomId, i64)> for LastMessage {
    type Value = message::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[(RoomId, i64)],
    ) -> Result<HashMap<(RoomId, i64), message::Model>, LoadError> {
        let Self(on) = self;
        let wanted: Vec<_> = keys.iter().map(|(room, seq)| (room.0, *seq)).collect();
        let rows = service::last_messages(&on.state.db, &on.viewer, &wanted).await?;
        Ok(rows
            .into_iter()
            .map(|m| ((RoomId(m.room_id), m.seq), m))
            .collect())
    }
}

/// The viewer's unread messages per room.
pub struct Unread(Scope);

impl RequestLoader for Unread {
    fn new(scope: &Scope) -> Self {
        Self(scope.clone())
    }
}

impl Loader<RoomId> for Unread {
    type Value = u64;
    type Error = LoadError;

    async fn load(&self, keys: &[RoomId]) -> Result<HashMap<RoomId, u64>, LoadError> {
        let Self(on) = self;
        let unread =
            service::viewer_unread_in_rooms(&on.state.db, &on.viewer, &ids(keys, |k| k.0)).await?;
        Ok(unread.into_iter().map(|(r, n)| (RoomId(r), n)).collect())
    }
}
