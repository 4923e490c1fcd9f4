//! `storetwin serve`: the live twin server, and `storetwin replay`: a session log replayed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use storetwin_actors::store::wire::clock;
use storetwin_actors::store::world::StoreWorld;
use storetwin_engine::{Seed, SimTime};
use storetwin_server::auth::Tokens;
use storetwin_server::mqtt::{self, BrokerUrl};
use storetwin_server::{Options, journal, load_store};

/// Serve a live session of a store scenario over HTTP and WebSocket (readings also over
/// MQTT), or of a chain or load file (every store served under its name).
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The store scenario, or a chain or load file (TOML).
    pub scenario: PathBuf,
    /// Address to listen on; a non-loopback address needs tokens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Sim seconds per wall second (1 = real time).
    #[arg(long, default_value_t = 60.0, value_parser = parse_speed)]
    pub speed: f64,
    /// Viewer and operator tokens: a TOML file with `viewer = ["..."]` and `operator = ["..."]`
    /// (also read from STORETWIN_VIEWER_TOKENS and STORETWIN_OPERATOR_TOKENS, comma-separated).
    #[arg(long, value_name = "FILE")]
    pub tokens: Option<PathBuf>,
    /// The session log, written as the session runs (replay it with `storetwin replay`).
    #[arg(long, value_name = "FILE", default_value = "out/serve/session.log")]
    pub log: PathBuf,
    /// Start paused (POST /v1/control {"pause": false} resumes).
    #[arg(long)]
    pub paused: bool,
    /// Seed (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// End the session at this store clock time, HH:MM or HH:MM:SS (default: the scenario's end).
    #[arg(long, value_name = "HH:MM[:SS]")]
    pub until: Option<String>,
    /// Take readings from this MQTT broker too: mqtt://[USER[:PASSWORD]@]HOST[:PORT] (a user's
    /// password may instead come from STORETWIN_MQTT_PASSWORD). Devices publish to
    /// PREFIX/STORE/DEVICE/TYPE (see --mqtt-topic).
    #[arg(long, value_name = "URL", group = "mqtt_source")]
    pub mqtt: Option<BrokerUrl>,
    /// Run an MQTT broker inside the server on this address (like 127.0.0.1:1883) and take
    /// readings from it; a non-loopback address needs tokens, and a device's password is then
    /// an operator token. Needs a build with `--features mqtt-broker`.
    #[arg(long, value_name = "ADDR", group = "mqtt_source")]
    pub mqtt_listen: Option<SocketAddr>,
    /// The MQTT topics' first level(s): readings are PREFIX/STORE/DEVICE/TYPE.
    #[arg(long, value_name = "PREFIX", default_value = storetwin_server::mqtt::DEFAULT_PREFIX, requires = "mqtt_source")]
    pub mqtt_topic: String,
    /// The MQTT topics' store level (default: the scenario's store name as a slug, like
    /// `riverside`); `+` takes readings under any store name.
    #[arg(long, value_name = "NAME", requires = "mqtt_source")]
    pub mqtt_store: Option<String>,
    /// Publish the twin's state (retained) to PREFIX/STORE/$twin/state every this many wall
    /// seconds; 0 never.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0, value_parser = parse_every, requires = "mqtt_source")]
    pub mqtt_state_every: f64,
}

fn parse_every(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v == 0.0 || (0.1..=3600.0).contains(&v) => Ok(v),
        _ => Err(format!("expected wall seconds between 0.1 and 3600, or 0 for never; got {s:?}")),
    }
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.trim_end_matches(['x', '×']).parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 1e6 => Ok(v),
        _ => Err(format!("expected a positive number of sim seconds per wall second, like 60; got {s:?}")),
    }
}

/// `storetwin serve CHAIN.toml`: every store of the chain served under its name.
fn serve_chain(args: &ServeArgs, options: Options, open: bool) -> anyhow::Result<()> {
    let running = storetwin_server::start_chain(options)?;
    let session = &running.session;
    let names: Vec<&str> = session.stores.iter().map(|s| s.name.as_str()).collect();
    let shown = if names.len() > 6 {
        format!("{}, … {}", names[..5].join(", "), names[names.len() - 1])
    } else {
        names.join(", ")
    };
    println!(
        "{}: serving a live chain, {} ({} stores: {shown}) at {}x, seed {}",
        args.scenario.display(),
        session.spec.name,
        names.len(),
        args.speed,
        session.seed
    );
    println!("  stores:        http://{}/v1/stores", running.addr);
    println!("  stream:        ws://{}/v1/stream?store=NAME", running.addr);
    println!("  metrics:       http://{}/metrics", running.addr);
    println!("  session log:   {} (a chain session log, rewritten every second)", args.log.display());
    serve_until_stopped(
        running,
        "PREFIX/STORE/DEVICE/TYPE, STORE a store's name as a topic level",
        open,
        "storetwin-twin --replay",
        &args.log,
    )
}

fn until_of(text: &str, open_at_s: u32) -> anyhow::Result<SimTime> {
    let clock = storetwin_actors::store::wire::parse_clock(text).map_err(|e| anyhow::anyhow!("--until: {e}"))?;
    let at = clock
        .checked_sub(open_at_s)
        .ok_or_else(|| anyhow::anyhow!("--until {text:?}: expected a store clock time after the opening"))?;
    Ok(SimTime::from_secs(u64::from(at)))
}

pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let tokens = Tokens::load(args.tokens.as_deref())?;
    let chain = storetwin_server::is_chain(&args.scenario);
    if chain && let Some(store) = &args.mqtt_store {
        anyhow::bail!(
            "--mqtt-store {store:?}: a served chain takes each store's readings under that store's own name \
             (PREFIX/old-town/DEVICE/TYPE), so --mqtt-store is for one store's scenario; leave it out"
        );
    }
    let open_at_s = || -> anyhow::Result<u32> {
        if chain {
            let file = storetwin_scenarios::Chain::load(&args.scenario)
                .map_err(|e| anyhow::anyhow!("{:?}", miette::Report::new(e)))?;
            Ok(file.run_spec().map_err(|e| anyhow::anyhow!("{}: {e}", args.scenario.display()))?.0.open_at_s)
        } else {
            Ok(load_store(&args.scenario)?.world.open_at_s)
        }
    };
    let until = match &args.until {
        Some(text) => Some(until_of(text, open_at_s()?)?),
        None => None,
    };
    let mut options = Options::new(&args.scenario, &args.log);
    options.listen = args.listen;
    options.speed = args.speed;
    options.paused = args.paused;
    options.seed = args.seed;
    options.until = until;
    options.signals = true;
    let broker = match (args.mqtt.clone(), args.mqtt_listen) {
        (Some(url), _) => Some(mqtt::Broker::External(url.password_from_env())),
        (None, Some(addr)) => Some(mqtt::Broker::Embedded(addr)),
        (None, None) => None,
    };
    options.mqtt = broker.map(|broker| {
        let mut settings = mqtt::Settings::new(broker);
        settings.prefix = args.mqtt_topic.clone();
        settings.store = args.mqtt_store.clone();
        settings.state_every = (args.mqtt_state_every > 0.0).then(|| Duration::from_secs_f64(args.mqtt_state_every));
        settings
    });
    let open = tokens.is_open();
    options.tokens = tokens;
    if chain {
        return serve_chain(&args, options, open);
    }
    let running = storetwin_server::start(options)?;
    let spec = &running.session.spec;
    println!(
        "{}: serving a live session of {} at {}x, seed {}",
        args.scenario.display(),
        spec.store.name,
        args.speed,
        running.session.seed
    );
    println!("  browser view:  http://{}/", running.addr);
    println!("  stream:        ws://{}/v1/stream", running.addr);
    println!("  metrics:       http://{}/metrics", running.addr);
    println!("  session log:   {}", args.log.display());
    serve_until_stopped(running, "PREFIX/STORE/DEVICE/TYPE", open, "storetwin replay", &args.log)
}

/// The banner's last lines (MQTT, an open server), then serving until Ctrl-C or SIGTERM,
/// and how to replay the log.
fn serve_until_stopped<S: storetwin_server::Stops>(
    running: storetwin_server::Running<S>,
    topics: &str,
    open: bool,
    replay: &str,
    log: &std::path::Path,
) -> anyhow::Result<()> {
    if let Some(m) = &running.mqtt {
        println!("  MQTT readings: {} on {} ({topics})", m.broker, m.filter);
        if let Some(state) = &m.state_topic {
            println!("  MQTT state:    {state} (retained)");
        }
    }
    if open {
        println!("  no tokens configured: open to anyone on this machine (loopback only)");
    }
    println!("  Ctrl-C stops the session");
    running.wait()?;
    println!("session ended; replay it with: {replay} {}", log.display());
    Ok(())
}

/// Replay a session log (from `storetwin serve`) and check it reaches every checkpoint
/// with the logged event count and event_hash.
#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// The session log.
    pub log: PathBuf,
    /// The scenario (default: the one the log names).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
}

pub fn replay(args: ReplayArgs) -> anyhow::Result<()> {
    if storetwin_eventlog::chain::is_chain_log(&args.log) {
        return replay_chain(&args);
    }
    let session = journal::read(&args.log)?;
    let path = args.scenario.clone().unwrap_or_else(|| session.header.scenario.clone());
    let scenario = load_store(&path)
        .with_context(|| format!("{}: cannot load the scenario it was recorded from", args.log.display()))?;
    if scenario.hash != session.header.scenario_hash {
        anyhow::bail!(
            "{}: recorded from {} with scenario hash {}, but that file now hashes to {} (it changed)",
            args.log.display(),
            path.display(),
            session.header.scenario_hash,
            scenario.hash
        );
    }
    let open = scenario.world.open_at_s;
    let world = StoreWorld::build(scenario.world, Seed(session.header.seed));
    let verdict = journal::replay(&session, world)?;
    let at = |ns: u64| clock(open, SimTime::from_nanos(ns));
    if let Some((logged, replayed)) = &verdict.differs {
        anyhow::bail!(
            "{}: the replay DIFFERS at {}: the log has {} events and event_hash {}, the replay {} events and \
             event_hash {}",
            args.log.display(),
            at(logged.at_ns),
            logged.events,
            logged.event_hash,
            replayed.events,
            replayed.event_hash
        );
    }
    let Some(last) = &verdict.last else {
        anyhow::bail!("{}: no checkpoint to replay to (the session ran less than a second)", args.log.display());
    };
    println!(
        "{}: replay identical: {} inputs, {} checkpoint(s) verified; at {} {} events, event_hash {}{}",
        args.log.display(),
        verdict.inputs,
        verdict.verified,
        at(last.at_ns),
        last.events,
        last.event_hash,
        if session.end.is_some() { " (the session's end)" } else { " (the log stops there: the session did not end)" }
    );
    Ok(())
}

/// `storetwin replay` of a chain session log (a served chain's, or the twin's): the chain
/// again with the log's seed and interventions to the log's end, unpaced, and its
/// fingerprints against the log's (the chain's, then each shard's to name the store).
fn replay_chain(args: &ReplayArgs) -> anyhow::Result<()> {
    let log = storetwin_eventlog::chain::ChainLog::read(&args.log)?;
    let path = args.scenario.clone().unwrap_or_else(|| log.scenario.clone());
    let file = storetwin_scenarios::Chain::load(&path)
        .map_err(|e| anyhow::anyhow!("{:?}", miette::Report::new(e)))
        .with_context(|| format!("{}: cannot load the chain it was recorded from", args.log.display()))?;
    if file.hash != log.scenario_hash {
        anyhow::bail!(
            "{}: recorded from {} with hash {}, but that file now hashes to {} (it changed)",
            args.log.display(),
            path.display(),
            log.scenario_hash,
            file.hash
        );
    }
    let (spec, _) = file.run_spec().map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let end = SimTime::from_nanos(log.end_ns);
    let run = storetwin_actors::chain::live::replay_chain(
        &spec,
        Seed(log.seed),
        &log.interventions,
        &log.readings,
        end,
        threads,
    )?;
    let at = clock(spec.open_at_s, end);
    if run.event_hash.to_string() != log.event_hash || run.events != log.events {
        let store = run.shard_hashes.iter().zip(&log.shard_hashes).position(|(r, l)| r.to_string() != *l).map_or_else(
            || "the chain".to_string(),
            |i| if i == 0 { "the centres".into() } else { spec.stores[i - 1].name.clone() },
        );
        anyhow::bail!(
            "{}: the replay DIFFERS to {at} (first in {store}): the log has {} events and event_hash {}, the replay {} \
             events and event_hash {}",
            args.log.display(),
            log.events,
            log.event_hash,
            run.events,
            run.event_hash
        );
    }
    println!(
        "{}: replay identical: a chain of {} stores, {} interventions, {} readings; at {at} {} events, event_hash {}",
        args.log.display(),
        spec.stores.len(),
        log.interventions.len(),
        log.readings.len(),
        run.events,
        run.event_hash
    );
    Ok(())
}
