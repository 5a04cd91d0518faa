//! The HTTP face: `/graphql` (GraphiQL on GET, operations on POST), `/health`, `/ready`,
//! `/metrics`, media and presigned uploads, the payment webhook and CSV exports (`outside.rs`),
//! and the layers every request passes (request id, trace span, timeout, CORS, body limit).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::{GraphiQLSource, WebSocketProtocols};
use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, BatchResponse, Request, ValidationMode};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
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
use crate::graphql::checks::Checks;
use crate::graphql::documents::Documents;
use crate::graphql::fanout::Fanout;
use crate::graphql::loaders::Loaders;
use crate::graphql::schema::{self, AppSchema};

mod body;
mod negotiate;
mod outside;

use body::read_operations;
use negotiate::{request_error, Media};

#[derive(Clone)]
struct HttpState {
    app: AppState,
    schema: AppSchema,
    /// The same schema, validating only what depends on a request's variables: for requests
    /// that repeat one that passed full validation (see `Documents`).
    revalidating: AppSchema,
    /// The same schema with a depth limit that admits the introspection queries tools send;
    /// used only for operations that select nothing but introspection (see `Checks`).
    introspecting: AppSchema,
    documents: Arc<Documents>,
    checks: Arc<Checks>,
    /// Subscription results rendered once per group of sockets that see the same.
    fanout: Arc<Fanout>,
    graphiql: Option<String>,
}

/// How many parsed query texts the server keeps.
const CACHED_DOCUMENTS: usize = 512;

pub fn router(app: AppState) -> Router {
    let config = &app.config;
    let build = |mode: ValidationMode, max_depth: usize| {
        let builder = schema::builder(max_depth)
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
        schema: build(ValidationMode::Strict, limits.max_depth),
        revalidating: build(ValidationMode::Fast, limits.max_depth),
        introspecting: build(ValidationMode::Strict, schema::INTROSPECTION_MAX_DEPTH),
        documents: Arc::new(Documents::new(CACHED_DOCUMENTS)),
        checks: Arc::new(schema::checks(&limits)),
        fanout: Arc::new(Fanout::new(config.event_buffer, app.metrics.clone())),
        app: app.clone(),
        graphiql,
    };

    Router::new()
        .route("/graphql", get(graphql_get_handler).post(graphql_handler))
        .route("/graphql/ws", get(subscriptions_handler))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/media/{*path}", get(media))
        .route("/uploads/{id}", axum::routing::put(put_upload))
        .route(
            "/webhooks/payments",
            axum::routing::post(outside::payment_webhook),
        )
        .route("/exports/{file}", get(outside::export))
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

/// `GET /graphql`: with a `query` parameter, runs that query (GraphQL over HTTP; mutations are
/// 405, they need POST); without one, GraphiQL for browsers.
async fn graphql_get_handler(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
) -> Response {
    let media = Media::accepted(request.headers());
    let params: Vec<(String, String)> = request
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let Some(query) = param("query") else {
        let browser = request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v.contains("text/html") || v.contains("*/*"));
        return match &state.graphiql {
            Some(page) if browser => Html(page.clone()).into_response(),
            Some(_) => request_error(
                media,
                StatusCode::BAD_REQUEST,
                "A GET request needs a query parameter.".into(),
                "query",
            ),
            None => (StatusCode::NOT_FOUND, "GraphiQL is disabled.").into_response(),
        };
    };
    let mut operation = Request::new(query);
    if let Some(name) = param("operationName").filter(|n| !n.is_empty()) {
        operation = operation.operation_name(name);
    }
    match param("variables")
        .filter(|v| !v.is_empty())
        .map(serde_json::from_str::<serde_json::Value>)
    {
        None => {}
        Some(Ok(value @ serde_json::Value::Object(_))) => {
            operation = operation.variables(async_graphql::Variables::from_json(value));
        }
        Some(_) => {
            return request_error(
                media,
                StatusCode::BAD_REQUEST,
                "variables must be a JSON object.".into(),
                "variables",
            )
        }
    }
    if let Some(extensions) = param("extensions").filter(|v| !v.is_empty()) {
        if !matches!(
            serde_json::from_str(extensions),
            Ok(serde_json::Value::Object(_))
        ) {
            return request_error(
                media,
                StatusCode::BAD_REQUEST,
                "extensions must be a JSON object.".into(),
                "extensions",
            );
        }
    }
    let headers = request.headers().clone();
    execute(
        &state,
        &headers,
        peer,
        media,
        BatchRequest::Single(operation),
        true,
    )
    .await
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
    let media = Media::accepted(&headers);
    let batch = match read_operations(&state.app.config, media, request).await {
        Ok(batch) => batch,
        Err(response) => return response,
    };
    execute(&state, &headers, peer, media, batch, false).await
}

/// Runs what a request asked for, as its viewer, and answers in the media type it accepts.
async fn execute(
    state: &HttpState,
    headers: &HeaderMap,
    peer: SocketAddr,
    media: Media,
    batch: BatchRequest,
    by_get: bool,
) -> Response {
    let max = state.app.config.limits.max_batch;
    match &batch {
        BatchRequest::Batch(items) if items.is_empty() => {
            return request_error(
                media,
                StatusCode::BAD_REQUEST,
                "A batch must hold at least one operation.".into(),
                "query",
            );
        }
        BatchRequest::Batch(items) if items.len() > max => {
            return request_error(
                media,
                StatusCode::BAD_REQUEST,
                format!("A batch may hold at most {max} operations."),
                "query",
            );
        }
        _ => {}
    }
    let missing = match &batch {
        BatchRequest::Single(r) => r.query.trim().is_empty(),
        BatchRequest::Batch(items) => items.iter().any(|r| r.query.trim().is_empty()),
    };
    if missing {
        return request_error(
            media,
            StatusCode::BAD_REQUEST,
            "The request has no query.".into(),
            "query",
        );
    }
    let viewer = Viewer::from_headers(&state.app, headers).await;
    let client = client_info(headers, peer, state.app.config.trust_forwarded_for);
    let prepare = |request: Request| {
        request
            .data(viewer.clone())
            .data(client.clone())
            .data(Loaders::new(state.app.clone(), viewer.clone()))
    };
    let response = match batch {
        BatchRequest::Single(request) => match run(state, prepare(request), by_get).await {
            Some(response) => BatchResponse::Single(response),
            None => return mutation_by_get(media),
        },
        BatchRequest::Batch(items) => {
            let mut responses = Vec::with_capacity(items.len());
            for request in items {
                match run(state, prepare(request), by_get).await {
                    Some(response) => responses.push(response),
                    None => return mutation_by_get(media),
                }
            }
            BatchResponse::Batch(responses)
        }
    };
    media.respond(&response)
}

/// A GET may only read: 405, naming the method that may write.
fn mutation_by_get(media: Media) -> Response {
    let mut response = request_error(
        media,
        StatusCode::METHOD_NOT_ALLOWED,
        "Only queries run over GET; send mutations and subscriptions by POST (or over /graphql/ws)."
            .into(),
        "query",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

/// Runs one operation: its parsed document comes from the cache (with full validation and our
/// own checks skipped when it passed before), and it is counted and timed for `/metrics` by the
/// type of operation it runs (`invalid` when it does not parse). `None` when a GET asks for
/// anything but a query.
async fn run(
    state: &HttpState,
    mut request: Request,
    by_get: bool,
) -> Option<async_graphql::Response> {
    let started = std::time::Instant::now();
    let prepared = state.documents.prepare(&mut request);
    if by_get
        && matches!(
            prepared.kind,
            Some(OperationType::Mutation | OperationType::Subscription)
        )
    {
        return None;
    }
    let kind = match prepared.kind {
        Some(OperationType::Query) => 0,
        Some(OperationType::Mutation) => 1,
        Some(OperationType::Subscription) => 2,
        None => 3,
    };
    let mut introspection = false;
    if !prepared.validated {
        if let Some(document) = &prepared.document {
            let operation = request.operation_name.as_deref();
            match state.checks.check(document, operation, &request.variables) {
                Ok(verdict) => introspection = verdict.introspection,
                Err(errors) => {
                    state
                        .app
                        .metrics
                        .record_operation(kind, false, started.elapsed());
                    return Some(async_graphql::Response::from_errors(errors));
                }
            }
        }
    }
    let schema = if introspection {
        &state.introspecting
    } else if prepared.validated {
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
    if clean && !introspection {
        state.documents.passed(prepared);
    }
    crate::graphql::give_codes(&mut response);
    Some(response)
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
    request: axum::extract::Request,
) -> Response {
    let headers = request.headers();
    let named = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let chosen = named
        .split(',')
        .map(str::trim)
        .find_map(|p| Some((p, p.parse::<WebSocketProtocols>().ok()?)));
    let protocol = chosen.map_or(WebSocketProtocols::GraphQLWS, |(_, protocol)| protocol);
    let confirmed = chosen.map(|(name, _)| name.to_string());
    let client = client_info(headers, peer, state.app.config.trust_forwarded_for);
    crate::ws::socket::accept(request, confirmed, move |socket, out| {
        let guarded = crate::graphql::guarded::Guarded {
            schema: state.schema,
            checks: state.checks,
        };
        crate::ws::serve(
            state.app,
            guarded,
            state.fanout,
            protocol,
            client,
            socket,
            out,
        )
    })
}

#[derive(serde::Deserialize)]
struct MediaQuery {
    expires: Option<i64>,
    sig: Option<String>,
}

/// Takes the body of a PUT to a presigned upload URL (see `uploads::service::receive`): 201 when
/// kept; 403 for a bad signature or an expired URL, 404 for no such upload, 409 for a second
/// PUT, 413 over the declared size, 415 when the bytes are not of the declared type.
async fn put_upload(
    State(state): State<HttpState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    axum::extract::Query(query): axum::extract::Query<MediaQuery>,
    body: axum::body::Body,
) -> Response {
    use crate::uploads::service::{receive, Refused};
    use futures_util::TryStreamExt;
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return (StatusCode::NOT_FOUND, "No such upload.").into_response();
    };
    let (Some(expires), Some(sig)) = (query.expires, query.sig.as_deref()) else {
        return (StatusCode::FORBIDDEN, "This upload URL is not signed.").into_response();
    };
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let mut reader = tokio_util::io::StreamReader::new(stream);
    let (status, message) = match receive(&state.app, id, expires, sig, &mut reader).await {
        Ok(()) => (StatusCode::CREATED, "Stored."),
        Err(Refused::Forbidden) => (
            StatusCode::FORBIDDEN,
            "This upload URL is altered or has expired.",
        ),
        Err(Refused::NotFound) => (StatusCode::NOT_FOUND, "No such upload."),
        Err(Refused::AlreadySent) => (
            StatusCode::CONFLICT,
            "A file was already sent to this URL; ask for a new one.",
        ),
        Err(Refused::TooLarge) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "The file is larger than the size declared for this URL.",
        ),
        Err(Refused::WrongType) => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "The file is not of the type declared for this URL.",
        ),
        Err(Refused::Internal) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "The file could not be stored.",
        ),
    };
    (status, message).into_response()
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
