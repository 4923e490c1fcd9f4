//! The live twin server (`storetwin serve`): a paced session of one store, served over HTTP
//! and WebSocket with actix-web on tokio, fed by the store's sensors over HTTP and MQTT.
//!
//! The server owns no simulation truth: the session thread ([`session`]) alone runs the
//! store, and everything from outside (an intervention, a reading) becomes an injected
//! event that the kernel records and the session log ([`journal`]) keeps, so a session
//! replays exactly. [`control`] is the one control-plane actor (commands in); frames come
//! out through a `watch` channel to the REST reads and to each stream client ([`stream`]).
//! [`forecast`] answers what-ifs from a fork of the live state, [`ingest`] checks and
//! normalises readings (from `POST /v1/readings`, and from an MQTT broker through [`mqtt`]),
//! [`auth`] the tokens, [`telemetry`] the Prometheus metrics, and [`page`] is the browser
//! view.

pub mod actions;
pub mod api;
pub mod auth;
pub mod chain;
pub mod control;
pub mod forecast;
pub mod ingest;
pub mod journal;
pub mod mqtt;
pub mod page;
pub mod session;
pub mod stream;
pub mod telemetry;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use actix::Actor as _;
use anyhow::{Context as _, bail};
use storetwin_engine::SimTime;

use crate::auth::Tokens;
use crate::session::Session;

/// How to serve.
#[derive(Clone, Debug)]
pub struct Options {
    pub scenario: PathBuf,
    pub listen: SocketAddr,
    pub speed: f64,
    pub paused: bool,
    pub seed: Option<u64>,
    pub until: Option<SimTime>,
    /// The session log.
    pub log: PathBuf,
    pub tokens: Tokens,
    /// Wall time between published frames.
    pub frame_every: Duration,
    /// HTTP worker threads.
    pub workers: usize,
    /// Stop on Ctrl-C / SIGTERM (the command line); tests stop the server themselves.
    pub signals: bool,
    /// Readings over MQTT too (`None`: over HTTP only).
    pub mqtt: Option<mqtt::Settings>,
}

impl Options {
    pub fn new(scenario: impl Into<PathBuf>, log: impl Into<PathBuf>) -> Options {
        Options {
            scenario: scenario.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            speed: 60.0,
            paused: false,
            seed: None,
            until: None,
            log: log.into(),
            tokens: Tokens::default(),
            frame_every: Duration::from_millis(50),
            workers: 2,
            signals: false,
            mqtt: None,
        }
    }
}

/// A session a server runs (one store's or a chain's): stopping it gives its end.
pub trait Stops {
    type End;
    /// Asks the session to stop, and waits for its end (the first caller gets it).
    fn stop(&self) -> Option<anyhow::Result<Self::End>>;
}

impl Stops for Session {
    type End = session::Ended;
    fn stop(&self) -> Option<anyhow::Result<session::Ended>> {
        Session::stop(self)
    }
}

impl Stops for chain::ChainSession {
    type End = chain::ChainEnded;
    fn stop(&self) -> Option<anyhow::Result<chain::ChainEnded>> {
        chain::ChainSession::stop(self)
    }
}

/// A running server: one store's ([`start`]) or a chain's ([`ChainRunning`]).
pub struct Running<S: Stops = Session> {
    /// The address it listens on (the port chosen, if 0 was asked).
    pub addr: SocketAddr,
    pub session: Arc<S>,
    /// The MQTT ingest, if asked for (a chain's: every store's topics).
    pub mqtt: Option<mqtt::Running>,
    http: Http,
}

/// A running chain server ([`start_chain`]).
pub type ChainRunning = Running<chain::ChainSession>;

impl<S: Stops> Running<S> {
    /// Stops the server and the session.
    pub fn stop(mut self) -> anyhow::Result<()> {
        if let Some(mqtt) = &mut self.mqtt {
            mqtt.stop();
        }
        self.http.stop();
        ended(self.session.stop())
    }

    /// Serves until the process is told to stop (Ctrl-C, SIGTERM), then stops the session.
    pub fn wait(mut self) -> anyhow::Result<()> {
        self.http.join()?;
        if let Some(mqtt) = &mut self.mqtt {
            mqtt.stop();
        }
        ended(self.session.stop())
    }
}

/// A session's outcome as a server's: an error if it failed.
fn ended<T>(outcome: Option<anyhow::Result<T>>) -> anyhow::Result<()> {
    match outcome {
        Some(Err(e)) => Err(e),
        _ => Ok(()),
    }
}

/// The HTTP side of a server: actix-web on its own thread (in an actix system), and its
/// handle.
struct Http {
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Http {
    /// Stops serving and waits for the thread.
    fn stop(&mut self) {
        let handle = self.handle.clone();
        // The handle's future completes once the server has stopped.
        let _ = std::thread::spawn(move || actix_web::rt::System::new().block_on(handle.stop(true))).join();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Waits until the server stops (a signal, with `signals`).
    fn join(&mut self) -> anyhow::Result<()> {
        if let Some(thread) = self.thread.take() {
            thread.join().map_err(|_| anyhow::anyhow!("the server thread panicked"))?.context("the server failed")?;
        }
        Ok(())
    }
}

/// Serves `routes` at `listen` with the state `make` builds inside the server's actix system
/// (where an actor can start), counting every request by route and status; returns once it
/// listens.
fn serve_http<D: Send + Sync + 'static>(
    listen: SocketAddr,
    workers: usize,
    signals: bool,
    make: impl FnOnce() -> actix_web::web::Data<D> + Send + 'static,
    routes: fn(&mut actix_web::web::ServiceConfig),
) -> anyhow::Result<(SocketAddr, Http)> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("storetwin-http".into())
        .spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let state = make();
                let server = actix_web::HttpServer::new(move || {
                    actix_web::App::new().app_data(state.clone()).wrap_fn(|req, srv| {
                        use actix_web::dev::Service as _;
                        let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
                        let call = srv.call(req);
                        async move {
                            let res = call.await?;
                            metrics::counter!(telemetry::REQUESTS, "route" => route, "status" => res.status().as_u16().to_string()).increment(1);
                            Ok(res)
                        }
                    }).configure(routes)
                })
                .workers(workers.max(1))
                .shutdown_timeout(2);
                let server = if signals { server } else { server.disable_signals() };
                let server = match server.bind(listen) {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready_tx.send(Err(anyhow::anyhow!("cannot listen on {listen}: {e}")));
                        return Ok(());
                    }
                };
                let addr = server.addrs().first().copied().unwrap_or(listen);
                let server = server.run();
                let _ = ready_tx.send(Ok((addr, server.handle())));
                server.await
            })
        })
        .context("cannot start the server thread")?;
    let (addr, handle) = ready_rx.recv().context("the server thread ended before it listened").and_then(|r| r)?;
    Ok((addr, Http { handle, thread: Some(thread) }))
}

/// Loads a store scenario for serving; a chain file is refused plainly (see
/// [`start_chain`]).
pub fn load_store(path: &Path) -> anyhow::Result<storetwin_scenarios::Scenario> {
    if is_chain(path) {
        bail!("{}: a chain file; serve it with `start_chain` (`storetwin serve` does)", path.display());
    }
    storetwin_scenarios::load(path).map_err(|e| anyhow::anyhow!("{:?}", miette::Report::new(e)))
}

/// Whether `path` is a chain (or load test) file rather than one store's scenario.
pub fn is_chain(path: &Path) -> bool {
    matches!(storetwin_scenarios::file_kind(path), Ok(storetwin_scenarios::FileKind::Chain))
}

/// Starts a chain (or load test) file's session and its server (see [`chain`]); returns
/// once it listens. The chain or load test runs as `storetwin run` or `load` runs it.
pub fn start_chain(options: Options) -> anyhow::Result<ChainRunning> {
    if options.tokens.is_open() && !options.listen.ip().is_loopback() {
        bail!(
            "--listen {}: a non-loopback address needs tokens (--tokens FILE, or {} / {})",
            options.listen,
            auth::OPERATOR_ENV,
            auth::VIEWER_ENV
        );
    }
    let file = storetwin_scenarios::Chain::load(&options.scenario)
        .map_err(|e| anyhow::anyhow!("{:?}", miette::Report::new(e)))?;
    let (spec, default_seed) = file.run_spec().map_err(|e| anyhow::anyhow!("{}: {e}", options.scenario.display()))?;
    let seed = options.seed.unwrap_or(default_seed);
    let config = chain::ChainConfig {
        speed: options.speed,
        paused: options.paused,
        frame_every: options.frame_every,
        log: options.log.clone(),
        until: options.until,
    };
    // Before anything is served: an embedded broker that cannot listen fails the start.
    let mqtt = match &options.mqtt {
        Some(settings) => Some(mqtt::prepare(settings, &spec.name, &options.tokens)?),
        None => None,
    };
    telemetry::handle();
    let session = Arc::new(chain::ChainSession::start(&spec, file.path.clone(), file.hash.clone(), seed, config)?);
    let state =
        actix_web::web::Data::new(chain::ChainState { session: session.clone(), tokens: options.tokens.clone() });
    let served = serve_http(options.listen, options.workers, options.signals, move || state, chain::routes);
    let (addr, http) = match served {
        Ok(served) => served,
        Err(e) => {
            let _ = session.stop();
            return Err(e);
        }
    };
    let mut running = ChainRunning { addr, session, mqtt: None, http };
    if let Some(mqtt) = mqtt {
        match mqtt.spawn_chain(running.session.clone()) {
            Ok(m) => running.mqtt = Some(m),
            Err(e) => {
                let _ = running.stop();
                return Err(e);
            }
        }
    }
    Ok(running)
}

/// Starts the session and the server; returns once it listens.
pub fn start(options: Options) -> anyhow::Result<Running> {
    if options.tokens.is_open() && !options.listen.ip().is_loopback() {
        bail!(
            "--listen {}: a non-loopback address needs tokens (--tokens FILE, or {} / {}); without them anyone who \
             can reach the server could steer the store",
            options.listen,
            auth::OPERATOR_ENV,
            auth::VIEWER_ENV
        );
    }
    let scenario = load_store(&options.scenario)?;
    // Before anything is served: an embedded broker that cannot listen fails the start.
    let mqtt = match &options.mqtt {
        Some(settings) => Some(mqtt::prepare(settings, &scenario.world.store.name, &options.tokens)?),
        None => None,
    };
    let seed = options.seed.unwrap_or(scenario.seed);
    let config = session::Config {
        speed: options.speed,
        paused: options.paused,
        frame_every: options.frame_every,
        journal: options.log.clone(),
        until: options.until,
    };
    telemetry::handle();
    let session = Arc::new(Session::start(scenario.world, scenario.path.clone(), scenario.hash.clone(), seed, config)?);
    let (control_tx, control_rx) = std::sync::mpsc::channel();
    let tokens = options.tokens.clone();
    let shared = session.clone();
    let make = move || {
        let control = control::ControlPlane::new(shared.clone()).start();
        let _ = control_tx.send(control.clone());
        actix_web::web::Data::new(api::AppState {
            session: shared,
            control,
            tokens,
            forecast_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        })
    };
    let (addr, http) = match serve_http(options.listen, options.workers, options.signals, make, api::routes) {
        Ok(served) => served,
        Err(e) => {
            // Nothing will serve this session: end it (its log gets its end record).
            let _ = session.stop();
            return Err(e);
        }
    };
    let mut running = Running { addr, session, mqtt: None, http };
    if let Some(mqtt) = mqtt {
        // The control plane lives in the server's actix system; the MQTT ingest sends to it
        // from a thread of its own.
        let started = control_rx
            .recv()
            .context("the server thread ended before its control plane started")
            .and_then(|control| mqtt.spawn(control, running.session.clone()));
        match started {
            Ok(m) => running.mqtt = Some(m),
            Err(e) => {
                let _ = running.stop();
                return Err(e);
            }
        }
    }
    Ok(running)
}
