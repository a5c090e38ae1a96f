//! The sending side: one UDP socket or TCP connection, writing chunks when they are due.

use super::sink::Sink;
use super::{NetworkParams, Protocol};
use crate::actions::RunCtx;
use crate::actions::network::metrics::ProtocolLabels;
use crate::actions::pacer::Pacer;
use crate::telemetry::FGaugeShare;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::Instant;

/// How often `achieved` is refreshed.
const REPORT_EVERY: Duration = Duration::from_millis(250);
/// Largest UDP datagram towards a real peer: fits a 1500-byte MTU, so no IP fragments.
const PEER_DATAGRAM: usize = 1472;
/// Largest UDP datagram towards the loopback sink (loopback's MTU is 64 KiB).
const LOOPBACK_DATAGRAM: usize = 8192;
/// Largest TCP write.
const TCP_CHUNK: usize = 64 * 1024;
/// How long the sink may keep reading what is still on its way after sending stops.
const DRAIN: Duration = Duration::from_millis(500);

/// An open sending socket.
enum Conn {
    Udp(UdpSocket),
    Tcp(TcpStream),
}

impl Conn {
    async fn open(protocol: Protocol, to: SocketAddr) -> std::io::Result<Conn> {
        Ok(match protocol {
            Protocol::Udp => {
                let from: SocketAddr = if to.is_ipv4() {
                    "0.0.0.0:0".parse().expect("literal")
                } else {
                    "[::]:0".parse().expect("literal")
                };
                let s = UdpSocket::bind(from).await?;
                s.connect(to).await?;
                Conn::Udp(s)
            }
            Protocol::Tcp => Conn::Tcp(TcpStream::connect(to).await?),
        })
    }

    async fn send(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Conn::Udp(s) => s.send(buf).await.map(drop),
            Conn::Tcp(s) => s.write_all(buf).await,
        }
    }
}

/// Sends at the rate for `duration` of active time, then closes everything.
pub async fn run(p: NetworkParams, ctx: RunCtx) -> Result<(), String> {
    let m = &ctx.env.metrics;
    let labels = ProtocolLabels {
        protocol: p.protocol.as_str().into(),
    };
    let sent_counter = m.kinds.network.sent.get_or_create(&labels).clone();
    let received_counter = m.kinds.network.received.get_or_create(&labels).clone();
    let sink = match &p.peer {
        None => Some(
            Sink::start(p.protocol, received_counter)
                .await
                .map_err(|e| format!("cannot open the loopback sink: {e}"))?,
        ),
        Some(_) => None,
    };
    let to = match (&sink, &p.peer) {
        (Some(s), _) => s.addr,
        (None, Some(peer)) => resolve(peer).await?,
        (None, None) => unreachable!("no peer means a sink"),
    };
    let mut conn = Conn::open(p.protocol, to).await.map_err(|e| {
        format!(
            "cannot open a {} connection to {to}: {e}",
            p.protocol.as_str()
        )
    })?;
    let bytes_per_sec = p.mbps * 1e6 / 8.0;
    let target = bytes_per_sec.round();
    // This action's share of `jolt_network_target_bytes_per_second` (whole bytes, so the sum
    // over actions returns to exactly 0).
    let _target: FGaugeShare<&_> = FGaugeShare::with(&m.kinds.network.target, target);
    // About a millisecond's worth per write, so pacing is smooth at any rate.
    let max_chunk = match (p.protocol, &sink) {
        (Protocol::Udp, Some(_)) => LOOPBACK_DATAGRAM,
        (Protocol::Udp, None) => PEER_DATAGRAM,
        (Protocol::Tcp, _) => TCP_CHUNK,
    };
    let chunk = ((bytes_per_sec / 1000.0) as usize).clamp(512, max_chunk);
    let payload = vec![0x6au8; chunk];
    // `pos` is where the schedule is; `sent` what actually left (a failed datagram moves the
    // schedule on without counting as sent).
    let (mut pos, mut sent, mut errors) = (0u64, 0u64, 0u64);
    let mut pacer = Pacer::start(&ctx);
    let mut next_report = pacer.origin();
    let received = || sink.as_ref().map(|s| s.received.load(Relaxed));
    loop {
        if pacer.paused() {
            report(&ctx, &p, sent, received(), errors);
            if !pacer.wait_resumed().await {
                break;
            }
            continue;
        }
        let now = Instant::now();
        let active = now.duration_since(pacer.origin()).min(p.duration.0);
        let due = (active.as_secs_f64() * bytes_per_sec) as u64;
        while pos + chunk as u64 <= due {
            tokio::select! {
                biased;
                _ = ctx.cancelled() => break,
                r = conn.send(&payload) => match r {
                    Ok(()) => {
                        sent += chunk as u64;
                        sent_counter.inc_by(chunk as u64);
                    }
                    // A peer's ICMP "port unreachable" or a full buffer: counted, not fatal.
                    Err(e) if p.protocol == Protocol::Udp => {
                        errors += 1;
                        tracing::debug!(error = %e, "udp send failed");
                    }
                    Err(e) => return Err(format!("tcp connection to {to} failed: {e}")),
                }
            }
            pos += chunk as u64;
        }
        if now >= next_report {
            report(&ctx, &p, sent, received(), errors);
            next_report = now + REPORT_EVERY;
        }
        if ctx.is_cancelled() || active >= p.duration.0 {
            break;
        }
        let next_due =
            pacer.origin() + Duration::from_secs_f64((pos + chunk as u64) as f64 / bytes_per_sec);
        if !pacer.sleep_until(next_due.min(next_report)).await {
            break;
        }
    }
    // Closing the sender first lets a TCP sink see the end of the stream.
    drop(conn);
    let received = match sink {
        Some(s) => {
            let counted = s.received.clone();
            s.finish(if ctx.is_cancelled() {
                Duration::ZERO
            } else {
                DRAIN
            })
            .await;
            Some(counted.load(Relaxed))
        }
        None => None,
    };
    report(&ctx, &p, sent, received, errors);
    Ok(())
}

/// Publishes progress and `achieved`: the bit rate sent over the active time so far.
fn report(ctx: &RunCtx, p: &NetworkParams, sent: u64, received: Option<u64>, errors: u64) {
    let secs = ctx.elapsed().min(p.duration.0).as_secs_f64();
    let mbps = if secs > 0.0 {
        sent as f64 * 8.0 / secs / 1e6
    } else {
        0.0
    };
    ctx.report(
        ctx.time_progress(p.duration.0),
        json!({ "mbps": mbps, "bytes_sent": sent, "bytes_received": received, "errors": errors }),
    );
}

async fn resolve(peer: &str) -> Result<SocketAddr, String> {
    tokio::net::lookup_host(peer)
        .await
        .map_err(|e| format!("cannot resolve {peer}: {e}"))?
        .next()
        .ok_or_else(|| format!("{peer} resolves to no address"))
}
