//! Reading a GraphQL request body: JSON within `MAX_BODY_BYTES`, or a multipart upload within
//! the upload limits, the limit of its files chosen by what its operations upload.

use async_graphql::parser::types::OperationType;
use async_graphql::BatchRequest;
use axum::http::{header, StatusCode};
use axum::response::Response;

use super::negotiate::{request_error, Media};

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
pub(super) async fn read_operations(
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
