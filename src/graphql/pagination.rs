//! Relay connections: a [`Slice`] of rows from `paging` becomes `edges`, `pageInfo` and
//! `totalCount`.

pub use crate::paging::Slice;

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

/// Builds a connection from a slice of rows.
pub fn connection<M, N: async_graphql::OutputType>(
    slice: Slice<M>,
    total: Option<u64>,
    node: impl Fn(M) -> N,
) -> Page<N> {
    let total_count = total.map_or(0, |t| i64::try_from(t).unwrap_or(i64::MAX));
    let mut page = Page::with_additional_fields(
        slice.has_previous,
        slice.has_next,
        ConnectionTotals { total_count },
    );
    page.edges.extend(
        slice
            .rows
            .into_iter()
            .map(|(row, cursor)| async_graphql::connection::Edge::new(cursor, node(row))),
    );
    page
}

/// Which way an ordering runs.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OrderDirection {
    /// Smallest first.
    Asc,
    /// Largest (or newest) first.
    #[default]
    Desc,
}

impl OrderDirection {
    pub fn descending(self) -> bool {
        self == Self::Desc
    }
}
