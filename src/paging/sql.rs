//! The SQL side of a page: reading a row by position, the count column a counted page carries,
//! and the page size written into the statement.

use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement, Value};
use sea_orm::{
    DbBackend, DbErr, EntityTrait, QueryResult, QueryTrait, Select, Statement, TryGetable,
};

/// Reads a row by position, in select order. A joined page decodes a few hundred values; by
/// position it skips a name lookup per value and the prefixed name (`o_first_name`) that
/// `from_query_result(row, "o_")` builds for each (see `benches/units.rs`).
pub struct Columns<'a> {
    row: &'a QueryResult,
    at: usize,
}

impl<'a> Columns<'a> {
    pub fn new(row: &'a QueryResult) -> Self {
        Self { row, at: 0 }
    }

    /// The next column's value.
    pub fn read<T: TryGetable>(&mut self) -> Result<T, DbErr> {
        let value = self.row.try_get_by_index(self.at);
        self.at += 1;
        value
    }

    /// Passes over `n` columns (those of a row a LEFT JOIN did not find).
    pub fn skip(&mut self, n: usize) {
        self.at += n;
    }
}

/// The column a counted page's statement carries its count in.
pub(super) const TOTAL_COLUMN: &str = "total_count";

/// `SELECT COUNT(*) AS total_count FROM (<select>)`: a page's count, inside the page's statement
/// or on its own.
pub(super) fn count_of<E: EntityTrait>(select: Select<E>) -> SelectStatement {
    Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new(TOTAL_COLUMN))
        .from_subquery(select.into_query(), Alias::new("sub_query"))
        .to_owned()
}

/// The count a row of `count_of` (or of a page that carries it) holds.
pub(super) fn read_total(row: &QueryResult) -> Result<u64, DbErr> {
    Ok(u64::try_from(row.try_get::<i64>("", TOTAL_COLUMN)?).unwrap_or(0))
}

/// A page's size is written into its SQL, not bound as a parameter (which is how sea-query writes
/// `LIMIT`). A page size is a number we computed, and a bound one costs each page its plan:
/// - SQLite (3.51, as bundled) re-prepares a statement on every run when its `LIMIT` is bound: a
///   third of a page request's time went to parsing SQL again.
/// - PostgreSQL plans a prepared statement whose `LIMIT` is a parameter for every run: its
///   generic plan, costed for an unknown limit (a tenth of the rows), never beats a plan made for
///   the values. With the size in the SQL it keeps one generic plan per statement after its first
///   five runs; planning the joined units page had cost more of PostgreSQL's time than running it.
pub(super) fn literal_limit(mut statement: Statement) -> Statement {
    let placeholder = match statement.db_backend {
        DbBackend::Sqlite => "?".to_string(),
        DbBackend::Postgres => format!("${}", statement.values.as_ref().map_or(0, |v| v.0.len())),
        _ => return statement,
    };
    let Some(keep) = statement
        .sql
        .strip_suffix(placeholder.as_str())
        .filter(|head| head.ends_with("LIMIT "))
        .map(str::len)
    else {
        return statement;
    };
    let limit = match statement.values.as_mut().and_then(|v| v.0.pop()) {
        Some(Value::BigUnsigned(Some(n))) => n.to_string(),
        Some(Value::BigInt(Some(n))) => n.to_string(),
        Some(Value::Unsigned(Some(n))) => n.to_string(),
        Some(Value::Int(Some(n))) => n.to_string(),
        Some(other) => {
            // Not a number we know: put it back and leave the statement as it was.
            if let Some(values) = statement.values.as_mut() {
                values.0.push(other);
            }
            return statement;
        }
        None => return statement,
    };
    statement.sql.truncate(keep);
    statement.sql.push_str(&limit);
    statement
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_are_written_into_the_sql() {
        let statement = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT 1 FROM t WHERE a = ? LIMIT ?",
            [Value::from(true), Value::from(21u64)],
        );
        let statement = literal_limit(statement);
        assert_eq!(statement.sql, "SELECT 1 FROM t WHERE a = ? LIMIT 21");
        assert_eq!(statement.values.map(|v| v.0.len()), Some(1));
        let pg = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 FROM t WHERE a = $1 LIMIT $2",
            [Value::from(true), Value::from(21u64)],
        );
        let pg = literal_limit(pg);
        assert_eq!(pg.sql, "SELECT 1 FROM t WHERE a = $1 LIMIT 21");
        assert_eq!(pg.values.map(|v| v.0.len()), Some(1));
        // A last placeholder that is not the limit, or a limit that is not the last value.
        let other = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 FROM t WHERE a = $1",
            [Value::from(21u64)],
        );
        assert_eq!(literal_limit(other).sql, "SELECT 1 FROM t WHERE a = $1");
        let odd = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 FROM t LIMIT $1",
            [Value::from(21u64), Value::from(true)],
        );
        assert_eq!(literal_limit(odd).sql, "SELECT 1 FROM t LIMIT $1");
    }
}
