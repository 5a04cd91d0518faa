//! Bookings: test drives of units on sale and service appointments at the service locations,
//! the service catalog with its prices per make and model, availability computed in each place's
//! time zone, the transition table, and the reminder before each confirmed booking.

pub mod entity;
pub mod graphql;
pub mod loaders;
pub mod service;
pub mod types;
