//! Schema assembly and what every domain's GraphQL face shares: context access, ids, cursors,
//! DataLoaders, and the cache of parsed documents.

pub mod checks;
mod coerce;
pub mod documents;
pub mod fanout;
pub mod guarded;
pub mod in_place;
pub mod loaders;
pub mod pagination;
pub mod schema;

use async_graphql::{Context, ID};
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::viewer::ClientInfo;
use crate::auth::Viewer;
use crate::error::AppError;

/// The application state the schema was built with.
pub fn state<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a AppState> {
    ctx.data::<AppState>()
}

/// Who is asking; every request carries one (anonymous when no token was sent).
pub fn viewer<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Viewer> {
    ctx.data::<Viewer>()
}

pub fn client<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a ClientInfo> {
    ctx.data::<ClientInfo>()
}

pub use loaders::loader;

/// An `ID` argument as a UUID; anything else is `BAD_USER_INPUT` naming the argument.
pub fn parse_id(field: &str, id: &ID) -> Result<Uuid, AppError> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| AppError::bad_input(field, format!("{field} is not a valid ID.")))
}

/// An optional `ID` argument as a UUID.
pub fn parse_optional_id(field: &str, id: Option<&ID>) -> Result<Option<Uuid>, AppError> {
    id.map(|id| parse_id(field, id)).transpose()
}

pub fn to_id(id: Uuid) -> ID {
    ID(id.to_string())
}

/// Reads an uploaded file (async-graphql keeps it in a temporary file) off the async threads.
pub async fn read_upload(
    ctx: &Context<'_>,
    upload: &async_graphql::Upload,
) -> async_graphql::Result<crate::media::Incoming> {
    use std::io::Read;
    let value = upload
        .value(ctx)
        .map_err(|_| AppError::bad_input("file", "The file is missing from the request."))?;
    let file_name = value.filename.clone();
    let mut content = value.content;
    let bytes = tokio::task::spawn_blocking(move || {
        let mut bytes = Vec::new();
        content.read_to_end(&mut bytes).map(|_| bytes)
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)?;
    Ok(crate::media::Incoming { file_name, bytes })
}

/// The file of an operation that takes `file: Upload` or `uploadId: ID`: exactly one of them.
pub async fn read_file(
    ctx: &Context<'_>,
    file: Option<&async_graphql::Upload>,
    upload_id: Option<&ID>,
) -> async_graphql::Result<crate::media::FileSource> {
    use crate::media::FileSource;
    match (file, upload_id) {
        (Some(file), None) => Ok(FileSource::Sent(read_upload(ctx, file).await?)),
        (None, Some(id)) => Ok(FileSource::Uploaded(parse_id("uploadId", id)?)),
        _ => Err(AppError::bad_input("file", "Send either file or uploadId, not both.").into()),
    }
}

/// Every error carries `extensions.code` (docs/api.md lists them): errors from our resolvers have one
/// already; what remains came from parsing or validating the query (no path), which is the
/// client's input and so `BAD_USER_INPUT` on `query`, or is unexpected (logged, then hidden).
pub fn give_codes(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_some() {
            continue;
        }
        if error.path.is_empty() {
            extensions.set("code", "BAD_USER_INPUT");
            extensions.set("field", "query");
        } else if is_input_error(&error.message) {
            // An argument async-graphql could not parse that `Checks` let through: still the
            // client's value.
            tracing::debug!(error = %error.message, "argument refused while resolving");
            extensions.set("code", "BAD_USER_INPUT");
            extensions.set("field", "query");
        } else {
            tracing::error!(error = %error.message, "unexpected resolver error");
            extensions.set("code", "INTERNAL_SERVER_ERROR");
            error.message = "Something went wrong on our side. Please try again.".into();
        }
    }
}

/// async-graphql's messages for a value that does not parse as its input type.
fn is_input_error(message: &str) -> bool {
    [
        "Failed to parse \"",
        "Expected input type \"",
        "Invalid value for argument",
    ]
    .iter()
    .any(|start| message.starts_with(start))
}

/// What a subscriber that fell behind is told: `CONFLICT` (what it shows is out of date: fetch
/// again), with the number of events in `extensions.missed`.
pub fn missed(count: u64) -> async_graphql::Error {
    use async_graphql::ErrorExtensions;
    async_graphql::Error::from(crate::error::AppError::conflict(format!(
        "{count} events were missed because this subscription fell behind."
    )))
    .extend_with(|_, ext| ext.set("missed", count))
}
