//! `GET /events/stream`: the event log as server-sent events.
//!
//! One SSE event per jolt event (`id:` = event id, `event:` = type, `data:` = the event as
//! JSON). A client resumes where it left off with `Last-Event-ID` (browsers send it on
//! reconnect) or `?since=ID`: the retained events after that id are replayed from the ring
//! first, then new ones follow live (an id newer than any event, e.g. from before a restart,
//! means "from now"). The stream ends when the daemon shuts down, so open
//! streams never hold up exit.

use super::routes::Route;
use super::{ApiError, ControlState};
use crate::events::{Event, Events};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{self, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;
use utoipa_axum::routes;

/// How often an idle stream sends a comment, so proxies and clients see it is alive.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Query of `GET /events/stream`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// Replay retained events with an id greater than this first.
    pub since: Option<u64>,
}

/// `GET /events/stream`.
#[utoipa::path(
    get,
    path = "/events/stream",
    tag = "events",
    params(
        ("since" = Option<u64>, Query, description = "Replay retained events after this id first"),
        ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this id (wins over since)"),
    ),
    responses(
        (status = 200, description = "text/event-stream: `id:` event id, `event:` type, `data:` the event as JSON", content_type = "text/event-stream", body = String),
        (status = 400, description = "since or Last-Event-ID is not a number", body = super::error::ErrorBody),
    )
)]
pub async fn stream(
    State(st): State<ControlState>,
    headers: HeaderMap,
    query: Result<Query<StreamQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<sse::Event, Infallible>>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_field("since", e.body_text()))?;
    let last_event_id = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::bad_field("Last-Event-ID", "Last-Event-ID must be an event id")
                })?,
        ),
        None => None,
    };
    let rx = st.events.subscribe();
    let retained = st.events.since(0);
    // An id beyond the newest one comes from before a daemon restart (ids start again at 1):
    // resume from now rather than skipping every new event until the ids catch up.
    let newest = retained.last().map_or(0, |e| e.id);
    let since = last_event_id.or(q.since).unwrap_or(0).min(newest);
    let backlog = retained.into_iter().filter(|e| e.id > since).collect();
    let state = Feed {
        events: st.events.clone(),
        rx,
        backlog,
        last: since,
        shutdown: st.shutdown.clone(),
    };
    let stream = futures_util::stream::unfold(state, |mut feed| async move {
        let event = feed.next().await?;
        Some((Ok(to_sse(&event)), feed))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// The per-connection cursor: replayed backlog first, then the live channel, never an id twice.
struct Feed {
    events: Events,
    rx: broadcast::Receiver<Event>,
    backlog: VecDeque<Event>,
    last: u64,
    shutdown: CancellationToken,
}

impl Feed {
    /// The next event after `last`, or `None` at shutdown.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(e) = self.backlog.pop_front() {
                if e.id > self.last {
                    self.last = e.id;
                    return Some(e);
                }
                continue;
            }
            let received = tokio::select! {
                _ = self.shutdown.cancelled() => return None,
                r = self.rx.recv() => r,
            };
            match received {
                Ok(e) if e.id > self.last => {
                    self.last = e.id;
                    return Some(e);
                }
                Ok(_) => {}
                // A slow reader fell behind the channel: catch up from the ring instead.
                Err(RecvError::Lagged(_)) => self.backlog = self.events.since(self.last).into(),
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

fn to_sse(e: &Event) -> sse::Event {
    let data = serde_json::to_string(e).unwrap_or_else(|_| "{}".into());
    sse::Event::default()
        .id(e.id.to_string())
        .event(&e.kind)
        .data(data)
}

/// This file's rows of the route table.
pub(super) fn routes() -> Vec<Route> {
    vec![Route::new(
        routes!(stream),
        "the event log as server-sent events (Last-Event-ID or ?since=ID resumes)",
        "-N {addr}/events/stream",
    )]
}
