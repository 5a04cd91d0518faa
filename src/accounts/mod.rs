//! Accounts and authentication: customers sign up, verify their email and sign in
//! by password or by a texted code; sessions hold rotating refresh tokens; staff and admins
//! manage accounts. Contact details are private to the user and staff.

pub mod entity;
pub mod graphql;
pub mod loaders;
pub mod service;
pub mod types;

pub use entity::{AccountStatus, MembershipTier, Role};
