//! Units: the vehicles customers keep here and the dealership's stock, with
//! their photos. Search, filters and keyset pages over four orderings; who sees and changes what.

pub mod entity;
pub mod graphql;
pub mod loaders;
pub mod page;
pub mod service;
pub mod types;
