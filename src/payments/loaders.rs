//! The DataLoaders of payments: the payments of a booking or sale (staff see all, a customer the
//! ones they made), and what they add up to (shown with the booking or sale they belong to).

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use super::entity::payment;
use super::service;
use super::types::{Subject, Totals};
use crate::graphql::loaders::LoadError;

crate::scoped_loaders!(
    /// A booking's or sale's payments, oldest first.
    Payments,
    /// What a booking's or sale's payments add up to.
    PaymentTotals,
);

impl Loader<Subject> for Payments {
    type Value = Vec<payment::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[Subject],
    ) -> Result<HashMap<Subject, Vec<payment::Model>>, LoadError> {
        Ok(service::payments_of(&self.0.state.db, &self.0.viewer, keys).await?)
    }
}

impl Loader<Subject> for PaymentTotals {
    type Value = Totals;
    type Error = LoadError;

    async fn load(&self, keys: &[Subject]) -> Result<HashMap<Subject, Totals>, LoadError> {
        Ok(service::totals_of(&self.0.state.db, keys).await?)
    }
}
