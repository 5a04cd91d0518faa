//! GraphQL over HTTP: the media type a response is sent in, chosen by `Accept`, and the status
//! codes that go with it.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::BatchResponse;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// A request that cannot run at all, in the GraphQL response shape.
pub(super) fn request_error(
    media: Media,
    status: StatusCode,
    message: String,
    field: &str,
) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": "BAD_USER_INPUT", "field": field } }]
    });
    media.body(status, body.to_string().into_bytes())
}

/// The size of the last response written (up to `MAX_HINT`): the next one's buffer starts that
/// large, so a page of units is written without growing (and copying) its buffer a dozen times.
static LAST_SIZE: AtomicUsize = AtomicUsize::new(1024);
const MAX_HINT: usize = 64 * 1024;

/// The media type of a response (GraphQL over HTTP): `application/graphql-response+json` when
/// the client prefers it, else `application/json` (also for `*/*`, no `Accept`, or anything
/// else).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Media {
    Json,
    GraphQLResponse,
}

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

impl Media {
    /// The type the `Accept` header prefers: the highest `q`, the first listed on a tie.
    pub(super) fn accepted(headers: &HeaderMap) -> Self {
        let mut best = (Self::Json, 0.0f32);
        let mut found = false;
        for value in headers.get_all(header::ACCEPT) {
            let Ok(value) = value.to_str() else { continue };
            for item in value.split(',') {
                let mut parts = item.split(';');
                let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
                let q = parts
                    .filter_map(|p| p.trim().strip_prefix("q="))
                    .find_map(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                let media = match essence.as_str() {
                    GRAPHQL_RESPONSE_JSON => Self::GraphQLResponse,
                    "application/json" | "*/*" | "application/*" => Self::Json,
                    _ => continue,
                };
                if q > 0.0 && (!found || q > best.1) {
                    best = (media, q);
                    found = true;
                }
            }
        }
        best.0
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::GraphQLResponse => "application/graphql-response+json; charset=utf-8",
        }
    }

    fn body(self, status: StatusCode, body: Vec<u8>) -> Response {
        (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(self.content_type()),
            )],
            body,
        )
            .into_response()
    }

    /// A GraphQL response. With `application/graphql-response+json`, a single operation that
    /// never ran (it did not parse, validate or coerce its variables: no data, errors without
    /// a path) is a 400 without a `data` entry; otherwise, and always with `application/json`,
    /// 200.
    pub(super) fn respond(self, response: &BatchResponse) -> Response {
        if let (Self::GraphQLResponse, BatchResponse::Single(single)) = (self, response) {
            let never_ran = single.data == async_graphql::Value::Null
                && !single.errors.is_empty()
                && single.errors.iter().all(|e| e.path.is_empty());
            if never_ran {
                let body = serde_json::json!({ "errors": single.errors });
                return self.body(StatusCode::BAD_REQUEST, body.to_string().into_bytes());
            }
        }
        let mut body = Vec::with_capacity(LAST_SIZE.load(Ordering::Relaxed));
        match serde_json::to_writer(&mut body, response) {
            Ok(()) => {
                LAST_SIZE.store(body.len().min(MAX_HINT), Ordering::Relaxed);
                self.body(StatusCode::OK, body)
            }
            Err(err) => {
                tracing::error!(error = %err, "a response did not serialize");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}
