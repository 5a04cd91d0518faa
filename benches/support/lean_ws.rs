//! A lean WebSocket client for the fan-out bench: just enough of RFC 6455 to speak
//! graphql-transport-ws to our server on loopback (the upgrade, masked text frames out, unmasked
//! frames in, pings answered), at a fraction of a general client's CPU per frame.
//!
//! The bench's clients share two cores with the server, so what a client spends on a frame is
//! latency the server is charged with. This one parses frames in place in one buffer per socket:
//! no allocation or copy per frame, no waker bookkeeping beyond the socket's readiness.

use std::io::ErrorKind;

use tokio::net::TcpStream;

/// One connected, upgraded socket.
pub struct LeanSocket {
    stream: TcpStream,
    buffer: Vec<u8>,
    /// Unread bytes are `buffer[start..end]`.
    start: usize,
    end: usize,
}

/// A frame the server sent.
pub enum Frame<'a> {
    Text(&'a [u8]),
    /// The connection is over (a close frame, or the socket ended).
    Closed,
}

impl LeanSocket {
    /// Connects to `ws://{address}{path}` and upgrades with `protocol` as the subprotocol.
    pub async fn connect(address: &str, path: &str, protocol: &str) -> std::io::Result<Self> {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let mut socket = Self {
            stream,
            buffer: vec![0; 16 * 1024],
            start: 0,
            end: 0,
        };
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Protocol: {protocol}\r\n\r\n"
        );
        socket.write_all(request.as_bytes()).await?;
        loop {
            let head = &socket.buffer[socket.start..socket.end];
            if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                if !head.starts_with(b"HTTP/1.1 101") {
                    let text = String::from_utf8_lossy(head).into_owned();
                    return Err(std::io::Error::other(format!("not upgraded: {text}")));
                }
                socket.start += at + 4;
                return Ok(socket);
            }
            if !socket.fill().await? {
                return Err(ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Sends one text frame (masked, as a client must; the mask is zero, which leaves the payload
    /// as it is).
    pub async fn send_text(&mut self, text: &str) -> std::io::Result<()> {
        self.send(0x1, text.as_bytes()).await
    }

    async fn send(&mut self, opcode: u8, payload: &[u8]) -> std::io::Result<()> {
        let mut frame = Vec::with_capacity(payload.len() + 8);
        frame.push(0x80 | opcode);
        match payload.len() {
            n @ 0..=125 => frame.push(0x80 | n as u8),
            n => match u16::try_from(n) {
                Ok(n) => {
                    frame.push(0x80 | 126);
                    frame.extend_from_slice(&n.to_be_bytes());
                }
                Err(_) => {
                    frame.push(0x80 | 127);
                    frame.extend_from_slice(&(n as u64).to_be_bytes());
                }
            },
        }
        frame.extend_from_slice(&[0; 4]);
        frame.extend_from_slice(payload);
        self.write_all(&frame).await
    }

    async fn write_all(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
        while !bytes.is_empty() {
            self.stream.writable().await?;
            match self.stream.try_write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(err) if err.kind() == ErrorKind::WouldBlock => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }

    /// Reads what the socket has, waiting for it; false when the peer closed.
    async fn fill(&mut self) -> std::io::Result<bool> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.end == self.buffer.len() {
            self.buffer.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
            if self.end == self.buffer.len() {
                self.buffer.resize(self.buffer.len() * 2, 0);
            }
        }
        loop {
            self.stream.readable().await?;
            match self.stream.try_read(&mut self.buffer[self.end..]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(err) if err.kind() == ErrorKind::WouldBlock => {}
                Err(err) => return Err(err),
            }
        }
    }

    /// The next text frame (pings are answered, other frames skipped).
    pub async fn next(&mut self) -> std::io::Result<Frame<'_>> {
        loop {
            match self.parse() {
                Some((opcode, from, to)) => match opcode {
                    0x1 => return Ok(Frame::Text(&self.buffer[from..to])),
                    0x8 => return Ok(Frame::Closed),
                    0x9 => {
                        let payload = self.buffer[from..to].to_vec();
                        self.send(0xA, &payload).await?;
                    }
                    _ => {}
                },
                None => {
                    if !self.fill().await? {
                        return Ok(Frame::Closed);
                    }
                }
            }
        }
    }

    /// The next whole frame in the buffer, consumed: its opcode and where its payload is.
    fn parse(&mut self) -> Option<(u8, usize, usize)> {
        let unread = &self.buffer[self.start..self.end];
        let [first, second, ..] = *unread else {
            return None;
        };
        let (length, header) = match second & 0x7F {
            126 => (
                u16::from_be_bytes([*unread.get(2)?, *unread.get(3)?]) as usize,
                4,
            ),
            127 => {
                let bytes: [u8; 8] = unread.get(2..10)?.try_into().ok()?;
                (usize::try_from(u64::from_be_bytes(bytes)).ok()?, 10)
            }
            n => (usize::from(n), 2),
        };
        if unread.len() < header + length {
            return None;
        }
        let from = self.start + header;
        self.start = from + length;
        Some((first & 0x0F, from, from + length))
    }
}
