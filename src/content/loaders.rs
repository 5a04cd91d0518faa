//! The DataLoader of content: the TERMS version in effect, asked once per request however many
//! users' `mustAcceptTerms` a page resolves.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use super::service;
use crate::graphql::loaders::LoadError;

/// The one key of `Terms`: today's TERMS version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TermsInEffect;

crate::scoped_loaders!(
    /// The TERMS version in effect (None before the first takes effect).
    Terms,
);

impl Loader<TermsInEffect> for Terms {
    type Value = Option<i32>;
    type Error = LoadError;

    async fn load(
        &self,
        _keys: &[TermsInEffect],
    ) -> Result<HashMap<TermsInEffect, Option<i32>>, LoadError> {
        let version = service::terms_version(&self.0.state).await?;
        Ok(HashMap::from([(TermsInEffect, version)]))
    }
}
