//! Offers and membership plans: discounts matched to a member's tier, car and location, and the
//! plan discount of each tier. Service appointments are priced through `service::discount`.

pub mod entity;
pub mod graphql;
pub mod loaders;
pub mod service;
pub mod types;
