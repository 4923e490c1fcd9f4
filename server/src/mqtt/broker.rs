//! The MQTT broker inside the server (cargo feature `mqtt-broker`): rumqttd listening on
//! `--mqtt-listen`, so the store's devices can publish to the server itself.
//!
//! The server reads it through rumqttd's in-process link (`Broker::link`): no socket and
//! no credentials of its own. rumqttd's `Broker::start` and `LinkRx::recv` block, so each
//! has a thread. The link stalls once the router has unscheduled it (its buffer of 200
//! notifications filled) unless the reader says it is ready again, which the reader does
//! at every `Unschedule`. With tokens configured, a device connects with an operator token
//! as its MQTT password (any user name), as `POST /v1/readings` needs one.
//!
//! rumqttd has no way to stop (its shutdown is not released), so the broker lives as long
//! as the process; stopping the server stops reading it. It keeps retained messages in
//! memory only, and speaks MQTT 3.1.1 here (the v4 listener).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use rumqttd::local::{LinkRx, LinkTx};
use rumqttd::protocol::{Packet, Publish};
use rumqttd::{Config, ConnectionSettings, Notification, RouterConfig, ServerSettings};

use super::{Inbox, MAX_PAYLOAD, Offered, Topics};
use crate::auth::{Role, Tokens};
use crate::telemetry;

/// The embedded broker, listening, with the server's link to it.
pub struct Embedded {
    pub addr: SocketAddr,
    link_tx: LinkTx,
    link_rx: LinkRx,
}

fn config(addr: SocketAddr, tokens: &Tokens) -> Config {
    let mut connections = ConnectionSettings {
        connection_timeout_ms: 10_000,
        max_payload_size: MAX_PAYLOAD,
        max_inflight_count: 100,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    if !tokens.is_open() {
        let tokens = tokens.clone();
        connections.set_auth_handler(move |_client: String, _user: String, password: String| {
            let operator = tokens.role_of(Some(password.as_str())) == Some(Role::Operator);
            async move { operator }
        });
    }
    let server = ServerSettings {
        name: "storetwin-mqtt-v4".into(),
        listen: addr,
        tls: None,
        next_connection_delay_ms: 1,
        connections,
    };
    Config {
        id: 0,
        router: RouterConfig {
            max_connections: 1000,
            max_outgoing_packet_count: 200,
            // A segment holds at least the largest message.
            max_segment_size: 2 * MAX_PAYLOAD,
            max_segment_count: 4,
            custom_segment: None,
            initialized_filters: None,
            shared_subscriptions_strategy: Default::default(),
        },
        v4: Some(HashMap::from([("1".to_owned(), server)])),
        ..Config::default()
    }
}

impl Embedded {
    /// Starts the broker on `addr` and waits until it accepts connections.
    pub fn start(addr: SocketAddr, tokens: &Tokens) -> anyhow::Result<Embedded> {
        if addr.port() == 0 {
            bail!("--mqtt-listen {addr}: give a port (devices must know where to publish), like 127.0.0.1:1883");
        }
        if tokens.is_open() && !addr.ip().is_loopback() {
            bail!(
                "--mqtt-listen {addr}: a non-loopback address needs tokens (--tokens FILE, or {} / {}); without them \
                 anyone who can reach the broker could feed the twin readings (with tokens, a device's MQTT password \
                 is an operator token)",
                crate::auth::OPERATOR_ENV,
                crate::auth::VIEWER_ENV
            );
        }
        // rumqttd binds in a thread of its own and only logs a failure: bind here first, to say it.
        drop(TcpListener::bind(addr).with_context(|| format!("--mqtt-listen {addr}: cannot listen there"))?);
        let mut broker = rumqttd::Broker::new(config(addr, tokens));
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let (link_tx, link_rx) = broker
            .link(&format!("storetwin-ingest-{}-{nanos:x}", std::process::id()))
            .map_err(|e| anyhow::anyhow!("the embedded MQTT broker refused the server's link: {e}"))?;
        let thread = std::thread::Builder::new()
            .name("storetwin-mqtt-broker".into())
            .spawn(move || {
                if let Err(e) = broker.start() {
                    tracing::error!("the embedded MQTT broker stopped: {e}");
                }
            })
            .context("cannot start the MQTT broker's thread")?;
        let probe = match addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port()),
            IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port()),
            _ => addr,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if thread.is_finished() {
                bail!("--mqtt-listen {addr}: the embedded MQTT broker stopped as it started (is the port taken?)");
            }
            if TcpStream::connect_timeout(&probe, Duration::from_millis(200)).is_ok() {
                break;
            }
            if Instant::now() > deadline {
                bail!("--mqtt-listen {addr}: the embedded MQTT broker does not accept connections after 10 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Embedded { addr, link_tx, link_rx })
    }

    /// Reads the link into `inbox` and publishes the state until `stop`.
    pub async fn run(
        self,
        topics: Topics,
        state_every: Option<Duration>,
        session: Arc<dyn super::StateSource>,
        inbox: Inbox,
        stop: tokio::sync::oneshot::Receiver<()>,
    ) {
        let Embedded { mut link_tx, link_rx, .. } = self;
        let filter = topics.filter();
        if let Err(e) = link_tx.subscribe(filter.clone()) {
            tracing::error!("cannot subscribe to {filter} on the embedded MQTT broker: {e}");
            return;
        }
        if let Err(e) =
            std::thread::Builder::new().name("storetwin-mqtt-link".into()).spawn(move || read(link_rx, &inbox))
        {
            tracing::error!("cannot start the MQTT link's thread: {e}");
            return;
        }
        let topic = Bytes::from(topics.state());
        let Some(every) = state_every else {
            let _ = stop.await;
            let _ = link_tx.unsubscribe(filter);
            return;
        };
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                _ = tick.tick() => {
                    let publish = Publish::new(topic.clone(), Bytes::from(session.state_json(true)), true);
                    if let Err(e) = link_tx.send(Packet::Publish(publish, None)).await {
                        tracing::warn!("cannot publish the twin's state on the embedded MQTT broker: {e}");
                    }
                }
            }
        }
        let _ = link_tx.unsubscribe(filter);
        let offline = Publish::new(topic, Bytes::from(session.state_json(false)), true);
        let _ = link_tx.send(Packet::Publish(offline, None)).await;
        metrics::gauge!(telemetry::MQTT_SUBSCRIBED).set(0.0);
    }
}

/// The link reader (its own thread: `recv` blocks).
fn read(mut link_rx: LinkRx, inbox: &Inbox) {
    loop {
        match link_rx.recv() {
            Ok(Some(Notification::Forward(forward))) => {
                let Ok(topic) = String::from_utf8(forward.publish.topic.to_vec()) else {
                    metrics::counter!(telemetry::REJECTED, "reason" => "malformed", "via" => "mqtt").increment(1);
                    continue;
                };
                if inbox.offer(topic, forward.publish.payload) == Offered::Closed {
                    return;
                }
            }
            // The one acknowledgement the link waits for is its subscription's.
            Ok(Some(Notification::DeviceAck(_))) => metrics::gauge!(telemetry::MQTT_SUBSCRIBED).set(1.0),
            Ok(Some(Notification::Unschedule)) => {
                if let Err(e) = link_rx.ready() {
                    tracing::error!("the embedded MQTT broker's link failed: {e}");
                    return;
                }
            }
            Ok(Some(Notification::Disconnect(..))) => {
                tracing::error!("the embedded MQTT broker dropped the server's link: no more readings over MQTT");
                metrics::gauge!(telemetry::MQTT_SUBSCRIBED).set(0.0);
                return;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!("the embedded MQTT broker's link failed: {e}");
                metrics::gauge!(telemetry::MQTT_SUBSCRIBED).set(0.0);
                return;
            }
        }
    }
}
