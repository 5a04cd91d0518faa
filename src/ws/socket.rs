//! The socket under `/graphql/ws`: the HTTP upgrade, and a sending side ([`Out`]) shared by the
//! socket's task and the subscription groups that write ready frames to it.
//!
//! tungstenite reads the socket and writes what the socket's task sends (acknowledgements,
//! results of its own runs, pongs, `complete`, the close). A group writes each rendered event
//! straight to the sockets that subscribed to it ([`Out::deliver`]), from the group's own task:
//! thousands of subscribers cost thousands of `send`s, not thousands of task wake-ups. What a
//! socket does not take at once waits in its backlog, which its task writes when the socket
//! takes it. Every write is whole frames, under one lock, so frames never interleave.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

/// An accepted socket, as its task reads and writes it.
pub type Socket = WebSocketStream<Duplex>;

/// Checks the WebSocket handshake of `request` and answers it: `101 Switching Protocols`, after
/// which `serve` runs with the socket. `protocol` is the subprotocol to confirm, if the client
/// named one we speak. A request that is no WebSocket handshake gets 400 (426 when the
/// connection cannot be upgraded), as axum's extractor answers it.
pub fn accept<F, Fut>(mut request: Request, protocol: Option<String>, serve: F) -> Response
where
    F: FnOnce(Socket, Arc<Out>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let headers = request.headers();
    if !names(headers, header::CONNECTION, "upgrade") {
        return refuse("Connection header did not include 'upgrade'");
    }
    if !names(headers, header::UPGRADE, "websocket") {
        return refuse("`Upgrade` header did not include 'websocket'");
    }
    if !names(headers, header::SEC_WEBSOCKET_VERSION, "13") {
        return refuse("`Sec-WebSocket-Version` header did not include '13'");
    }
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        return refuse("`Sec-WebSocket-Key` header missing");
    };
    let accept = derive_accept_key(key.as_bytes());
    let Some(on_upgrade) = request
        .extensions_mut()
        .remove::<hyper::upgrade::OnUpgrade>()
    else {
        return (
            StatusCode::UPGRADE_REQUIRED,
            "WebSocket request couldn't be upgraded since no upgrade state was present",
        )
            .into_response();
    };
    tokio::spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(upgraded) => upgraded,
            Err(err) => return tracing::debug!(%err, "a WebSocket upgrade did not complete"),
        };
        let Ok(parts) =
            hyper_util::server::conn::auto::upgrade::downcast::<TokioIo<TcpStream>>(upgraded)
        else {
            return tracing::error!("an upgraded connection is not a TCP stream");
        };
        // What the client sent after the handshake, copied: the bytes hyper read are a view of
        // its whole read buffer, which would otherwise live as long as the socket.
        let early = parts.read_buf.to_vec();
        drop(parts.read_buf);
        let (read, write) = parts.io.into_inner().into_split();
        let out = Arc::new(Out::new(write));
        let duplex = Duplex {
            read,
            out: out.clone(),
        };
        let socket =
            WebSocketStream::from_partially_read(duplex, early, Role::Server, Some(config())).await;
        serve(socket, out).await;
    });
    let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let answer = response.headers_mut();
    answer.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    answer.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(value) = HeaderValue::from_str(&accept) {
        answer.insert(header::SEC_WEBSOCKET_ACCEPT, value);
    }
    if let Some(value) = protocol.and_then(|p| HeaderValue::from_str(&p).ok()) {
        answer.insert(header::SEC_WEBSOCKET_PROTOCOL, value);
    }
    response
}

/// Small buffers: a server holds thousands of mostly idle sockets, and what clients send here
/// (init, subscribe, ping) is small; tungstenite's defaults are 128 KiB each way.
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .max_message_size(Some(64 * 1024))
        .max_frame_size(Some(64 * 1024))
}

fn refuse(reason: &'static str) -> Response {
    (StatusCode::BAD_REQUEST, reason).into_response()
}

/// True when the comma-separated header `name` holds `token` (in any case).
fn names(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case(token))
}

/// The sending side of one socket.
pub struct Out {
    half: OwnedWriteHalf,
    backlog: Mutex<Backlog>,
}

/// What the socket has not taken yet.
#[derive(Default)]
struct Backlog {
    bytes: Vec<u8>,
    /// How much of `bytes` is written.
    written: usize,
    /// Group frames among them.
    frames: usize,
    /// The socket's task, woken to write the backlog.
    task: Option<Waker>,
    /// The socket refused a write: it is gone.
    failed: bool,
    /// The socket's task is closing it: groups write nothing more.
    sealed: bool,
}

impl Backlog {
    fn is_empty(&self) -> bool {
        self.written == self.bytes.len()
    }

    fn push(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
        if let Some(task) = &self.task {
            task.wake_by_ref();
        }
    }
}

/// What became of a frame a group offered.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivered {
    /// Written, or waiting behind others.
    Yes,
    /// More than the allowed frames wait already: dropped.
    Full,
    /// The socket is gone or closing: dropped.
    Gone,
}

impl Out {
    fn new(half: OwnedWriteHalf) -> Self {
        Self {
            half,
            backlog: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Backlog> {
        self.backlog.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A group's frame: written now if the socket takes it, else queued while fewer than
    /// `limit` group frames wait.
    pub fn deliver(&self, frame: &[u8], limit: usize) -> Delivered {
        let mut backlog = self.lock();
        if backlog.failed || backlog.sealed {
            return Delivered::Gone;
        }
        let waiting = !backlog.is_empty();
        if waiting && backlog.frames >= limit {
            return Delivered::Full;
        }
        self.send(&mut backlog, frame);
        if !backlog.is_empty() {
            backlog.frames += 1;
        }
        Delivered::Yes
    }

    /// Writes what the socket takes now, and queues the rest; behind what waits already, only
    /// queues.
    fn send(&self, backlog: &mut Backlog, bytes: &[u8]) {
        if !backlog.is_empty() {
            return backlog.push(bytes);
        }
        match self.half.try_write(bytes) {
            Ok(n) if n == bytes.len() => {}
            Ok(n) => backlog.push(&bytes[n..]),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => backlog.push(bytes),
            Err(_) => backlog.failed = true,
        }
    }

    /// Groups write nothing more: the socket's task is closing it.
    pub fn seal(&self) {
        self.lock().sealed = true;
    }

    /// Writes the backlog. Pending while any of it is left (the task is woken when the socket
    /// takes more); an error when the socket is gone.
    pub fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.flush(&mut self.lock(), cx)
    }

    fn flush(&self, backlog: &mut Backlog, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if backlog.failed {
                return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
            }
            if backlog.is_empty() {
                backlog.bytes.clear();
                if backlog.bytes.capacity() > 4096 {
                    backlog.bytes = Vec::new();
                }
                backlog.written = 0;
                backlog.frames = 0;
                return Poll::Ready(Ok(()));
            }
            let from = backlog.written;
            match self.half.try_write(&backlog.bytes[from..]) {
                Ok(n) => backlog.written += n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    match self.half.as_ref().poll_write_ready(cx) {
                        Poll::Ready(Ok(())) => continue,
                        Poll::Ready(Err(_)) => backlog.failed = true,
                        Poll::Pending => return Poll::Pending,
                    }
                }
                Err(_) => backlog.failed = true,
            }
        }
    }

    /// For the socket's task: writes the frames groups queued, as the socket takes them. Pending
    /// while there are none (a group that queues some wakes the task) or the socket takes no
    /// more; ready once they are written, or with an error when the socket is gone.
    pub fn poll_backlog(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut backlog = self.lock();
        if backlog.is_empty() && !backlog.failed {
            if !backlog
                .task
                .as_ref()
                .is_some_and(|t| t.will_wake(cx.waker()))
            {
                backlog.task = Some(cx.waker().clone());
            }
            return Poll::Pending;
        }
        self.flush(&mut backlog, cx)
    }
}

/// The socket as tungstenite sees it: it reads the socket's reading half, and writes through
/// [`Out`], which takes every write whole (queued when the socket would block).
pub struct Duplex {
    read: OwnedReadHalf,
    out: Arc<Out>,
}

impl AsyncRead for Duplex {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.read).poll_read(cx, buf)
    }
}

impl AsyncWrite for Duplex {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut backlog = self.out.lock();
        if backlog.failed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        self.out.send(&mut backlog, buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.out.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The connection closes when the socket's task ends and drops both halves.
        self.out.poll_flush(cx)
    }
}

/// One WebSocket text frame, as the server sends it (unmasked), from the pieces of its text.
pub fn text_frame(into: &mut Vec<u8>, pieces: &[&str]) {
    let len: usize = pieces.iter().map(|p| p.len()).sum();
    into.clear();
    into.push(0x81);
    match len {
        0..=125 => into.push(len as u8),
        126..=0xFFFF => {
            into.push(126);
            into.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            into.push(127);
            into.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    for piece in pieces {
        into.extend_from_slice(piece.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;

    /// Frames a peer does not read wait in the backlog; past the limit they are dropped; once the
    /// peer reads, the task writes the backlog, in order, after what the kernel took at once.
    #[tokio::test]
    async fn frames_wait_for_a_slow_peer_up_to_the_limit_and_go_out_in_order() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let address = listener.local_addr().expect("its address");
        let (client, server) = tokio::join!(TcpStream::connect(address), listener.accept());
        let mut client = client.expect("connected");
        let (_read, write) = server.expect("accepted").0.into_split();
        let out = Out::new(write);
        let limit = 3;
        let mut sent = Vec::new();
        let mut queued = 0;
        let mut index = 0u32;
        // Until the kernel's buffers are full and `limit` frames wait behind them.
        while queued < limit {
            let mut frame = index.to_be_bytes().repeat(16 * 1024);
            frame[0] = 0xAB;
            assert_eq!(out.deliver(&frame, limit), Delivered::Yes);
            sent.extend_from_slice(&frame);
            index += 1;
            queued = out.lock().frames;
            assert!(index < 10_000, "the peer's buffers never filled");
        }
        assert_eq!(out.deliver(b"dropped", limit), Delivered::Full);
        let total = sent.len();
        let reader = tokio::spawn(async move {
            let mut received = vec![0; total];
            client.read_exact(&mut received).await.map(|_| received)
        });
        std::future::poll_fn(|cx| out.poll_flush(cx))
            .await
            .expect("the backlog written");
        let received = reader.await.expect("joined").expect("all read");
        assert!(received == sent, "the bytes arrived as sent");
        out.seal();
        assert_eq!(out.deliver(b"late", limit), Delivered::Gone);
    }

    #[test]
    fn text_frames_carry_their_length_in_each_size_class() {
        for len in [0, 1, 125, 126, 127, 1000, 0xFFFF, 0x10000, 70_000] {
            let text = "x".repeat(len);
            let (head, tail) = text.split_at(len / 2);
            let mut frame = Vec::new();
            text_frame(&mut frame, &[head, tail]);
            let mut cursor = io::Cursor::new(frame.as_slice());
            let (header, length) = FrameHeader::parse(&mut cursor)
                .expect("a frame header")
                .expect("a whole header");
            assert!(header.is_final);
            assert_eq!(header.mask, None);
            assert_eq!(length as usize, len);
            assert_eq!(&frame[cursor.position() as usize..], text.as_bytes());
        }
    }
}
