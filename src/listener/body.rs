//! A request body with a deadline: a client that trickles its body slower than the whole
//! `body_timeout` allows gets an error (and its connection closed) instead of holding a task
//! and a connection slot forever.

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Sleep;

/// The error a late body ends with.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?} (http.body_timeout)")]
pub struct BodyTimeout(pub Duration);

/// `Incoming` that fails once its deadline passes; `on_timeout` runs once when it does.
pub struct DeadlineBody {
    inner: Incoming,
    limit: Duration,
    deadline: Pin<Box<Sleep>>,
    on_timeout: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl DeadlineBody {
    /// `inner` must be complete within `limit` from now.
    pub fn new(
        inner: Incoming,
        limit: Duration,
        on_timeout: impl FnOnce() + Send + Sync + 'static,
    ) -> Self {
        DeadlineBody {
            inner,
            limit,
            deadline: Box::pin(tokio::time::sleep(limit)),
            on_timeout: Some(Box::new(on_timeout)),
        }
    }
}

impl Body for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            if let Some(f) = self.on_timeout.take() {
                f();
            }
            return Poll::Ready(Some(Err(BodyTimeout(self.limit).into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
