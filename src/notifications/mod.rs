//! Notifications: stored for one user, then pushed live.

pub mod entity;
pub mod events;
pub mod graphql;
pub mod service;
