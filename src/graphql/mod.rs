//! Schema assembly and what every domain's GraphQL face shares: context access, ids, cursors,
//! DataLoaders, and the cache of parsed documents.

pub mod documents;
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

/// The request's DataLoaders; on a WebSocket, the connection's, made when first needed (most
/// sockets never resolve a relation, and there are thousands of them).
pub fn loaders<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a loaders::Loaders> {
    match ctx.data_opt::<loaders::Loaders>() {
        Some(loaders) => Ok(loaders),
        None => Ok(ctx.data::<loaders::LazyLoaders>()?.get()),
    }
}

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
