//! CSV exports: `exportUrl` signs a URL for one staff member's export of one kind over some days;
//! `GET /exports/{kind}.csv?token=…` streams it. Each domain writes its own rows (its
//! `service::export` module: the same visibility as its queries); this module signs and checks the
//! grant, pages through the rows by id in batches, and writes them through the `csv` crate into
//! the response body, so memory does not grow with the row count.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::error::{AppError, AppResult};

pub mod grant;
pub mod graphql;
pub mod sheet;

/// What is exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
pub enum ExportKind {
    /// Every unit (by when it was added).
    Units,
    /// Sales (by the day sold).
    Sales,
    /// Bookings (by when they start).
    Bookings,
    /// Workshop service records (by when they were opened).
    ServiceRecords,
    /// Payments (by when they were made).
    Payments,
}

impl ExportKind {
    pub const ALL: [ExportKind; 5] = [
        Self::Units,
        Self::Sales,
        Self::Bookings,
        Self::ServiceRecords,
        Self::Payments,
    ];

    /// The file's name in the URL, without `.csv`.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Units => "units",
            Self::Sales => "sales",
            Self::Bookings => "bookings",
            Self::ServiceRecords => "service_records",
            Self::Payments => "payments",
        }
    }

    /// The kind a URL's file names (`units.csv`, `service_records.csv` …).
    pub fn from_file(file: &str) -> Option<Self> {
        let name = file.strip_suffix(".csv")?;
        Self::ALL.into_iter().find(|k| k.file_name() == name)
    }
}

/// The days an export covers: the showroom's local days `from` to `to`, both included (either may
/// be open), as dates and as instants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// The first instant of `from`.
    pub start: Option<DateTime<Utc>>,
    /// The first instant after `to`.
    pub end: Option<DateTime<Utc>>,
}

impl Span {
    /// The days as instants in the showroom's zone (`SHOWROOM_TIMEZONE`); `to` before `from` is
    /// refused.
    pub fn of(state: &AppState, from: Option<NaiveDate>, to: Option<NaiveDate>) -> AppResult<Self> {
        if let (Some(from), Some(to)) = (from, to) {
            if to < from {
                return Err(AppError::bad_input("to", "To must not be before from."));
            }
        }
        let zone = state.config.bookings.showroom_timezone;
        let bounds = |d: NaiveDate| {
            crate::bookings::types::day_bounds(zone, d)
                .ok_or_else(|| AppError::bad_input("from", "These dates are out of range."))
        };
        Ok(Self {
            from,
            to,
            start: from.map(bounds).transpose()?.map(|(s, _)| s),
            end: to.map(bounds).transpose()?.map(|(_, e)| e),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ExportKind;

    #[test]
    fn every_kind_is_found_by_its_file_name() {
        for kind in ExportKind::ALL {
            let file = format!("{}.csv", kind.file_name());
            assert_eq!(ExportKind::from_file(&file), Some(kind));
        }
        assert_eq!(ExportKind::from_file("units"), None);
        assert_eq!(ExportKind::from_file("users.csv"), None);
    }
}
