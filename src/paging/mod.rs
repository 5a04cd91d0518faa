//! Keyset paging shared by every list of the API: page sizes, opaque cursors, forward
//! (`first`/`after`) and backward (`last`/`before`) pages over any ordering. No GraphQL here:
//! services page with it, and `graphql/pagination.rs` turns a [`Slice`] into a connection.
//!
//! An ordering is a [`Sort`]: one key expression (a column or an expression an index covers) with
//! `id` as the tie-break, so the order is total and a cursor names exactly one place in it. A cursor
//! is base64url of the row's key (8 bytes, big-endian), its id (16 bytes) and the ordering's
//! name. It is not signed, so it is only ever used as a bound in a query; a cursor of another
//! ordering is refused.

use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, Order, SelectStatement, SubQueryStatement, Value,
};
use sea_orm::{
    ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QueryResult,
    QuerySelect, QueryTrait, Select,
};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

mod sql;

pub use sql::Columns;
use sql::{count_of, literal_limit, read_total, TOTAL_COLUMN};

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

/// The cursor of the row with key `k` and id `id` in ordering `name`.
fn encode_cursor(name: &str, k: i64, id: Uuid) -> String {
    let mut bytes = Vec::with_capacity(CURSOR_HEAD + name.len());
    bytes.extend_from_slice(&k.to_be_bytes());
    bytes.extend_from_slice(id.as_bytes());
    bytes.extend_from_slice(name.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The place a cursor names in ordering `name`; `BAD_USER_INPUT` on `field` for anything that is
/// not a cursor of that ordering.
fn decode_cursor(field: &str, name: &str, cursor: &str) -> AppResult<Cursor> {
    let invalid = || AppError::bad_input(field, "This cursor is not valid.");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| invalid())?;
    let (Some(k), Some(id), Some(o)) = (
        bytes.get(..8).and_then(|b| b.try_into().ok()),
        bytes
            .get(8..CURSOR_HEAD)
            .and_then(|b| Uuid::from_slice(b).ok()),
        bytes.get(CURSOR_HEAD..),
    ) else {
        return Err(invalid());
    };
    if o != name.as_bytes() {
        return Err(AppError::bad_input(
            field,
            "This cursor belongs to another ordering.",
        ));
    }
    Ok(Cursor {
        k: i64::from_be_bytes(k),
        id,
    })
}

/// A cursor's key and id, before the ordering's name.
const CURSOR_HEAD: usize = 24;

/// How a sort key is kept in a cursor (always as an integer) and bound in SQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// An integer column or expression.
    Int,
    /// A timestamp, as microseconds since the epoch.
    Time,
    /// A calendar date, as days from the common era.
    Date,
}

impl KeyKind {
    fn bind(self, key: i64) -> Option<Value> {
        match self {
            Self::Int => Some(key.into()),
            Self::Time => DateTime::<Utc>::from_timestamp_micros(key).map(Into::into),
            Self::Date => i32::try_from(key)
                .ok()
                .and_then(NaiveDate::from_num_days_from_ce_opt)
                .map(Into::into),
        }
    }
}

pub fn time_key(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub fn date_key(d: NaiveDate) -> i64 {
    i64::from(chrono::Datelike::num_days_from_ce(&d))
}

/// One ordering of one connection: the key, how it is kept, and the direction; `id` breaks ties.
#[derive(Clone, Debug)]
pub struct Sort {
    /// Names the ordering in cursors, so a cursor of another ordering is refused.
    pub name: String,
    pub key: Expr,
    pub kind: KeyKind,
    pub id: Expr,
    pub descending: bool,
}

/// A place in an ordering: a row's key and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    k: i64,
    id: Uuid,
}

/// Which slice of the ordering a request asks for, from its Relay arguments.
#[derive(Clone, Debug)]
pub struct Window {
    pub limit: u64,
    /// `last` was given: the page ends at `before` (or at the end) instead of starting at `after`.
    pub backward: bool,
    after: Option<Cursor>,
    before: Option<Cursor>,
}

/// The Relay arguments of one connection field.
#[derive(Default, Clone, Debug)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    pub fn forward(first: Option<i32>, after: Option<String>) -> Self {
        Self {
            first,
            after,
            ..Self::default()
        }
    }

    /// Checks the arguments against the ordering they will page through.
    pub fn window(&self, sort: &Sort) -> AppResult<Window> {
        if self.first.is_some() && self.last.is_some() {
            return Err(AppError::bad_input("last", "Give first or last, not both."));
        }
        let backward = self.last.is_some();
        let limit = if backward {
            page_size("last", self.last)?
        } else {
            page_size("first", self.first)?
        };
        let cursor = |field: &str, value: &Option<String>| -> AppResult<Option<Cursor>> {
            let Some(value) = value else {
                return Ok(None);
            };
            let cursor = decode_cursor(field, &sort.name, value)?;
            if sort.kind.bind(cursor.k).is_none() {
                return Err(AppError::bad_input(field, "This cursor is not valid."));
            }
            Ok(Some(cursor))
        };
        Ok(Window {
            limit,
            backward,
            after: cursor("after", &self.after)?,
            before: cursor("before", &self.before)?,
        })
    }
}

/// A page of rows with their cursors.
pub struct Slice<M> {
    pub rows: Vec<(M, String)>,
    pub has_previous: bool,
    pub has_next: bool,
}

impl<M> Slice<M> {
    /// The same page with each row turned into something else (cursors kept).
    pub fn map<N>(self, f: impl FnMut(M) -> N) -> Slice<N> {
        let mut f = f;
        Slice {
            rows: self.rows.into_iter().map(|(m, c)| (f(m), c)).collect(),
            has_previous: self.has_previous,
            has_next: self.has_next,
        }
    }
}

impl Sort {
    pub fn new(
        name: impl Into<String>,
        key: Expr,
        kind: KeyKind,
        id: Expr,
        descending: bool,
    ) -> Self {
        Self {
            name: name.into(),
            key,
            kind,
            id,
            descending,
        }
    }

    pub fn cursor(&self, key: i64, id: Uuid) -> String {
        encode_cursor(&self.name, key, id)
    }

    /// Rows strictly past the cursor: later in the listing order when `later`, earlier otherwise.
    fn past(&self, cursor: &Cursor, later: bool) -> Expr {
        let greater = later != self.descending;
        let key = self.kind.bind(cursor.k).unwrap_or(Value::BigInt(None));
        let (k, id) = (self.key.clone(), self.id.clone());
        let (beyond_key, beyond_id) = if greater {
            (k.clone().gt(key.clone()), id.gt(cursor.id))
        } else {
            (k.clone().lt(key.clone()), id.lt(cursor.id))
        };
        beyond_key.or(k.eq(key).and(beyond_id))
    }

    /// The rows of the window, in listing order, with their cursors, and how many rows match in
    /// all when `with_total`. `key_of` reads the sort key of a row the same way the key
    /// expression computes it.
    pub async fn fetch<E: EntityTrait>(
        &self,
        db: &impl ConnectionTrait,
        select: Select<E>,
        window: &Window,
        with_total: bool,
        key_of: impl Fn(&E::Model) -> (i64, Uuid),
    ) -> AppResult<(Slice<E::Model>, Option<u64>)> {
        self.fetch_with(
            db,
            select,
            window,
            with_total,
            |_| {},
            |row| E::Model::from_query_result(row, ""),
            key_of,
        )
        .await
    }

    /// `fetch`, with the statement extended (joins, more columns) and each row decoded by the
    /// caller: related rows can come with the page in the same statement.
    ///
    /// The count, when asked for, comes in the same statement too, as a last column
    /// (`total_count`, one uncorrelated subquery that both databases run once): a statement less
    /// per counted page, with its round trip and its connection's check. An empty page carries
    /// no row to read it from; past a cursor its count then takes a statement of its own.
    #[allow(clippy::too_many_arguments)]
    pub async fn fetch_with<E: EntityTrait, R>(
        &self,
        db: &impl ConnectionTrait,
        select: Select<E>,
        window: &Window,
        with_total: bool,
        extend: impl FnOnce(&mut SelectStatement),
        decode: impl Fn(&QueryResult) -> Result<R, DbErr>,
        key_of: impl Fn(&R) -> (i64, Uuid),
    ) -> AppResult<(Slice<R>, Option<u64>)> {
        let count = with_total.then(|| count_of(select.clone()));
        let mut select = select;
        if let Some(after) = &window.after {
            select = select.filter(self.past(after, true));
        }
        if let Some(before) = &window.before {
            select = select.filter(self.past(before, false));
        }
        // A backward page reads the ordering in reverse from its end, then turns the rows round.
        let descending = self.descending != window.backward;
        let order = if descending { Order::Desc } else { Order::Asc };
        let mut query = select
            .order_by(self.key.clone(), order.clone())
            .order_by(self.id.clone(), order)
            .limit(window.limit + 1)
            .into_query();
        extend(&mut query);
        if let Some(count) = &count {
            query.expr_as(
                Expr::SubQuery(
                    None,
                    Box::new(SubQueryStatement::SelectStatement(count.clone())),
                ),
                Alias::new(TOTAL_COLUMN),
            );
        }
        let statement = literal_limit(db.get_database_backend().build(&query));
        let found = db.query_all_raw(statement).await?;
        let total = match (&count, found.first()) {
            (None, _) => None,
            (Some(_), Some(row)) => Some(read_total(row)?),
            // Nothing matches at all, or nothing past the cursor: only then is a count apart.
            (Some(_), None) if window.after.is_none() && window.before.is_none() => Some(0),
            (Some(count), None) => {
                let statement = db.get_database_backend().build(count);
                match db.query_one_raw(statement).await? {
                    Some(row) => Some(read_total(&row)?),
                    None => Some(0),
                }
            }
        };
        let mut rows = found
            .iter()
            .map(&decode)
            .collect::<Result<Vec<R>, DbErr>>()?;
        let more = rows.len() as u64 > window.limit;
        rows.truncate(window.limit as usize);
        if window.backward {
            rows.reverse();
        }
        Ok((self.finish(rows, more, window, key_of), total))
    }

    /// A page of rows (filtered by the viewer's rules) and, when selected, how many match in all.
    pub async fn page<E: EntityTrait>(
        &self,
        db: &impl ConnectionTrait,
        select: Select<E>,
        args: &PageArgs,
        with_total: bool,
        key_of: impl Fn(&E::Model) -> (i64, Uuid),
    ) -> AppResult<(Slice<E::Model>, Option<u64>)> {
        let window = args.window(self)?;
        self.fetch(db, select, &window, with_total, key_of).await
    }

    /// Rows of the window in listing order → the slice, with cursors and page info. `more`: rows
    /// beyond the window exist on its far side.
    fn finish<M>(
        &self,
        rows: Vec<M>,
        more: bool,
        window: &Window,
        key_of: impl Fn(&M) -> (i64, Uuid),
    ) -> Slice<M> {
        let rows = rows
            .into_iter()
            .map(|row| {
                let (key, id) = key_of(&row);
                let cursor = self.cursor(key, id);
                (row, cursor)
            })
            .collect();
        // Past a cursor there is, as far as we cheaply know, something on its other side.
        let (has_previous, has_next) = if window.backward {
            (more, window.before.is_some())
        } else {
            (window.after.is_some(), more)
        };
        Slice {
            rows,
            has_previous,
            has_next,
        }
    }
}

/// Slices rows already in memory, in listing order (small per-parent lists a DataLoader fetched
/// whole), with the same cursors and rules as a query would.
pub fn slice_loaded<M>(
    sort: &Sort,
    rows: Vec<M>,
    window: &Window,
    key_of: impl Fn(&M) -> (i64, Uuid),
) -> Slice<M> {
    let position = |c: &Cursor, k: i64, id: Uuid| {
        let ord = (k, id).cmp(&(c.k, c.id));
        if sort.descending {
            ord.reverse()
        } else {
            ord
        }
    };
    let mut kept: Vec<M> = rows
        .into_iter()
        .filter(|row| {
            let (k, id) = key_of(row);
            window
                .after
                .as_ref()
                .is_none_or(|c| position(c, k, id).is_gt())
                && window
                    .before
                    .as_ref()
                    .is_none_or(|c| position(c, k, id).is_lt())
        })
        .collect();
    let limit = window.limit as usize;
    let more = kept.len() > limit;
    if window.backward {
        kept.drain(..kept.len().saturating_sub(limit));
    } else {
        kept.truncate(limit);
    }
    sort.finish(kept, more, window, key_of)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sort(descending: bool) -> Sort {
        Sort::new(
            "T",
            Expr::cust("k"),
            KeyKind::Int,
            Expr::cust("id"),
            descending,
        )
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = uuid::Uuid::now_v7();
        let c = encode_cursor("UNIT_YEAR_ASC", -7, id);
        assert_eq!(
            decode_cursor("after", "UNIT_YEAR_ASC", &c).expect("ok"),
            Cursor { k: -7, id }
        );
        assert!(decode_cursor("after", "UNIT_YEAR_DESC", &c).is_err());
        assert!(decode_cursor("after", "UNIT_YEAR_ASC", "!!!").is_err());
        assert!(decode_cursor("after", "UNIT_YEAR_ASC", "e30").is_err());
        assert!(decode_cursor("after", "", &c[..20]).is_err());
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page_size("first", None).expect("ok"), 20);
        assert_eq!(page_size("first", Some(100)).expect("ok"), 100);
        assert!(page_size("first", Some(101)).is_err());
        assert!(page_size("first", Some(-1)).is_err());
    }

    #[test]
    fn a_cursor_of_another_ordering_is_refused() {
        let c = sort(true).cursor(5, Uuid::now_v7());
        let args = PageArgs::forward(Some(5), Some(c));
        assert!(args.window(&sort(true)).is_ok());
        let other = Sort::new("U", Expr::cust("k"), KeyKind::Int, Expr::cust("id"), true);
        assert!(args.window(&other).is_err());
    }

    #[test]
    fn loaded_rows_page_forward_and_backward() {
        let ids: Vec<Uuid> = (0..7).map(|_| Uuid::now_v7()).collect();
        let rows: Vec<(i64, Uuid)> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (i as i64 / 2, *id))
            .collect();
        let s = sort(false);
        let w = PageArgs::forward(Some(3), None).window(&s).expect("window");
        let first = slice_loaded(&s, rows.clone(), &w, |r| *r);
        assert_eq!(first.rows.len(), 3);
        assert!(first.has_next);
        let after = first.rows.last().map(|r| r.1.clone());
        let w = PageArgs::forward(Some(10), after)
            .window(&s)
            .expect("window");
        let rest = slice_loaded(&s, rows.clone(), &w, |r| *r);
        assert_eq!(rest.rows.len(), 4);
        assert!(!rest.has_next && rest.has_previous);
        let w = PageArgs {
            last: Some(2),
            ..PageArgs::default()
        }
        .window(&s)
        .expect("window");
        let tail = slice_loaded(&s, rows.clone(), &w, |r| *r);
        let tail_ids: Vec<Uuid> = tail.rows.iter().map(|r| r.0 .1).collect();
        assert_eq!(tail_ids, ids[5..].to_vec());
        assert!(tail.has_previous);
    }
}
