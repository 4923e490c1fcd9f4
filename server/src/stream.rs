//! One stream client: its own task, holding nothing but a `watch` receiver of the latest
//! frame. It sends each newly published frame at once, as often as the client's rate allows
//! (a frame that comes too soon for it is skipped); a client that reads slowly
//! makes only its own task wait (in actix-ws's bounded send), and when it catches up it
//! gets the newest frame, skipping the ones in between. The simulation and the other
//! clients never wait for it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use actix_ws::{Message, MessageStream};
use tokio::time::MissedTickBehavior;

use crate::session::Session;
use crate::telemetry;

/// A client that has said nothing (not even a pong) for this long is dropped.
const SILENCE: Duration = Duration::from_secs(30);
const PING_EVERY: Duration = Duration::from_secs(10);

pub async fn serve_client(
    session: Arc<Session>,
    ws: actix_ws::Session,
    messages: MessageStream,
    every: Duration,
    heat: bool,
) {
    let feed = Feed {
        latest: session.latest.clone(),
        heat_clients: session.heat_clients.clone(),
        frame_every: session.frame_every,
        done: None,
    };
    serve_feed(feed, ws, messages, every, heat).await;
}

/// What a stream client is fed from: the latest frames of one store, the count of clients
/// that want the heat map, the publishing interval, and what to do when the client goes.
pub struct Feed {
    pub latest: tokio::sync::watch::Receiver<Arc<crate::session::Published>>,
    pub heat_clients: Arc<std::sync::atomic::AtomicUsize>,
    pub frame_every: Duration,
    pub done: Option<Box<dyn FnOnce() + Send>>,
}

/// Serves one client from `feed` (see the module doc).
pub async fn serve_feed(
    feed: Feed,
    mut ws: actix_ws::Session,
    mut messages: MessageStream,
    every: Duration,
    heat: bool,
) {
    let Feed { mut latest, heat_clients, frame_every, done } = feed;
    metrics::gauge!(telemetry::CLIENTS).increment(1.0);
    if heat {
        heat_clients.fetch_add(1, Ordering::Relaxed);
    }
    // A frame goes out as soon as it is published, unless it comes too soon for the client's
    // rate: then it is skipped and a later one goes (a rate is met on the publishing grid:
    // 10 Hz of 20 Hz is every other frame). Half a publishing interval of slack keeps a
    // client from missing its frame to jitter.
    let spacing = every.saturating_sub(frame_every / 2);
    let mut next_allowed = Instant::now();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut heard = Instant::now();
    let mut sent_seq = 0;
    let sent = metrics::counter!(telemetry::FRAMES_SENT);
    loop {
        tokio::select! {
            changed = latest.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            _ = ping.tick() => {
                if heard.elapsed() > SILENCE || ws.ping(b"").await.is_err() {
                    break;
                }
                continue;
            }
            message = messages.recv() => {
                heard = Instant::now();
                match message {
                    Some(Ok(Message::Ping(bytes))) => {
                        if ws.pong(&bytes).await.is_err() {
                            break;
                        }
                    }
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                    Some(Ok(_)) => {}
                }
                continue;
            }
        }
        let frame = latest.borrow_and_update().clone();
        // Too soon for the client's rate: this one is skipped (the session's last frame never is).
        if frame.seq == sent_seq || (Instant::now() < next_allowed && !frame.wire.status.done) {
            continue;
        }
        let text = match (&frame.json_heat, heat) {
            (Some(with_heat), true) => with_heat.clone(),
            _ => frame.json.clone(),
        };
        next_allowed = Instant::now() + spacing;
        if ws.text(text).await.is_err() {
            break;
        }
        sent.increment(1);
        sent_seq = frame.seq;
    }
    if heat {
        heat_clients.fetch_sub(1, Ordering::Relaxed);
    }
    if let Some(done) = done {
        done();
    }
    metrics::gauge!(telemetry::CLIENTS).decrement(1.0);
    let _ = ws.close(None).await;
}
