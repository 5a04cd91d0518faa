//! Relay cursor connections: page sizes and opaque keyset cursors shared by every connection.
//! A cursor is base64url of a small JSON value (the keyset of the row it stands for); it is not
//! signed, so it is only ever used as a bound in a query, never trusted for anything else.

use base64::Engine;
use serde::{de::DeserializeOwned, Serialize};

use crate::error::{AppError, AppResult};

pub const DEFAULT_PAGE: u64 = 20;
pub const MAX_PAGE: u64 = 100;

/// `first` (or `last`): absent is the default page; 0 to 100 is taken; anything else is refused.
pub fn page_size(field: &str, value: Option<i32>) -> AppResult<u64> {
    match value {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (0..=MAX_PAGE as i32).contains(&n) => Ok(n as u64),
        Some(_) => Err(AppError::bad_input(
            field,
            format!("{field} must be between 0 and {MAX_PAGE}."),
        )),
    }
}

pub fn encode_cursor<T: Serialize>(key: &T) -> String {
    let json = serde_json::to_vec(key).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

pub fn decode_cursor<T: DeserializeOwned>(
    field: &str,
    cursor: Option<&str>,
) -> AppResult<Option<T>> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let bad = || AppError::bad_input(field, "This cursor is not valid.");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map(Some).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = uuid::Uuid::now_v7();
        let c = encode_cursor(&id);
        assert_eq!(
            decode_cursor::<uuid::Uuid>("after", Some(&c)).expect("ok"),
            Some(id)
        );
        assert!(decode_cursor::<uuid::Uuid>("after", Some("!!!")).is_err());
        assert!(decode_cursor::<uuid::Uuid>("after", Some("e30")).is_err());
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page_size("first", None).expect("ok"), 20);
        assert_eq!(page_size("first", Some(100)).expect("ok"), 100);
        assert!(page_size("first", Some(101)).is_err());
        assert!(page_size("first", Some(-1)).is_err());
    }
}

/// The fields every connection adds to edges and pageInfo.
#[derive(async_graphql::SimpleObject)]
pub struct ConnectionTotals {
    /// How many items match, across all pages. Counted only when this field is selected.
    pub total_count: i64,
}

/// A Relay connection with string cursors and `totalCount`.
pub type Page<N> = async_graphql::connection::Connection<
    String,
    N,
    ConnectionTotals,
    async_graphql::connection::EmptyFields,
>;

/// True when the query selects `totalCount` on the connection being resolved.
pub fn wants_total(ctx: &async_graphql::Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

/// Builds a connection from a page of rows.
pub fn page<M, N: async_graphql::OutputType>(
    rows: Vec<M>,
    has_previous: bool,
    has_next: bool,
    total: Option<u64>,
    cursor: impl Fn(&M) -> String,
    node: impl Fn(M) -> N,
) -> Page<N> {
    let total_count = total.map_or(0, |t| i64::try_from(t).unwrap_or(i64::MAX));
    let mut connection =
        Page::with_additional_fields(has_previous, has_next, ConnectionTotals { total_count });
    connection.edges.extend(
        rows.into_iter()
            .map(|row| async_graphql::connection::Edge::new(cursor(&row), node(row))),
    );
    connection
}
