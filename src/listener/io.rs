//! A TCP stream that counts the bytes it has read, so a connection cut by the header timer can
//! be told apart: idle since its last answer (`idle_timeout`, a kept-alive client that went
//! quiet) or midway through a request head (`header_timeout`, a slow or malicious client).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Bytes read on one connection: in total, and when the latest answer was ready.
#[derive(Default)]
pub struct Activity {
    read: AtomicU64,
    at_last_answer: AtomicU64,
}

impl Activity {
    /// Marks the moment an answer is ready: what arrives after it belongs to the next request.
    pub fn answered(&self) {
        self.at_last_answer
            .store(self.read.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// True when nothing arrived since the latest answer (or since the connection opened).
    pub fn idle(&self) -> bool {
        self.read.load(Ordering::Relaxed) == self.at_last_answer.load(Ordering::Relaxed)
    }
}

/// `TcpStream` that adds what it reads to an [`Activity`].
pub struct CountingStream {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl CountingStream {
    /// Wraps `inner`.
    pub fn new(inner: TcpStream, activity: Arc<Activity>) -> Self {
        CountingStream { inner, activity }
    }
}

impl AsyncRead for CountingStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = (buf.filled().len() - before) as u64;
        self.activity.read.fetch_add(n, Ordering::Relaxed);
        r
    }
}

impl AsyncWrite for CountingStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
