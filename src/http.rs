//! The HTTP face: `/graphql` (GraphiQL on GET, operations on POST), `/health`, `/ready`,
//! `/metrics`, and the layers every request passes (request id, trace span, timeout, CORS,
//! body limit).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::{GraphiQLSource, WebSocketProtocols, ALL_WEBSOCKET_PROTOCOLS};
use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, BatchResponse, Request, ValidationMode};
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
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
use crate::graphql::loaders::Loaders;
use crate::graphql::schema::{self, AppSchema};

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
            .data(Loaders::new(
                state.app.db.clone(),
                state.app.config.dataloader_delay,
                viewer.user_id(),
            ))
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
            let guarded = crate::graphql::guarded::Guarded {
                schema: state.schema,
                checks: state.checks,
            };
            crate::ws::serve(state.app, guarded, protocol, client, socket)
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
    media: Media,
    request: axum::extract::Request,
) -> Result<BatchRequest, Response> {
    use futures_util::TryStreamExt;
    use tokio_util::compat::TokioAsyncReadCompatExt;

    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let essence = content_type.as_deref().map(|t| {
        t.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    let multipart = essence.as_deref() == Some("multipart/form-data");
    if !multipart && essence.as_deref() != Some("application/json") {
        return Err(request_error(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send operations as application/json (or multipart/form-data with files).".into(),
            "query",
        ));
    }
    let uploads = &config.uploads;
    let limit = if multipart {
        uploads.max_body_bytes
    } else {
        config.limits.max_body_bytes
    };
    let too_large = || {
        request_error(
            media,
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
    // A request whose operations only upload images (photos, avatars) has the image limit,
    // applied while its files stream in; others the file limit (chat files).
    let (max_file, stream) = if multipart {
        let boundary = content_type.as_deref().and_then(multipart_boundary);
        let (operations, stream) =
            peek_operations(stream, boundary, config.limits.max_body_bytes).await;
        let images = operations.as_deref().is_some_and(only_image_uploads);
        let max = if images {
            uploads.max_image_bytes
        } else {
            uploads.max_file_bytes
        };
        (max, stream)
    } else {
        (
            uploads.max_file_bytes,
            futures_util::StreamExt::boxed(stream),
        )
    };
    let reader = tokio_util::io::StreamReader::new(stream).compat();
    let options = async_graphql::http::MultipartOptions::default()
        .max_file_size(max_file)
        .max_num_files(uploads.max_files);
    let batch = async_graphql::http::receive_batch_body(content_type, reader, options).await;
    let batch = match batch {
        Ok(batch) => batch,
        Err(async_graphql::ParseRequestError::PayloadTooLarge) => {
            return Err(request_error(
                media,
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("A file may be at most {max_file} bytes."),
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
                media,
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
            media,
            StatusCode::BAD_REQUEST,
            format!("A request may carry at most {} files.", uploads.max_files),
            "file",
        ));
    }
    Ok(batch)
}

/// The mutations whose files are images, with the image size limit.
const IMAGE_UPLOADS: &[&str] = &["addUnitPhoto", "uploadAvatar"];

type BodyStream = futures_util::stream::BoxStream<'static, std::io::Result<axum::body::Bytes>>;

/// The `boundary` parameter of a multipart content type.
fn multipart_boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

/// Reads a multipart body until its first part, `operations` (the multipart request spec puts
/// it first), has arrived, at most `limit` bytes; returns that part's text and the whole body
/// again, to be read from its start.
async fn peek_operations(
    stream: impl futures_util::Stream<Item = std::io::Result<axum::body::Bytes>> + Send + 'static,
    boundary: Option<String>,
    limit: usize,
) -> (Option<String>, BodyStream) {
    use futures_util::StreamExt;
    let mut stream = stream.boxed();
    let Some(boundary) = boundary else {
        return (None, stream);
    };
    let mut prefix = Vec::new();
    let mut failed = None;
    let mut operations = None;
    while prefix.len() <= limit {
        match stream.next().await {
            Some(Ok(bytes)) => prefix.extend_from_slice(&bytes),
            Some(Err(err)) => {
                failed = Some(err);
                break;
            }
            None => break,
        }
        if let Some(found) = first_part(&prefix, &boundary) {
            operations = Some(found);
            break;
        }
    }
    let head = futures_util::stream::iter(
        std::iter::once(Ok(axum::body::Bytes::from(prefix))).chain(failed.map(Err)),
    );
    (operations, head.chain(stream).boxed())
}

/// The text of the first part of a multipart body, when it is `operations` and complete.
fn first_part(body: &[u8], boundary: &str) -> Option<String> {
    let delimiter = format!("--{boundary}");
    let find =
        |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).position(|w| w == needle);
    let start = find(body, delimiter.as_bytes())? + delimiter.len();
    let headers_end = start + find(&body[start..], b"\r\n\r\n")?;
    let headers = String::from_utf8_lossy(&body[start..headers_end]);
    if !headers.contains("name=\"operations\"") {
        return None;
    }
    let content = headers_end + 4;
    let end = content + find(&body[content..], format!("\r\n{delimiter}").as_bytes())?;
    String::from_utf8(body[content..end].to_vec()).ok()
}

/// True when every operation of a multipart request is a mutation whose fields all upload
/// images.
fn only_image_uploads(operations: &str) -> bool {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(operations) else {
        return false;
    };
    let requests = match &value {
        serde_json::Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    requests.iter().all(|request| {
        let Some(document) = request["query"]
            .as_str()
            .and_then(|q| async_graphql::parser::parse_query(q).ok())
        else {
            return false;
        };
        document.operations.iter().all(|(_, operation)| {
            use async_graphql::parser::types::Selection;
            operation.node.ty == OperationType::Mutation
                && operation
                    .node
                    .selection_set
                    .node
                    .items
                    .iter()
                    .all(|item| match &item.node {
                        Selection::Field(field) => {
                            let name = field.node.name.node.as_str();
                            name == "__typename" || IMAGE_UPLOADS.contains(&name)
                        }
                        _ => false,
                    })
        })
    })
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

/// A request that cannot run at all, in the GraphQL response shape.
fn request_error(media: Media, status: StatusCode, message: String, field: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": "BAD_USER_INPUT", "field": field } }]
    });
    media.body(status, body.to_string().into_bytes())
}

/// The media type of a response (GraphQL over HTTP): `application/graphql-response+json` when
/// the client prefers it, else `application/json` (also for `*/*`, no `Accept`, or anything
/// else).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    Json,
    GraphQLResponse,
}

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

impl Media {
    /// The type the `Accept` header prefers: the highest `q`, the first listed on a tie.
    fn accepted(headers: &HeaderMap) -> Self {
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
    fn respond(self, response: &BatchResponse) -> Response {
        if let (Self::GraphQLResponse, BatchResponse::Single(single)) = (self, response) {
            let never_ran = single.data == async_graphql::Value::Null
                && !single.errors.is_empty()
                && single.errors.iter().all(|e| e.path.is_empty());
            if never_ran {
                let body = serde_json::json!({ "errors": single.errors });
                return self.body(StatusCode::BAD_REQUEST, body.to_string().into_bytes());
            }
        }
        match serde_json::to_vec(response) {
            Ok(body) => self.body(StatusCode::OK, body),
            Err(err) => {
                tracing::error!(error = %err, "a response did not serialize");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
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
