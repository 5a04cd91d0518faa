//! An export as a stream of CSV: the header, then the rows in batches of `BATCH` read by id from
//! the domain that owns them, each batch written through the `csv` crate (RFC 4180: quoted where
//! needed, CRLF line ends) and handed to the response body before the next is read.

use std::borrow::Cow;

use axum::body::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::Stream;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use uuid::Uuid;

use super::{ExportKind, Span};
use crate::app::AppState;
use crate::auth::Viewer;
use crate::error::AppResult;

/// Rows read per statement.
pub const BATCH: u64 = 500;

/// Rows of an export: each row's id (the paging key) and its cells.
pub type Rows = Vec<(Uuid, Vec<String>)>;

/// Narrows an export's query to the batch after `after`, in id order (UUIDv7: the order rows
/// were made).
pub fn batch_of<E: EntityTrait>(
    query: Select<E>,
    id: E::Column,
    after: Option<Uuid>,
    limit: u64,
) -> Select<E> {
    let query = match after {
        Some(after) => query.filter(id.gt(after)),
        None => query,
    };
    query.order_by_asc(id).limit(limit)
}

/// Narrows an export's query to the span's instants on `column` (`[start, end)`).
pub fn within<E: EntityTrait>(query: Select<E>, column: E::Column, span: &Span) -> Select<E> {
    let query = match span.start {
        Some(start) => query.filter(column.gte(start)),
        None => query,
    };
    match span.end {
        Some(end) => query.filter(column.lt(end)),
        None => query,
    }
}

/// A cell of an optional value: empty when absent.
pub fn cell<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// A cell of an amount in cents: `"171.00"`.
pub fn amount(cents: Option<i64>) -> String {
    cell(cents.map(crate::money::decimal))
}

/// A cell of an instant: RFC 3339 in UTC, to the second.
pub fn instant(at: Option<DateTime<Utc>>) -> String {
    cell(at.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)))
}

/// A cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, carriage return at its
/// start) is prefixed with `'`, so it shows as text and runs nothing.
pub fn guard(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// The header of a kind's file.
pub fn header(kind: ExportKind) -> &'static [&'static str] {
    match kind {
        ExportKind::Units => &crate::units::service::EXPORT_HEADER,
        ExportKind::Sales => &crate::sales::service::EXPORT_HEADER,
        ExportKind::Bookings => &crate::bookings::service::EXPORT_HEADER,
        ExportKind::ServiceRecords => &crate::workshop::service::EXPORT_HEADER,
        ExportKind::Payments => &crate::payments::service::EXPORT_HEADER,
    }
}

/// The next batch of a kind's rows the viewer sees, from the domain that owns them.
async fn batch(
    state: &AppState,
    viewer: &Viewer,
    kind: ExportKind,
    span: &Span,
    after: Option<Uuid>,
) -> AppResult<Rows> {
    let db = &state.db;
    match kind {
        ExportKind::Units => {
            crate::units::service::export_rows(db, viewer, span, after, BATCH).await
        }
        ExportKind::Sales => {
            crate::sales::service::export_rows(db, viewer, span, after, BATCH).await
        }
        ExportKind::Bookings => {
            crate::bookings::service::export_rows(db, viewer, span, after, BATCH).await
        }
        ExportKind::ServiceRecords => {
            crate::workshop::service::export_rows(db, viewer, span, after, BATCH).await
        }
        ExportKind::Payments => {
            crate::payments::service::export_rows(db, viewer, span, after, BATCH).await
        }
    }
}

/// Writes records as CSV.
fn write<'a>(records: impl IntoIterator<Item = Vec<Cow<'a, str>>>) -> std::io::Result<Bytes> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(64 * 1024));
    for record in records {
        writer
            .write_record(record.iter().map(|c| c.as_bytes()))
            .map_err(std::io::Error::other)?;
    }
    writer
        .into_inner()
        .map(Bytes::from)
        .map_err(|e| std::io::Error::other(e.to_string()))
}

enum Next {
    Header,
    After(Option<Uuid>),
    Done,
}

/// The export as body chunks. A failure midway ends the body with an error, so the client sees a
/// broken download rather than a file that looks complete.
pub fn stream(
    state: AppState,
    viewer: Viewer,
    kind: ExportKind,
    span: Span,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::unfold(Next::Header, move |next| {
        let (state, viewer) = (state.clone(), viewer.clone());
        async move {
            match next {
                Next::Done => None,
                Next::Header => {
                    let record = header(kind).iter().map(|h| Cow::Borrowed(*h)).collect();
                    let chunk = write([record]);
                    Some((chunk, Next::After(None)))
                }
                Next::After(after) => match batch(&state, &viewer, kind, &span, after).await {
                    Ok(rows) if rows.is_empty() => None,
                    Ok(rows) => {
                        let last = rows.last().map(|(id, _)| *id);
                        let full = rows.len() as u64 == BATCH;
                        let chunk = write(
                            rows.iter()
                                .map(|(_, cells)| cells.iter().map(|c| guard(c)).collect()),
                        );
                        Some((chunk, if full { Next::After(last) } else { Next::Done }))
                    }
                    Err(err) => {
                        tracing::error!(?kind, error = ?err, "export failed midway");
                        Some((Err(std::io::Error::other("the export failed")), Next::Done))
                    }
                },
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::guard;

    #[test]
    fn cells_that_start_a_formula_are_quoted_as_text() {
        for bad in ["=HYPERLINK(\"x\")", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(guard(bad), format!("'{bad}"));
        }
        for fine in ["Toyota", "", "171.00", "a=b", "'quoted"] {
            assert_eq!(guard(fine), fine);
        }
    }
}
