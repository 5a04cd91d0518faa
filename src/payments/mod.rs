//! Payments of bookings and sales: at the counter (`recordPayment`), online through the payment
//! provider (`startOnlinePayment` and the provider's webhook), refunds, and what came in
//! (`paymentStats`). What a booking or sale has paid is always summed from its payments.

pub mod entity;
pub mod graphql;
pub mod loaders;
pub mod service;
pub mod types;
