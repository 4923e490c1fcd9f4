//! One stream client: its own task, holding nothing but a `watch` receiver of the latest
//! frame. At its rate it sends the newest frame it has not sent; a client that reads slowly
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

pub async fn serve_client(session: Arc<Session>, mut ws: actix_ws::Session, mut messages: MessageStream, every: Duration, heat: bool) {
    metrics::gauge!(telemetry::CLIENTS).increment(1.0);
    if heat {
        session.heat_clients.fetch_add(1, Ordering::Relaxed);
    }
    let mut latest = session.latest.clone();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut heard = Instant::now();
    let mut sent_seq = 0;
    let sent = metrics::counter!(telemetry::FRAMES_SENT);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let frame = latest.borrow_and_update().clone();
                if frame.seq == sent_seq {
                    continue;
                }
                let text = match (&frame.json_heat, heat) {
                    (Some(with_heat), true) => with_heat.clone(),
                    _ => frame.json.clone(),
                };
                if ws.text(text).await.is_err() {
                    break;
                }
                sent.increment(1);
                sent_seq = frame.seq;
            }
            _ = ping.tick() => {
                if heard.elapsed() > SILENCE || ws.ping(b"").await.is_err() {
                    break;
                }
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
            }
        }
    }
    if heat {
        session.heat_clients.fetch_sub(1, Ordering::Relaxed);
    }
    metrics::gauge!(telemetry::CLIENTS).decrement(1.0);
    let _ = ws.close(None).await;
}
