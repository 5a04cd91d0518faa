//! The GraphQL face of presigned uploads: `createUploadUrl`.

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::service;
use crate::graphql::{state, to_id, viewer};

/// Where and how to upload one file outside GraphQL.
#[derive(SimpleObject)]
pub struct UploadTicket {
    /// Names the file in `addUnitPhoto`, `uploadAvatar` or `sendFileMessage` once uploaded.
    upload_id: ID,
    /// Where to send the file (signed; it works once, until `expiresAt`).
    url: String,
    /// The HTTP method: PUT, the bytes as the body.
    method: String,
    /// When the URL stops working.
    expires_at: DateTime<Utc>,
    /// The most bytes the body may have (the declared size).
    max_bytes: i32,
}

#[derive(Default)]
pub struct UploadsMutation;

#[Object]
impl UploadsMutation {
    /// A URL to PUT one file of the declared type and at most the declared size, valid 15
    /// minutes; the file is kept 24 hours unless an operation attaches it by `uploadId`.
    async fn create_upload_url(
        &self,
        ctx: &Context<'_>,
        file_name: String,
        content_type: String,
        size: i32,
    ) -> Result<UploadTicket> {
        let ticket = service::create_ticket(
            state(ctx)?,
            viewer(ctx)?,
            &file_name,
            &content_type,
            i64::from(size),
        )
        .await?;
        Ok(UploadTicket {
            upload_id: to_id(ticket.id),
            url: ticket.url,
            method: "PUT".into(),
            expires_at: ticket.expires_at,
            max_bytes: i32::try_from(ticket.max_bytes).unwrap_or(i32::MAX),
        })
    }
}
