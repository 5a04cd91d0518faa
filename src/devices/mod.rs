//! Devices registered for push notifications, and the push queue: a notification is also sent
//! to each device of its recipient who has no open socket, through `PUSH_GATEWAY_URL`, from a
//! table (`push_jobs`) so a restart loses nothing, with retries and backoff.

pub mod entity;
pub mod events;
pub mod graphql;
pub mod service;
