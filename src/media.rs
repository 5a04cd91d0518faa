//! Uploaded files: the type checked from the content, storage under `MEDIA_DIR` with random names,
//! and the URLs they are served under (`/media/…`): plain for public files, signed and expiring
//! for the rest.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

/// Where an operation's file comes from: sent with the request, or uploaded before to a
/// presigned URL (`uploadId`).
pub enum FileSource {
    Sent(Incoming),
    Uploaded(uuid::Uuid),
}

/// Is this the refusal of a file over its size limit?
pub fn is_too_large(err: &AppError) -> bool {
    matches!(err, AppError::BadInput { message, .. } if message.starts_with("A file may be at most"))
}

/// An uploaded file as the GraphQL layer hands it to a service.
pub struct Incoming {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// The file formats we accept, recognised by their first bytes, never by name: images
/// everywhere, PDF documents in chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Jpeg,
    Png,
    Webp,
    Pdf,
}

impl FileKind {
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else if bytes.starts_with(b"%PDF-") {
            Some(Self::Pdf)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Pdf => "application/pdf",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Pdf => "pdf",
        }
    }

    fn from_extension(ext: &str) -> Option<Self> {
        match ext {
            "jpg" => Some(Self::Jpeg),
            "png" => Some(Self::Png),
            "webp" => Some(Self::Webp),
            "pdf" => Some(Self::Pdf),
            _ => None,
        }
    }
}

/// A file written to the media directory.
#[derive(Clone, Debug)]
pub struct Stored {
    /// Relative to `MEDIA_DIR`, e.g. `units/0193….jpg`; also the tail of its URL.
    pub path: String,
    pub content_type: &'static str,
    pub size: i64,
}

pub struct MediaStore {
    dir: PathBuf,
    public_url: String,
    key: [u8; 32],
    ttl: Duration,
    max_image_bytes: usize,
    max_file_bytes: usize,
}

type HmacSha256 = Hmac<Sha256>;

fn too_large(field: &str, limit: usize) -> AppError {
    let limit = if limit >= 1024 * 1024 {
        format!("{} MiB", limit / (1024 * 1024))
    } else {
        format!("{limit} bytes")
    };
    AppError::bad_input(field, format!("A file may be at most {limit}."))
}

fn not_accepted(field: &str, documents: bool) -> AppError {
    AppError::bad_input(
        field,
        if documents {
            "Only JPEG, PNG and WebP images and PDF documents are accepted."
        } else {
            "Only JPEG, PNG and WebP images are accepted."
        },
    )
}

impl MediaStore {
    /// `secret` keys the URL signatures (derived, so the raw secret is used for nothing else).
    pub fn new(
        dir: PathBuf,
        public_url: &str,
        secret: &str,
        ttl: Duration,
        max_image_bytes: usize,
        max_file_bytes: usize,
    ) -> Self {
        let key: [u8; 32] = Sha256::digest(format!("autohub media urls\n{secret}")).into();
        Self {
            dir,
            public_url: public_url.to_string(),
            key,
            ttl,
            max_image_bytes,
            max_file_bytes,
        }
    }

    /// Checks that the bytes are a JPEG, PNG or WebP within the image size limit, and writes them under
    /// `folder` with a random name. `BAD_USER_INPUT` on `field` otherwise; nothing is written then.
    pub async fn store_image(
        &self,
        field: &str,
        folder: &str,
        file: &Incoming,
    ) -> AppResult<Stored> {
        self.store(field, folder, file, false).await
    }

    /// `store_image`, also accepting PDF documents, within the file size limit (chat files).
    pub async fn store_document(
        &self,
        field: &str,
        folder: &str,
        file: &Incoming,
    ) -> AppResult<Stored> {
        self.store(field, folder, file, true).await
    }

    async fn store(
        &self,
        field: &str,
        folder: &str,
        file: &Incoming,
        documents: bool,
    ) -> AppResult<Stored> {
        let limit = self.limit(documents);
        self.receive(field, folder, &mut &file.bytes[..], limit, documents)
            .await
    }

    /// The size limit of images, or of documents.
    pub fn limit(&self, documents: bool) -> usize {
        if documents {
            self.max_file_bytes
        } else {
            self.max_image_bytes
        }
    }

    /// The one way a file is stored, whether it came in a GraphQL multipart request or in a PUT
    /// to a presigned URL: streamed to a temporary file under `folder`, refused (`BAD_USER_INPUT`
    /// on `field`, and nothing kept) when it passes `limit` bytes or its first bytes are not an
    /// accepted type (images; PDF too when `documents`), then renamed to a random name.
    pub async fn receive(
        &self,
        field: &str,
        folder: &str,
        body: &mut (impl tokio::io::AsyncRead + Unpin),
        limit: usize,
        documents: bool,
    ) -> AppResult<Stored> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let full = self.dir.join(folder);
        tokio::fs::create_dir_all(&full)
            .await
            .map_err(AppError::internal)?;
        let temporary = full.join(format!(".{}.part", uuid::Uuid::new_v4().simple()));
        let outcome = async {
            let mut out = tokio::fs::File::create(&temporary)
                .await
                .map_err(AppError::internal)?;
            let mut head = Vec::with_capacity(16);
            let mut size = 0usize;
            let mut chunk = vec![0u8; 64 * 1024];
            loop {
                let n = body.read(&mut chunk).await.map_err(|_| {
                    AppError::bad_input(field, "The file could not be read to its end.")
                })?;
                if n == 0 {
                    break;
                }
                size += n;
                if size > limit {
                    return Err(too_large(field, limit));
                }
                if head.len() < 16 {
                    let take = (16 - head.len()).min(n);
                    head.extend_from_slice(&chunk[..take]);
                }
                out.write_all(&chunk[..n])
                    .await
                    .map_err(AppError::internal)?;
            }
            out.flush().await.map_err(AppError::internal)?;
            let kind = FileKind::sniff(&head)
                .filter(|kind| documents || *kind != FileKind::Pdf)
                .ok_or_else(|| not_accepted(field, documents))?;
            Ok((kind, size))
        }
        .await;
        let (kind, size) = match outcome {
            Ok(done) => done,
            Err(err) => {
                let _ = tokio::fs::remove_file(&temporary).await;
                return Err(err);
            }
        };
        let name = format!("{}.{}", uuid::Uuid::new_v4().simple(), kind.extension());
        tokio::fs::rename(&temporary, full.join(&name))
            .await
            .map_err(AppError::internal)?;
        Ok(Stored {
            path: format!("{folder}/{name}"),
            content_type: kind.content_type(),
            size: size as i64,
        })
    }

    /// Removes a stored file; a file already gone is fine, other failures are logged.
    pub async fn remove(&self, path: &str) {
        let Some(full) = self.resolve(path) else {
            return;
        };
        if let Err(err) = tokio::fs::remove_file(&full).await {
            if err.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path, error = %err, "could not remove a media file");
            }
        }
    }

    pub fn public_url(&self, path: &str) -> String {
        format!("{}/media/{path}", self.public_url)
    }

    /// A URL that serves a private file until it expires.
    pub fn signed_url(&self, path: &str) -> String {
        let expires = chrono::Utc::now().timestamp() + self.ttl.as_secs() as i64;
        // Rounded up to the minute, so URLs issued within a minute are equal and cache well.
        let expires = expires - expires % 60 + 60;
        format!(
            "{}/media/{path}?expires={expires}&sig={}",
            self.public_url,
            self.signature(path, expires)
        )
    }

    /// An HMAC of `text` under the media key (presigned upload URLs).
    pub fn sign_text(&self, text: &str) -> String {
        let Ok(mut mac) = HmacSha256::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(text.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Does `sig` sign `text`? Compared in constant time.
    pub fn verify_text(&self, text: &str, sig: &str) -> bool {
        let (Ok(given), Ok(mut mac)) = (hex::decode(sig), HmacSha256::new_from_slice(&self.key))
        else {
            return false;
        };
        mac.update(text.as_bytes());
        mac.verify_slice(&given).is_ok()
    }

    /// The bytes of a stored file (any type); `None` when there is no such file.
    pub async fn bytes(&self, path: &str) -> Option<Vec<u8>> {
        tokio::fs::read(self.resolve(path)?).await.ok()
    }

    fn signature(&self, path: &str, expires: i64) -> String {
        let mut mac = match HmacSha256::new_from_slice(&self.key) {
            Ok(mac) => mac,
            // HMAC takes keys of any length; this arm cannot be reached.
            Err(_) => return String::new(),
        };
        mac.update(format!("{path}\n{expires}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// True when `sig` signs `path` until `expires` and that time has not passed.
    pub fn verify(&self, path: &str, expires: i64, sig: &str) -> bool {
        if expires < chrono::Utc::now().timestamp() {
            return false;
        }
        let Ok(given) = hex::decode(sig) else {
            return false;
        };
        let Ok(mut mac) = HmacSha256::new_from_slice(&self.key) else {
            return false;
        };
        mac.update(format!("{path}\n{expires}").as_bytes());
        mac.verify_slice(&given).is_ok()
    }

    /// The file behind a media path, when the path is one we could have written.
    fn resolve(&self, path: &str) -> Option<PathBuf> {
        let mut parts = path.split('/');
        let (folder, name, rest) = (parts.next()?, parts.next()?, parts.next());
        let safe = |s: &str| {
            !s.is_empty()
                && !s.starts_with('.')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
        };
        (rest.is_none() && safe(folder) && safe(name)).then(|| self.dir.join(folder).join(name))
    }

    /// The bytes and content type of a stored file; `None` when there is no such file.
    pub async fn read(&self, path: &str) -> Option<(Vec<u8>, &'static str)> {
        let full = self.resolve(path)?;
        let kind = Path::new(path)
            .extension()
            .and_then(|e| e.to_str())
            .and_then(FileKind::from_extension)?;
        let bytes = tokio::fs::read(full).await.ok()?;
        Some((bytes, kind.content_type()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> MediaStore {
        MediaStore::new(
            "/tmp/x".into(),
            "http://h",
            "secret",
            Duration::from_secs(60),
            10,
            10,
        )
    }

    #[test]
    fn images_are_recognised_by_content() {
        assert_eq!(
            FileKind::sniff(b"\xFF\xD8\xFF\xE0rest"),
            Some(FileKind::Jpeg)
        );
        assert_eq!(
            FileKind::sniff(b"\x89PNG\r\n\x1a\nrest"),
            Some(FileKind::Png)
        );
        assert_eq!(
            FileKind::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(FileKind::Webp)
        );
        assert_eq!(FileKind::sniff(b"hello, I am text"), None);
        assert_eq!(FileKind::sniff(b"RIFF\0\0\0\0WAVE"), None);
    }

    #[test]
    fn signed_urls_verify_until_they_expire_and_only_for_their_path() {
        let s = store();
        let later = chrono::Utc::now().timestamp() + 100;
        let sig = s.signature("units/a.png", later);
        assert!(s.verify("units/a.png", later, &sig));
        assert!(!s.verify("units/b.png", later, &sig));
        assert!(!s.verify("units/a.png", later + 1, &sig));
        let past = chrono::Utc::now().timestamp() - 1;
        assert!(!s.verify("units/a.png", past, &s.signature("units/a.png", past)));
    }

    #[test]
    fn only_paths_we_write_resolve() {
        let s = store();
        assert!(s.resolve("units/abc.png").is_some());
        assert!(s.resolve("../etc/passwd").is_none());
        assert!(s.resolve("units/../../x").is_none());
        assert!(s.resolve("units/.hidden").is_none());
        assert!(s.resolve("units/a/b.png").is_none());
    }
}
