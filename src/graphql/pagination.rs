//! Relay connections: a [`Slice`] of rows from `paging` becomes `edges`, `pageInfo` and
//! `totalCount`.

use std::borrow::Cow;

use async_graphql::futures_util::future::join_all;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, OutputType, Positioned, ServerResult, Value};

use super::in_place::flatten;
pub use crate::paging::Slice;

/// The fields every connection adds to edges and pageInfo.
#[derive(async_graphql::SimpleObject)]
pub struct ConnectionTotals {
    /// How many items match, across all pages. Counted only when this field is selected.
    pub total_count: i64,
}

type Connection<N> = async_graphql::connection::Connection<
    String,
    N,
    ConnectionTotals,
    async_graphql::connection::EmptyFields,
>;
type Edge<N> = async_graphql::connection::Edge<String, N, async_graphql::connection::EmptyFields>;

/// A Relay connection with string cursors and `totalCount`: async-graphql's `Connection` (its
/// schema types, and its resolvers for what the fast path leaves), answered in place.
///
/// A page of twenty asks for about a hundred fields of the connection, its edges and pageInfo,
/// each a future of its own in the general executor. Here they are values at hand: the
/// connection's, edges' and pageInfo's own fields (`__typename`, aliases and fragments on their
/// types included, as `in_place` admits them) are filled directly, and the nodes resolved
/// together (so their loaders batch across the page), each with its own path.
pub struct Page<N: async_graphql::OutputType>(Connection<N>);

impl<N: async_graphql::OutputType> async_graphql::OutputType for Page<N> {
    fn type_name() -> Cow<'static, str> {
        Connection::<N>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Connection::<N>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let state = ctx.data::<crate::app::AppState>().ok();
        if state.is_some_and(|s| s.config.graphql_in_place) {
            if let Some(fields) = Self::fields(ctx) {
                if let Some(state) = state {
                    state.metrics.record_in_place(true);
                }
                return self.fill(ctx, fields).await;
            }
        }
        if let Some(state) = state {
            state.metrics.record_in_place(false);
        }
        self.0.resolve(ctx, field).await
    }
}

/// A connection's fields, flattened, with those of its edges and pageInfo.
struct Fields<'a> {
    connection: Vec<&'a Positioned<Field>>,
    edge: Vec<&'a Positioned<Field>>,
    page_info: Vec<&'a Positioned<Field>>,
}

fn name(f: &Positioned<Field>) -> &str {
    f.node.name.node.as_str()
}

const CONNECTION_FIELDS: [&str; 5] = ["__typename", "totalCount", "pageInfo", "edges", "nodes"];
const EDGE_FIELDS: [&str; 3] = ["__typename", "cursor", "node"];
const PAGE_INFO_FIELDS: [&str; 5] = [
    "__typename",
    "hasPreviousPage",
    "hasNextPage",
    "startCursor",
    "endCursor",
];

impl<N: async_graphql::OutputType> Page<N> {
    /// What the selection asks of the connection; `None` when the general executor must answer.
    fn fields<'a>(ctx: &ContextSelectionSet<'a>) -> Option<Fields<'a>> {
        let mut out = Fields {
            connection: Vec::new(),
            edge: Vec::new(),
            page_info: Vec::new(),
        };
        let own = |fields: &[&Positioned<Field>], names: &[&str]| {
            fields
                .iter()
                .all(|f| names.contains(&f.node.name.node.as_str()))
        };
        flatten(ctx, &Self::type_name(), &ctx.item.node, &mut out.connection)?;
        if !own(&out.connection, &CONNECTION_FIELDS) {
            return None;
        }
        for f in &out.connection {
            let inner = &f.node.selection_set.node;
            match f.node.name.node.as_str() {
                "edges" => flatten(ctx, &Edge::<N>::type_name(), inner, &mut out.edge)?,
                "pageInfo" => flatten(ctx, "PageInfo", inner, &mut out.page_info)?,
                _ => {}
            }
        }
        // A list or object asked twice under two keys would need its selections kept apart.
        let once = |n: &str| {
            out.connection
                .iter()
                .filter(|f| f.node.name.node == n)
                .count()
                <= 1
        };
        let whole = once("edges") && once("pageInfo") && once("nodes");
        (whole && own(&out.edge, &EDGE_FIELDS) && own(&out.page_info, &PAGE_INFO_FIELDS))
            .then_some(out)
    }

    async fn fill(&self, ctx: &ContextSelectionSet<'_>, fields: Fields<'_>) -> ServerResult<Value> {
        let page = &self.0;
        let key = |f: &Positioned<Field>| f.node.response_key().node.clone();
        let cursor =
            |edge: Option<&Edge<N>>| edge.map_or(Value::Null, |e| Value::String(e.cursor.clone()));
        // The nodes, under `edges { node }` and `nodes`, resolved together.
        let edges_field = fields
            .connection
            .iter()
            .find(|f| name(f) == "edges")
            .copied();
        let node_field = fields.edge.iter().find(|f| name(f) == "node").copied();
        let nodes_field = fields
            .connection
            .iter()
            .find(|f| name(f) == "nodes")
            .copied();
        let edges_ctx = edges_field.map(|f| ctx.with_field(f));
        let edges_list = edges_ctx
            .as_ref()
            .zip(edges_field)
            .map(|(c, f)| c.with_selection_set(&f.node.selection_set));
        let edge_ctxs: Vec<_> = edges_list
            .as_ref()
            .map(|list| (0..page.edges.len()).map(|i| list.with_index(i)).collect())
            .unwrap_or_default();
        let node_ctxs: Vec<_> = node_field
            .map(|f| edge_ctxs.iter().map(|c| c.with_field(f)).collect())
            .unwrap_or_default();
        let node_sels: Vec<_> = match node_field {
            Some(f) => node_ctxs
                .iter()
                .map(|c| c.with_selection_set(&f.node.selection_set))
                .collect(),
            None => Vec::new(),
        };
        let nodes_ctx = nodes_field.map(|f| ctx.with_field(f));
        let nodes_list = nodes_ctx
            .as_ref()
            .zip(nodes_field)
            .map(|(c, f)| c.with_selection_set(&f.node.selection_set));
        let nodes_items: Vec<_> = nodes_list
            .as_ref()
            .map(|list| (0..page.edges.len()).map(|i| list.with_index(i)).collect())
            .unwrap_or_default();
        let under_edges = node_field.into_iter().flat_map(|f| {
            node_sels
                .iter()
                .zip(&page.edges)
                .map(move |(c, e)| e.node.resolve(c, f))
        });
        let under_nodes = nodes_field.into_iter().flat_map(|f| {
            nodes_items
                .iter()
                .zip(&page.edges)
                .map(move |(c, e)| e.node.resolve(c, f))
        });
        let (mut under_edges, mut under_nodes) =
            futures_util::future::join(join_all(under_edges), join_all(under_nodes)).await;

        let mut object = IndexMap::with_capacity(fields.connection.len());
        for f in &fields.connection {
            let value = match name(f) {
                "__typename" => Value::String(Self::type_name().into_owned()),
                "totalCount" => Value::from(page.additional_fields.total_count),
                "pageInfo" => {
                    let mut info = IndexMap::with_capacity(fields.page_info.len());
                    for p in &fields.page_info {
                        let value = match name(p) {
                            "__typename" => Value::String("PageInfo".into()),
                            "hasPreviousPage" => Value::Boolean(page.has_previous_page),
                            "hasNextPage" => Value::Boolean(page.has_next_page),
                            "startCursor" => cursor(page.edges.first()),
                            _ => cursor(page.edges.last()),
                        };
                        info.insert(key(p), value);
                    }
                    Value::Object(info)
                }
                "edges" => {
                    // Named once per page: async-graphql formats the name on every call.
                    let edge_type = Edge::<N>::type_name();
                    let mut nodes = std::mem::take(&mut under_edges).into_iter();
                    let mut edges = Vec::with_capacity(page.edges.len());
                    for edge in &page.edges {
                        let mut object = IndexMap::with_capacity(fields.edge.len());
                        for e in &fields.edge {
                            let value = match name(e) {
                                "__typename" => Value::String(edge_type.to_string()),
                                "cursor" => Value::String(edge.cursor.clone()),
                                _ => nodes.next().unwrap_or(Ok(Value::Null))?,
                            };
                            object.insert(key(e), value);
                        }
                        edges.push(Value::Object(object));
                    }
                    Value::List(edges)
                }
                _ => Value::List(
                    std::mem::take(&mut under_nodes)
                        .into_iter()
                        .collect::<ServerResult<Vec<_>>>()?,
                ),
            };
            object.insert(key(f), value);
        }
        Ok(Value::Object(object))
    }
}

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
    let mut page = Connection::with_additional_fields(
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
    Page(page)
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
