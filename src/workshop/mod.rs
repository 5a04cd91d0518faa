//! The workshop: service records of units, their status transitions, and the
//! unit's IN_SERVICE status that follows them.

pub mod entity;
pub mod graphql;
pub mod loaders;
pub mod service;
