//! The GraphQL face of exports: `exportUrl`.

use async_graphql::{Context, Object, Result};
use chrono::NaiveDate;

use super::{grant, ExportKind};
use crate::graphql::{state, viewer};

#[derive(Default)]
pub struct ExportsMutation;

#[Object]
impl ExportsMutation {
    /// Staff get a signed URL of a CSV export (valid 5 minutes): `GET` it to download the rows
    /// they see of `kind`, over the showroom's days `from` to `to` (both included; either open).
    async fn export_url(
        &self,
        ctx: &Context<'_>,
        kind: ExportKind,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<String> {
        Ok(grant::export_url(
            state(ctx)?,
            viewer(ctx)?,
            kind,
            from,
            to,
        )?)
    }
}
