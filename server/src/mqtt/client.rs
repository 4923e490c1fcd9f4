//! The connection to an external broker (rumqttc): subscribes to the readings' topics,
//! queues every message for the batcher, and publishes the twin's state.
//!
//! rumqttc's event loop must be polled all the time (it sends the keep-alive pings and
//! reads the socket), so one task does nothing but poll it: messages go to the bounded
//! [`Inbox`] without waiting, and publications are queued on the client from another
//! task. The event loop reconnects by itself when polled again after an error, with no
//! pause of its own, so the task sleeps between attempts (100 ms doubling to 5 s). A new
//! connection is a clean session: the subscription is made again on every `ConnAck`.

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{
    AsyncClient, ConnectionError, Event, EventLoop, LastWill, MqttOptions, Outgoing, Packet, QoS, SubscribeReasonCode,
};

use super::{BrokerUrl, Inbox, MAX_PAYLOAD, Offered, Topics};
use crate::telemetry;

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often an outage is reported at warn level while it lasts.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// A client id unlikely to collide with another server's (two clients with one id take
/// turns kicking each other off the broker), at most 23 characters as MQTT 3.1.1 asks.
fn client_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("storetwin-{}-{:05x}", std::process::id() % 10_000_000, nanos & 0xfffff)
}

/// Runs the connection until `stop`, then publishes `{"online": false}` and disconnects.
pub async fn run(
    url: BrokerUrl,
    topics: Topics,
    state_every: Option<Duration>,
    session: Arc<dyn super::StateSource>,
    inbox: Inbox,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    let state_topic = topics.state();
    let mut options = MqttOptions::new(url.client_id.clone().unwrap_or_else(client_id), url.host.clone(), url.port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_clean_session(true);
    // A batch of readings may be as large as an HTTP body; what the server sends is small.
    options.set_max_packet_size(MAX_PAYLOAD + (64 << 10), 64 << 10);
    if let Some(user) = &url.username {
        options.set_credentials(user.clone(), url.password().unwrap_or_default());
    }
    if state_every.is_some() {
        options.set_last_will(LastWill::new(state_topic.clone(), session.state_json(false), QoS::AtLeastOnce, true));
    }
    let (client, events) = AsyncClient::new(options, 64);
    let mut polling = tokio::spawn(poll(events, client.clone(), topics.filter(), url.to_string(), inbox));
    let publishing = state_every.map(|every| {
        let client = client.clone();
        let session = session.clone();
        let topic = state_topic.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                // Never waits: while the broker is away the state is simply not published.
                let _ = client.try_publish(topic.clone(), QoS::AtLeastOnce, true, session.state_json(true));
            }
        })
    });
    let ended = tokio::select! {
        _ = stop => false,
        _ = &mut polling => true,
    };
    if let Some(p) = publishing {
        p.abort();
    }
    if state_every.is_some() {
        let _ = client.try_publish(state_topic, QoS::AtLeastOnce, true, session.state_json(false));
    }
    let _ = client.try_disconnect();
    // The poll task sends both and ends at the disconnect (or gives up with the broker away).
    if !ended && tokio::time::timeout(Duration::from_secs(2), &mut polling).await.is_err() {
        polling.abort();
    }
    metrics::gauge!(telemetry::MQTT_SUBSCRIBED).set(0.0);
}

/// Polls the event loop until the client disconnects.
async fn poll(mut events: EventLoop, client: AsyncClient, filter: String, broker: String, inbox: Inbox) {
    let mut backoff = FIRST_BACKOFF;
    let mut connected = false;
    let mut warned: Option<tokio::time::Instant> = None;
    loop {
        match events.poll().await {
            Ok(Event::Incoming(Packet::Publish(p))) => {
                if inbox.offer(p.topic, p.payload) == Offered::Closed {
                    return;
                }
            }
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                connected = true;
                backoff = FIRST_BACKOFF;
                warned = None;
                tracing::info!("connected to the MQTT broker {broker}; subscribing to {filter}");
                if let Err(e) = client.try_subscribe(filter.clone(), QoS::AtLeastOnce) {
                    tracing::warn!("cannot subscribe to {filter} on {broker}: {e}");
                }
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                if ack.return_codes.iter().any(|c| matches!(c, SubscribeReasonCode::Failure)) {
                    tracing::error!(
                        "the MQTT broker {broker} refused the subscription to {filter}: no readings will come"
                    );
                } else {
                    metrics::gauge!(telemetry::MQTT_SUBSCRIBED).set(1.0);
                }
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => return,
            Ok(_) => {}
            Err(ConnectionError::RequestsDone) => return,
            Err(e) => {
                metrics::gauge!(telemetry::MQTT_SUBSCRIBED).set(0.0);
                let now = tokio::time::Instant::now();
                let refused = matches!(e, ConnectionError::ConnectionRefused(_));
                if connected || refused || warned.is_none_or(|at| now.duration_since(at) >= WARN_EVERY) {
                    let what = if connected { "lost the connection to" } else { "cannot connect to" };
                    tracing::warn!("MQTT: {what} the broker {broker}: {e}; retrying");
                    warned = Some(now);
                } else {
                    tracing::debug!("MQTT: cannot connect to the broker {broker}: {e}; retrying in {backoff:?}");
                }
                connected = false;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
