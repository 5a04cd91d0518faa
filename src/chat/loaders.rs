//! Chat's DataLoaders: rooms, their members, newest messages and unread counts, only for the
//! rooms the loader's viewer reads (members, and staff for support rooms).

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use super::entity::{member, message, room};
use super::service;
use crate::graphql::loaders::{grouped, ids, LoadError};

crate::id_key!(
    /// A chat room's id.
    RoomId
);

crate::scoped_loaders!(
    /// Rooms by id (a message's room, a room named in an event).
    Rooms,
    /// A room's members in the order they joined.
    Members,
    /// A room's newest message, by room and its `last_seq`.
    LastMessage,
    /// The viewer's unread messages per room.
    Unread,
);

impl Loader<RoomId> for Rooms {
    type Value = room::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[RoomId]) -> Result<HashMap<RoomId, room::Model>, LoadError> {
        let Self(on) = self;
        let rows = service::rooms_by_ids(&on.state.db, &on.viewer, &ids(keys, |k| k.0)).await?;
        Ok(rows.into_iter().map(|r| (RoomId(r.id), r)).collect())
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
