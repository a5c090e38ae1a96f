//! jolt's own loopback sink: a UDP socket or a TCP listener on an ephemeral 127.0.0.1 port
//! that reads and counts whatever a network action sends, and closes when the action ends.

use super::Protocol;
use prometheus_client::metrics::counter::Counter;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinSet;

/// Receive buffer size: the largest UDP datagram fits.
const BUF: usize = 64 * 1024;

/// A running sink; dropping it closes its sockets.
pub struct Sink {
    /// Where senders send.
    pub addr: SocketAddr,
    /// Bytes received so far.
    pub received: Arc<AtomicU64>,
    tasks: JoinSet<()>,
}

impl Sink {
    /// Binds the sink for `protocol` and starts reading.
    pub async fn start(protocol: Protocol, counter: Counter) -> std::io::Result<Sink> {
        let any: SocketAddr = (Ipv4Addr::LOCALHOST, 0).into();
        let received = Arc::new(AtomicU64::new(0));
        let mut tasks = JoinSet::new();
        let addr = match protocol {
            Protocol::Udp => {
                let socket = UdpSocket::bind(any).await?;
                let addr = socket.local_addr()?;
                tasks.spawn(read_udp(socket, received.clone(), counter));
                addr
            }
            Protocol::Tcp => {
                let listener = TcpListener::bind(any).await?;
                let addr = listener.local_addr()?;
                tasks.spawn(accept_tcp(listener, received.clone(), counter));
                addr
            }
        };
        Ok(Sink {
            addr,
            received,
            tasks,
        })
    }

    /// Lets what is already on its way arrive (until nothing new comes for a moment, at most
    /// `limit`), then closes every socket of the sink.
    pub async fn finish(mut self, limit: Duration) {
        let quiet = Duration::from_millis(20);
        let deadline = tokio::time::Instant::now() + limit;
        let mut last = self.received.load(Relaxed);
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(quiet).await;
            let now = self.received.load(Relaxed);
            if now == last {
                break;
            }
            last = now;
        }
        self.tasks.shutdown().await;
    }
}

async fn read_udp(socket: UdpSocket, received: Arc<AtomicU64>, counter: Counter) {
    let mut buf = vec![0u8; BUF];
    while let Ok(n) = socket.recv(&mut buf).await {
        received.fetch_add(n as u64, Relaxed);
        counter.inc_by(n as u64);
    }
}

async fn accept_tcp(listener: TcpListener, received: Arc<AtomicU64>, counter: Counter) {
    // Readers live in this set, so aborting the accept task closes their sockets too.
    let mut readers = JoinSet::new();
    while let Ok((mut stream, _)) = listener.accept().await {
        let (received, counter) = (received.clone(), counter.clone());
        readers.spawn(async move {
            let mut buf = vec![0u8; BUF];
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                received.fetch_add(n as u64, Relaxed);
                counter.inc_by(n as u64);
            }
        });
        while readers.try_join_next().is_some() {}
    }
}
