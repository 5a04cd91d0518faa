//! Telemetry: OBD dongles linked to units, the samples they send in batches (which keep the
//! unit's mileage current), and reading them back by time range with a summary.

pub mod entity;
pub mod graphql;
pub mod loaders;
pub mod service;
