//! Referrals: every user has a code; signing up with someone's code records a
//! PENDING referral, which becomes QUALIFIED when the new user verifies their email.

pub mod entity;
pub mod graphql;
pub mod service;
pub mod types;

pub use entity::ReferralStatus;
