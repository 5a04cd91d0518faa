//! The machine's floor for a fan-out: what the kernel alone charges to deliver one small frame
//! over loopback TCP (one `send` on the server's side; one wake and `read` on the client's, whose
//! sockets are registered with the runtime as the bench's are), with nothing else to do. No server
//! can deliver N frames on C cores in less than N × (send + read) / C: the bench prints it beside
//! the latency it measured.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Per-frame CPU of a loopback `send` and of its `read`, in microseconds (the best of three
/// passes over `pairs` connected sockets, `frame` bytes each).
pub async fn loopback_costs(pairs: usize, frame: usize) -> std::io::Result<(f64, f64)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    let mut senders = Vec::with_capacity(pairs);
    let mut readers = Vec::with_capacity(pairs);
    for _ in 0..pairs {
        let reader = TcpStream::connect(address)?;
        let (sender, _) = listener.accept()?;
        sender.set_nodelay(true)?;
        reader.set_nodelay(true)?;
        reader.set_nonblocking(true)?;
        senders.push(sender);
        readers.push(tokio::net::TcpStream::from_std(reader)?);
    }
    let mut buffer = vec![0; frame];
    let (mut send, mut read) = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        let sending = tokio::task::spawn_blocking(move || {
            let payload = vec![b'x'; frame];
            let started = Instant::now();
            let sent = senders.iter_mut().try_for_each(|s| s.write_all(&payload));
            (senders, sent, started.elapsed())
        });
        let (back, sent, took) = sending.await.map_err(std::io::Error::other)?;
        sent?;
        senders = back;
        send = send.min(micros_each(took, pairs));
        let started = Instant::now();
        for reader in &readers {
            let mut got = 0;
            while got < frame {
                reader.readable().await?;
                match reader.try_read(&mut buffer[got..]) {
                    Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                    Ok(n) => got += n,
                    Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(err) => return Err(err),
                }
            }
        }
        read = read.min(micros_each(started.elapsed(), pairs));
    }
    Ok((send, read))
}

fn micros_each(took: Duration, count: usize) -> f64 {
    took.as_secs_f64() * 1e6 / count as f64
}
