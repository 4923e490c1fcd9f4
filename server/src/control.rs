//! The control plane: one actix actor that owns the session handle. Commands go in
//! (interventions, readings, pace); the state comes out of the session's `watch` channel,
//! which the stream and the REST reads take directly. Its API is [`Cmd`] and [`Done`]; the
//! simulation is never touched here, only sent inputs.

use std::sync::Arc;

use actix::{Actor, Context, Handler, Message};
use storetwin_actors::store::live::Intervention;
use storetwin_engine::LiveInput;

use crate::api::ApiError;
use crate::ingest::{Ingest, IngestReport, RawReading, Transport};
use crate::session::{Refused, Session};
use crate::telemetry;

/// What the control plane is asked to do.
#[derive(Debug, Message)]
#[rtype(result = "Result<Done, ApiError>")]
pub enum Cmd {
    Intervene(Vec<Intervention>),
    Pause,
    Resume,
    Speed(f64),
    /// A batch of device readings (all checked first; none is taken if one is wrong).
    Readings(Vec<RawReading>, Transport),
}

/// What a command did.
#[derive(Debug)]
pub enum Done {
    /// The inputs were handed to the session at about this sim time (ns).
    Sent {
        at_ns: u64,
        inputs: usize,
    },
    Readings(IngestReport),
}

pub struct ControlPlane {
    session: Arc<Session>,
    ingest: Ingest,
}

impl ControlPlane {
    pub fn new(session: Arc<Session>) -> ControlPlane {
        let ingest = Ingest::new(session.spec.clone());
        ControlPlane { session, ingest }
    }
}

impl Actor for ControlPlane {
    type Context = Context<Self>;
}

fn refused(r: Refused) -> ApiError {
    match r {
        Refused::Ended => ApiError::conflict("the session has ended; it takes no more inputs"),
        Refused::Full => ApiError::busy("the session's input queue is full; retry shortly"),
    }
}

impl Handler<Cmd> for ControlPlane {
    type Result = Result<Done, ApiError>;

    fn handle(&mut self, cmd: Cmd, _ctx: &mut Self::Context) -> Self::Result {
        let session = &self.session;
        let at_ns = session.now().as_nanos();
        let inputs: Vec<LiveInput<_>> = match cmd {
            Cmd::Intervene(list) => {
                if session.room() < list.len() {
                    return Err(refused(Refused::Full));
                }
                for i in &list {
                    let kind = match i {
                        Intervention::SetLaneOpen { open: true, .. } => "open_lane",
                        Intervention::SetLaneOpen { open: false, .. } => "close_lane",
                        Intervention::SetPrice { .. } => "set_price",
                        Intervention::SetDeviceUp { up: false, .. } => "device_offline",
                        Intervention::SetDeviceUp { up: true, .. } => "device_online",
                    };
                    metrics::counter!(telemetry::INTERVENTIONS, "kind" => kind).increment(1);
                }
                list.into_iter()
                    .map(|i| {
                        let (to, msg) = i.to_injection(session.layout);
                        LiveInput::Inject { to, msg }
                    })
                    .collect()
            }
            Cmd::Pause => vec![LiveInput::Pause],
            Cmd::Resume => vec![LiveInput::Resume],
            Cmd::Speed(x) => vec![LiveInput::SetSpeed(x)],
            Cmd::Readings(raw, transport) => {
                let report = self.ingest.take(&raw, transport, &**session)?;
                return Ok(Done::Readings(report));
            }
        };
        let n = inputs.len();
        for input in inputs {
            session.send(input).map_err(refused)?;
        }
        Ok(Done::Sent { at_ns, inputs: n })
    }
}
