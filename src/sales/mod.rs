//! Sales and staff performance: recorded sales (a unit is sold at most once),
//! commissions, the sales summary and each staff member's metrics.

pub mod entity;
pub mod graphql;
pub mod loaders;
pub mod service;
