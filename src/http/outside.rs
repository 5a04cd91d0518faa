//! The endpoints outside GraphQL that payments and exports need: the payment provider's webhook
//! and the CSV downloads.

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::HttpState;
use crate::exports::{grant, sheet, ExportKind};
use crate::payments::service::{receive_webhook, WebhookOutcome, WebhookRefusal};

/// `POST /webhooks/payments`: the provider's word on an order, signed over the raw body.
pub(super) async fn payment_webhook(
    State(state): State<HttpState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let signature = headers.get("x-signature").and_then(|v| v.to_str().ok());
    match receive_webhook(&state.app, &body, signature).await {
        Ok(outcome) => {
            let said = match outcome {
                WebhookOutcome::Applied => "applied",
                WebhookOutcome::Replayed => "already received",
                WebhookOutcome::Ignored => "nothing to change",
            };
            (StatusCode::OK, said).into_response()
        }
        Err(WebhookRefusal::Unsigned) => {
            (StatusCode::UNAUTHORIZED, "Bad or missing X-Signature.").into_response()
        }
        Err(WebhookRefusal::Malformed(why)) => (StatusCode::BAD_REQUEST, why).into_response(),
        Err(WebhookRefusal::Failed(_)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "The event could not be stored; send it again.",
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
pub(super) struct ExportQuery {
    token: Option<String>,
}

/// `GET /exports/{kind}.csv?token=…`: the export the token grants, streamed.
pub(super) async fn export(
    State(state): State<HttpState>,
    Path(file): Path<String>,
    Query(query): Query<ExportQuery>,
) -> Response {
    let Some(kind) = ExportKind::from_file(&file) else {
        return (StatusCode::NOT_FOUND, "No such export.").into_response();
    };
    let Some((viewer, span)) = grant::open(&state.app, kind, query.token.as_deref()).await else {
        return (
            StatusCode::FORBIDDEN,
            "This export link is altered or has expired; ask for a new one.",
        )
            .into_response();
    };
    let body = Body::from_stream(sheet::stream(state.app.clone(), viewer, kind, span));
    let disposition = format!("attachment; filename=\"{file}\"");
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8; header=present"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
