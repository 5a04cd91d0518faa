//! The HTTP face: `/graphql` (GraphiQL on GET, operations on POST), `/health`, `/ready`,
//! `/metrics`, and the layers every request passes (request id, trace span, timeout, CORS,
//! body limit).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::{GraphiQLSource, WebSocketProtocols, ALL_WEBSOCKET_PROTOCOLS};
use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, BatchResponse, Request, ValidationMode};
use async_graphql_axum::GraphQLResponse;
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::app::AppState;
use crate::auth::viewer::ClientInfo;
use crate::auth::Viewer;
use crate::config::CorsOrigins;
use crate::graphql::documents::Documents;
use crate::graphql::loaders::Loaders;
use crate::graphql::schema::{self, AppSchema};

#[derive(Clone)]
struct HttpState {
    app: AppState,
    schema: AppSchema,
    /// The same schema, validating only what depends on a request's variables: for requests
    /// that repeat one that passed full validation (see `Documents`).
    revalidating: AppSchema,
    documents: Arc<Documents>,
    graphiql: Option<String>,
}

/// How many parsed query texts the server keeps.
const CACHED_DOCUMENTS: usize = 512;

pub fn router(app: AppState) -> Router {
    let config = &app.config;
    let build = |mode: ValidationMode| {
        let builder = schema::builder(&config.limits)
            .data(app.clone())
            .validation_mode(mode);
        if config.introspection_enabled {
            builder.finish()
        } else {
            builder.disable_introspection().finish()
        }
    };
    let graphiql = config
        .graphiql_enabled
        .then(|| graphiql_page(config.graphiql_cdn_url.as_deref()));
    let limits = config.limits.clone();
    let uploads_limit = config.uploads.max_body_bytes;
    let cors = cors_layer(&config.cors_origins);
    let state = HttpState {
        schema: build(ValidationMode::Strict),
        revalidating: build(ValidationMode::Fast),
        documents: Arc::new(Documents::new(CACHED_DOCUMENTS)),
        app: app.clone(),
        graphiql,
    };

    Router::new()
        .route("/graphql", get(graphiql_handler).post(graphql_handler))
        .route("/graphql/ws", get(subscriptions_handler))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/media/{*path}", get(media))
        .with_state(state)
        // Innermost, on its own: a ceiling for every body; the GraphQL handler applies the tighter
        // limit of its content type (JSON or multipart) while it streams the body in.
        .layer(RequestBodyLimitLayer::new(
            limits.max_body_bytes.max(uploads_limit),
        ))
        .layer(middleware::from_fn_with_state(app, count_request))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                    let request_id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id)
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(cors)
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    limits.request_timeout,
                )),
        )
}

fn graphiql_page(cdn: Option<&str>) -> String {
    let page = GraphiQLSource::build()
        .endpoint("/graphql")
        .subscription_endpoint("/graphql/ws")
        .title("AutoHub GraphiQL")
        .finish();
    match cdn {
        // For offline deployments: a mirror laid out like the public CDN.
        Some(cdn) => page.replace("https://unpkg.com", cdn.trim_end_matches('/')),
        None => page,
    }
}

fn cors_layer(origins: &CorsOrigins) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(3600));
    match origins {
        CorsOrigins::Any => layer.allow_origin(AllowOrigin::any()),
        CorsOrigins::List(list) => {
            let values: Vec<HeaderValue> = list.iter().filter_map(|o| o.parse().ok()).collect();
            layer.allow_origin(AllowOrigin::list(values))
        }
    }
}

async fn count_request(
    State(app): State<AppState>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    app.metrics.record_http_request();
    next.run(request).await
}

async fn graphiql_handler(State(state): State<HttpState>) -> Response {
    match state.graphiql {
        Some(page) => Html(page).into_response(),
        None => (StatusCode::NOT_FOUND, "GraphiQL is disabled.").into_response(),
    }
}

/// Runs a query, a mutation, or a batch of them; multipart bodies (the GraphQL multipart request
/// spec) carry uploads. The viewer is resolved once from the `Authorization` header; each
/// operation gets its own DataLoaders.
async fn graphql_handler(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
) -> Response {
    let headers = request.headers().clone();
    let batch = match read_operations(&state.app.config, request).await {
        Ok(batch) => batch,
        Err(response) => return response,
    };
    let max = state.app.config.limits.max_batch;
    match &batch {
        BatchRequest::Batch(items) if items.is_empty() => {
            return request_error(
                StatusCode::BAD_REQUEST,
                "A batch must hold at least one operation.".into(),
                "query",
            );
        }
        BatchRequest::Batch(items) if items.len() > max => {
            return request_error(
                StatusCode::BAD_REQUEST,
                format!("A batch may hold at most {max} operations."),
                "query",
            );
        }
        _ => {}
    }
    let viewer = Viewer::from_headers(&state.app, &headers).await;
    let client = client_info(&headers, peer, state.app.config.trust_forwarded_for);
    let prepare = |request: Request| {
        request
            .data(viewer.clone())
            .data(client.clone())
            .data(Loaders::new(
                state.app.db.clone(),
                state.app.config.dataloader_delay,
                viewer.user_id(),
            ))
    };
    let response = match batch {
        BatchRequest::Single(request) => BatchResponse::Single(run(&state, prepare(request)).await),
        BatchRequest::Batch(items) => {
            let mut responses = Vec::with_capacity(items.len());
            for request in items {
                responses.push(run(&state, prepare(request)).await);
            }
            BatchResponse::Batch(responses)
        }
    };
    GraphQLResponse::from(response).into_response()
}

/// Runs one operation: its parsed document comes from the cache (with full validation skipped
/// when it passed before), and it is counted and timed for `/metrics` by the type of operation
/// it runs (`invalid` when it does not parse).
async fn run(state: &HttpState, mut request: Request) -> async_graphql::Response {
    let started = std::time::Instant::now();
    let prepared = state.documents.prepare(&mut request);
    let kind = match prepared.kind {
        Some(OperationType::Query) => 0,
        Some(OperationType::Mutation) => 1,
        Some(OperationType::Subscription) => 2,
        None => 3,
    };
    let schema = if prepared.validated {
        &state.revalidating
    } else {
        &state.schema
    };
    let mut response = schema.execute(request).await;
    let clean = response.errors.is_empty();
    state
        .app
        .metrics
        .record_operation(kind, clean, started.elapsed());
    if clean {
        state.documents.passed(prepared);
    }
    give_codes(&mut response);
    response
}

/// Where a request comes from: its address (see `client_ip`) and user agent.
fn client_info(headers: &HeaderMap, peer: SocketAddr, trust_forwarded_for: bool) -> ClientInfo {
    ClientInfo {
        ip: Some(client_ip(headers, peer, trust_forwarded_for)),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    }
}

/// Upgrades to a WebSocket for subscriptions, in the protocol the client asked for (the first of
/// `Sec-WebSocket-Protocol` that we speak; graphql-transport-ws when none is named).
async fn subscriptions_handler(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let named = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let protocol = named
        .split(',')
        .find_map(|p| p.trim().parse::<WebSocketProtocols>().ok())
        .unwrap_or(WebSocketProtocols::GraphQLWS);
    let client = client_info(&headers, peer, state.app.config.trust_forwarded_for);
    // Small buffers: a server holds thousands of mostly idle sockets, and what clients send here
    // (init, subscribe, ping) is small; tungstenite's defaults are 128 KiB each way.
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .max_message_size(64 * 1024)
        .max_frame_size(64 * 1024)
        .on_upgrade(move |socket| {
            crate::ws::serve(state.app, state.schema, protocol, client, socket)
        })
}

/// The body went past its limit while being read.
#[derive(Debug)]
struct BodyTooLarge;

impl std::fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("body too large")
    }
}

impl std::error::Error for BodyTooLarge {}

/// Reads the operations of a request: JSON within `MAX_BODY_BYTES`, or a multipart upload within
/// the upload limits (each file, the number of files, the whole body). A file over its limit is
/// refused while it streams in, so it is never stored.
async fn read_operations(
    config: &crate::config::Config,
    request: axum::extract::Request,
) -> Result<BatchRequest, Response> {
    use futures_util::TryStreamExt;
    use tokio_util::compat::TokioAsyncReadCompatExt;

    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let multipart = content_type
        .as_deref()
        .is_some_and(|t| t.starts_with("multipart/"));
    let uploads = &config.uploads;
    let limit = if multipart {
        uploads.max_body_bytes
    } else {
        config.limits.max_body_bytes
    };
    let too_large = || {
        request_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The request body may be at most {limit} bytes."),
            "query",
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let body = http_body_util::Limited::new(request.into_body(), limit);
    let stream = axum::body::Body::new(body)
        .into_data_stream()
        .map_err(|err| {
            let over = std::error::Error::source(&err)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if over {
                std::io::Error::other(BodyTooLarge)
            } else {
                std::io::Error::other(err.to_string())
            }
        });
    let reader = tokio_util::io::StreamReader::new(stream).compat();
    let options = async_graphql::http::MultipartOptions::default()
        .max_file_size(uploads.max_file_bytes)
        .max_num_files(uploads.max_files);
    let batch = async_graphql::http::receive_batch_body(content_type, reader, options).await;
    let batch = match batch {
        Ok(batch) => batch,
        Err(async_graphql::ParseRequestError::PayloadTooLarge) => {
            return Err(request_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("A file may be at most {} bytes.", uploads.max_file_bytes),
                "file",
            ))
        }
        Err(async_graphql::ParseRequestError::Io(err))
            if err.get_ref().is_some_and(|e| e.is::<BodyTooLarge>()) =>
        {
            return Err(too_large())
        }
        Err(err) => {
            return Err(request_error(
                StatusCode::BAD_REQUEST,
                format!("The request could not be read: {err}"),
                "query",
            ))
        }
    };
    let files: usize = match &batch {
        BatchRequest::Single(r) => r.uploads.len(),
        BatchRequest::Batch(rs) => rs.iter().map(|r| r.uploads.len()).sum(),
    };
    if files > uploads.max_files {
        return Err(request_error(
            StatusCode::BAD_REQUEST,
            format!("A request may carry at most {} files.", uploads.max_files),
            "file",
        ));
    }
    Ok(batch)
}

#[derive(serde::Deserialize)]
struct MediaQuery {
    expires: Option<i64>,
    sig: Option<String>,
}

/// Serves a stored file: avatars and photos of listed units to anyone, anything else only with a
/// valid, unexpired signature. Not found and not allowed look the same.
async fn media(
    State(state): State<HttpState>,
    axum::extract::Path(path): axum::extract::Path<String>,
    axum::extract::Query(query): axum::extract::Query<MediaQuery>,
) -> Response {
    let app = &state.app;
    let signed = match (query.expires, query.sig.as_deref()) {
        (Some(expires), Some(sig)) => app.media.verify(&path, expires, sig),
        _ => false,
    };
    let public = path.starts_with("avatars/")
        || (path.starts_with("units/")
            && crate::units::service::photo_is_public(&app.db, &path)
                .await
                .unwrap_or(false));
    if !(signed || public) {
        return (StatusCode::NOT_FOUND, "Not found.").into_response();
    }
    match app.media.read(&path).await {
        Some((bytes, content_type)) => {
            let cache = if public {
                "public, max-age=300"
            } else {
                "private, max-age=300"
            };
            (
                [
                    (header::CONTENT_TYPE, content_type),
                    (header::CACHE_CONTROL, cache),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                ],
                bytes,
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "Not found.").into_response(),
    }
}

/// The client's address: the peer, or behind a trusted proxy the address that proxy appended
/// last to `X-Forwarded-For` (earlier entries are whatever the client claimed).
fn client_ip(headers: &HeaderMap, peer: SocketAddr, trust_forwarded_for: bool) -> String {
    let forwarded = trust_forwarded_for
        .then(|| headers.get("x-forwarded-for")?.to_str().ok())
        .flatten()
        .and_then(|v| v.rsplit(',').map(str::trim).find(|s| !s.is_empty()))
        .and_then(|s| s.parse::<std::net::IpAddr>().ok());
    forwarded.unwrap_or(peer.ip()).to_string()
}

/// Every error carries `extensions.code` from PRODUCT.md §0: errors from our resolvers have one
/// already; what remains came from parsing or validating the query (no path), which is the
/// client's input and so `BAD_USER_INPUT` on `query`, or is unexpected (logged, then hidden).
fn give_codes(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_some() {
            continue;
        }
        if error.path.is_empty() {
            extensions.set("code", "BAD_USER_INPUT");
            extensions.set("field", "query");
        } else {
            tracing::error!(error = %error.message, "unexpected resolver error");
            extensions.set("code", "INTERNAL_SERVER_ERROR");
            error.message = "Something went wrong on our side. Please try again.".into();
        }
    }
}

/// A request that cannot run at all, in the GraphQL response shape.
fn request_error(status: StatusCode, message: String, field: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": "BAD_USER_INPUT", "field": field } }]
    });
    (status, Json(body)).into_response()
}

async fn health() -> &'static str {
    "ok"
}

async fn ready(State(state): State<HttpState>) -> Response {
    if !state.app.events.is_connected() {
        return (StatusCode::SERVICE_UNAVAILABLE, "Redis subscription down").into_response();
    }
    match state.app.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database not reachable").into_response()
        }
    }
}

async fn metrics(State(state): State<HttpState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.app.metrics.render(),
    )
        .into_response()
}
