//! `storetwin-twin`: the ops team's live store-floor twin.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Parser;
use storetwin_engine::{Seed, SimTime, SystemWall};
use storetwin_viz::app::{HeatMode, TwinApp};
use storetwin_viz::session::{self, Mode, Options, Twin, clock};

/// The live store-floor twin: watch a store run, act on it, replay it exactly.
///
/// Examples:
///   storetwin-twin scenarios/weekday.toml --speed 60
///   storetwin-twin scenarios/weekday.toml --events session.events
///   storetwin-twin --replay session.events
///   storetwin-twin scenarios/weekday.toml --screenshot noon.png --at 12:00
///   storetwin-twin scenarios/weekday.toml --screenshot crowd.png --at 12:00 --heat density
///   storetwin-twin --connect ws://127.0.0.1:8080 --token OPERATOR_TOKEN
///   storetwin-twin scenarios/flash-100-stores.toml --store S001 --speed 1
///   storetwin-twin scenarios/flash-3-stores-atomic.toml --store S2 --screenshot surge.png --at 08:11:00
///   storetwin-twin --compare scenarios/weekday.toml scenarios/layout-b.toml --speed 1000
#[derive(Parser, Debug)]
#[command(name = "storetwin-twin", version, verbatim_doc_comment)]
struct Args {
    /// The scenario file: one store's, or a chain or load test's (the whole chain runs, as
    /// `storetwin run` or `load` runs it, and one store is drawn). With --replay:
    /// overrides the file the log names. With --connect: the scenario the server runs
    /// (default: the file the server names).
    #[arg(required_unless_present_any = ["replay", "connect", "compare"])]
    scenario: Option<PathBuf>,

    /// Two store scenarios side by side, A and B, on one clock and one seed (default: A's):
    /// the same shoppers arrive at the same times with the same lists on both floors, as
    /// `storetwin compare` pairs its replications; the panel shows B − A so far.
    #[arg(long, num_args = 2, value_names = ["A.toml", "B.toml"], conflicts_with_all = ["scenario", "replay", "connect", "store"])]
    compare: Vec<PathBuf>,

    /// Render a live session of `storetwin serve` at this address (ws://HOST:PORT) instead
    /// of simulating here; the controls act on the server's session.
    #[arg(long, value_name = "ws://HOST:PORT", conflicts_with_all = ["replay", "events", "intervene", "seed", "at", "speed", "paused"])]
    connect: Option<String>,

    /// The server's viewer or operator token for --connect (default: $STORETWIN_TOKEN).
    #[arg(long, value_name = "TOKEN", requires = "connect")]
    token: Option<String>,

    /// A chain or load file: the store drawn first (default: the first, or a replay's). The
    /// panel's store picker (or `,` and `.`) switches stores while the run goes on. With
    /// --connect to a served chain: the store drawn first (default: the server's first); the
    /// picker switches the stream to another store.
    #[arg(long, value_name = "NAME")]
    store: Option<String>,

    /// Sim seconds per wall second (1 = real time). Default 60, or 1000 with --screenshot.
    #[arg(long, value_parser = parse_speed)]
    speed: Option<f64>,

    /// Seed (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,

    /// Start paused (Space resumes).
    #[arg(long)]
    paused: bool,

    /// Record the session, interventions included, to this event log (replay it with --replay).
    #[arg(long, value_name = "FILE")]
    events: Option<PathBuf>,

    /// Play an event log (from `storetwin run --events` or a twin session) and check that
    /// the replay is the identical run.
    #[arg(long, value_name = "EVENTS")]
    replay: Option<PathBuf>,

    /// Run to --at (default: the end), save one frame of the window to this PNG, and exit.
    #[arg(long, value_name = "OUT.png")]
    screenshot: Option<PathBuf>,

    /// Store clock time for --screenshot, HH:MM or HH:MM:SS.
    #[arg(long, value_name = "HH:MM[:SS]", requires = "screenshot", value_parser = storetwin_actors::store::wire::parse_clock)]
    at: Option<u32>,

    /// Plan an intervention, as if made in the window at that store time (repeatable):
    /// "12:00 open L7", "12:30 close L1", "10:00 offline door-1", "11:00 online door-1",
    /// "12:00 price Bananas 1 kg = 0.99". Recorded like the window's. With --compare, on
    /// both sides unless it starts with "A " or "B " ("B 12:00 open L7").
    #[arg(long, value_name = "\"HH:MM ACTION\"", conflicts_with = "replay")]
    intervene: Vec<String>,

    /// Show a heat overlay from the start: `dwell` (shopper-seconds per cell since opening;
    /// what --heat alone shows) or `density` (people per m² now). In the window H cycles
    /// off, dwell, density; D toggles density.
    #[arg(long, value_name = "MODE", num_args = 0..=1, default_missing_value = "dwell", value_parser = parse_heat)]
    heat: Option<HeatMode>,

    /// Window size in pixels, WIDTHxHEIGHT.
    #[arg(long, default_value = "1600x900", value_parser = parse_size)]
    size: (u32, u32),
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.trim_end_matches(['x', '×']).parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("expected a positive number of sim seconds per wall second, like 60 or 1000; got {s:?}")),
    }
}

fn parse_heat(s: &str) -> Result<HeatMode, String> {
    match s {
        "dwell" => Ok(HeatMode::Dwell),
        "density" => Ok(HeatMode::Density),
        "off" => Ok(HeatMode::Off),
        _ => Err(format!(
            "expected `dwell` or `density` (or `off`); got {s:?} (the scenario goes before --heat, or after \
             --heat MODE)"
        )),
    }
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("expected WIDTHxHEIGHT in pixels, like 1600x900; got {s:?}");
    let (w, h) = s.split_once('x').ok_or_else(bad)?;
    let (w, h): (u32, u32) = (w.parse().map_err(|_| bad())?, h.parse().map_err(|_| bad())?);
    if !(640..=8192).contains(&w) || !(480..=8192).contains(&h) {
        return Err(format!("the window must be between 640x480 and 8192x8192; got {s:?}"));
    }
    Ok((w, h))
}

/// The twin opens an X11 window: say so plainly when there is no display to open it on
/// (rather than let the windowing library panic).
fn check_display() -> anyhow::Result<()> {
    let hint = "on a machine without a screen run it under `xvfb-run -a`";
    let display = std::env::var("DISPLAY").unwrap_or_default();
    if display.is_empty() {
        bail!("no display: the twin opens an X11 window and DISPLAY is not set; {hint}");
    }
    // A local display `:N` listens on /tmp/.X11-unix/XN.
    if let Some(number) = display.strip_prefix(':').and_then(|d| d.split('.').next())
        && number.chars().all(|c| c.is_ascii_digit())
        && !Path::new(&format!("/tmp/.X11-unix/X{number}")).exists()
    {
        bail!("no X server on DISPLAY={display} (no /tmp/.X11-unix/X{number}); {hint}");
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The twin as a client of a live server.
fn run_remote(args: &Args, url: &str) -> anyhow::Result<ExitCode> {
    let token = args.token.clone().or_else(|| std::env::var("STORETWIN_TOKEN").ok().filter(|t| !t.is_empty()));
    let remote = storetwin_viz::remote::Remote::connect_store(
        url,
        token.as_deref(),
        args.scenario.as_deref(),
        args.store.as_deref(),
    )?;
    check_display()?;
    let spec = remote.scenario.world.clone();
    let name =
        remote.scenario.path.file_name().map_or_else(|| remote.floor.scenario.clone(), |n| n.to_string_lossy().into());
    let mut app = window(
        args,
        format!("storetwin twin — {} ({name}) on {}", spec.store.name, remote.server),
        spec.clone(),
        format!("{name} on {}", remote.server),
        None,
        (remote.controls.clone(), remote.frames.clone()),
        (remote.speed, remote.paused),
    );
    // A served chain: the store picker switches the stream to another of its stores.
    app.chain = remote.chain.clone();
    let exit = app.run();
    let stats = remote.stats.clone();
    let server = remote.server.clone();
    remote.finish();
    use std::sync::atomic::Ordering::Relaxed;
    println!(
        "connected to {server}: {} frames received (to {}), {} controls sent, {} refused",
        stats.frames.load(Relaxed),
        stats.last_clock.lock().unwrap(),
        stats.sent.load(Relaxed),
        stats.refused.load(Relaxed)
    );
    if let Some(e) = stats.last_error.lock().unwrap().as_ref() {
        println!("  last refusal: {e}");
    }
    if let Some(shot) = &args.screenshot
        && exit.is_success()
    {
        println!("  screenshot {}", shot.display());
    }
    Ok(if exit.is_success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(url) = args.connect.clone() {
        return run_remote(&args, &url);
    }
    if let [a, b] = &args.compare[..] {
        return run_pair(&args, a, b, None);
    }
    if let Some(log) = &args.replay
        && storetwin_eventlog::pair::is_pair_log(log)
    {
        let record = storetwin_eventlog::pair::PairLog::read(log)?;
        let [a, b] = [record.sides[0].scenario.clone(), record.sides[1].scenario.clone()];
        return run_pair(&args, &a, &b, Some((log.clone(), record)));
    }
    if let Some(log) = &args.replay
        && storetwin_eventlog::chain::is_chain_log(log)
    {
        let (chain, spec, log_record) = session::open_chain_replay(log, args.scenario.as_deref())?;
        let seed = log_record.seed;
        return run_chain(&args, chain, spec, seed, Some((log.clone(), log_record)));
    }
    if args.replay.is_none()
        && let Some(path) = &args.scenario
        && storetwin_scenarios::file_kind(path).ok() == Some(storetwin_scenarios::FileKind::Chain)
    {
        let (chain, spec, seed) = session::load_chain(path)?;
        return run_chain(&args, chain, spec, seed, None);
    }
    if args.store.is_some() {
        bail!("--store picks a store of a chain or load file; this is one store's scenario");
    }
    let (scenario, mode) = match &args.replay {
        Some(log) => session::open_replay(log, args.scenario.as_deref())?,
        None => {
            let path = args.scenario.as_deref().context("a scenario file is required")?;
            (session::load_scenario(path)?, Mode::Live)
        }
    };
    let world = &scenario.world;
    let until = until_of(args.at, world.open_at_s, world.duration, "the store is open from")?;

    let speed = args.speed.unwrap_or(if args.screenshot.is_some() { 1000.0 } else { 60.0 });
    let mut planned = Vec::new();
    for text in &args.intervene {
        planned.push(session::parse_intervention(text, world).map_err(|e| anyhow::anyhow!("--intervene {e}"))?);
    }
    let options =
        Options { speed, paused: args.paused, until, events: args.events.clone(), planned, ..Options::default() };
    let seed = Seed(args.seed.unwrap_or(scenario.seed));
    let name =
        scenario.path.file_name().map_or_else(|| scenario.path.display().to_string(), |n| n.to_string_lossy().into());
    let replay = match &mode {
        Mode::Replay { log, .. } => Some(log.clone()),
        Mode::Live => None,
    };
    check_display()?;
    let mut twin = Twin::start(scenario, seed, mode, &options, SystemWall::default())?;
    let title = format!("storetwin twin — {} ({name})", twin.scenario.world.store.name);
    let app = window(
        &args,
        title,
        twin.scenario.world.clone(),
        name,
        replay,
        (twin.controls.clone(), twin.frames.clone()),
        (speed, args.paused),
    );
    let exit = app.run();
    let outcome = twin.finish()?;
    let end = &outcome.end;
    let open = twin.scenario.world.open_at_s;
    println!(
        "session: seed {}, {} events to {}, event_hash {} ({:?})",
        twin.seed,
        end.events,
        clock(open, end.end),
        end.event_hash,
        end.reason
    );
    println!("  max sim lag {:.1} s (how far the simulation fell behind its pace)", end.max_lag.as_secs_f64());
    for t in &end.interventions {
        println!("  intervention {}", session::describe_intervention(t, &twin.scenario.world));
    }
    if let Some((path, records)) = &outcome.log {
        println!(
            "  wrote {} ({records} events); replay it with: storetwin-twin --replay {}",
            path.display(),
            path.display()
        );
    }
    if let Some(shot) = &args.screenshot
        && exit.is_success()
    {
        let meta = sidecar(shot);
        println!(
            "  screenshot {} at {}: {} frames rendered in {:.1} s while simulating ({:.1} fps, longest frame {:.0} ms) \
             at {}x, max sim lag {:.1} s",
            shot.display(),
            clock(open, end.end),
            meta["frames_rendered"],
            meta["wall_s"].as_f64().unwrap_or(0.0),
            meta["fps"].as_f64().unwrap_or(0.0),
            meta["worst_frame_ms"].as_f64().unwrap_or(0.0),
            speed,
            end.max_lag.as_secs_f64()
        );
    }
    let mut code = if exit.is_success() { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    if let Some(verdict) = &outcome.verdict {
        println!("  {}", verdict.describe());
        if verdict.divergence.is_some() || (verdict.unreached == 0 && !verdict.identical()) {
            code = ExitCode::FAILURE;
        }
    }
    Ok(code)
}

/// A screenshot's JSON sidecar (empty if it cannot be read).
fn sidecar(shot: &Path) -> serde_json::Value {
    std::fs::read(shot.with_extension("json")).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
}

/// The window on `spec` (A's side by side) with the command line's overlay, size and
/// screenshot: frames in and controls out through `link`, at `pace` (speed, paused).
fn window(
    args: &Args,
    title: String,
    spec: storetwin_actors::store::spec::WorldSpec,
    scenario_name: String,
    replay: Option<PathBuf>,
    link: (storetwin_actors::store::live::Controls, crossbeam_channel::Receiver<storetwin_actors::store::live::Frame>),
    pace: (f64, bool),
) -> TwinApp {
    TwinApp {
        title,
        open_at_s: spec.open_at_s,
        spec,
        scenario_name,
        replay,
        controls: link.0,
        frames: link.1,
        speed: pace.0,
        paused: pace.1,
        heat: args.heat.unwrap_or_default(),
        size: args.size,
        screenshot: args.screenshot.clone(),
        chain: None,
        pair: None,
    }
}

/// Two store scenarios side by side on one clock and one seed; or a replay of such a
/// session from its log (its scenarios, seed, interventions and end).
fn run_pair(
    args: &Args,
    a: &Path,
    b: &Path,
    replay: Option<(PathBuf, storetwin_eventlog::pair::PairLog)>,
) -> anyhow::Result<ExitCode> {
    let scenarios = [session::load_scenario(a)?, session::load_scenario(b)?];
    if let Some((log, record)) = &replay {
        for (side, s) in record.sides.iter().zip(&scenarios) {
            if side.scenario_hash != s.hash {
                bail!(
                    "{}: recorded from a scenario with hash {}, but {} now has hash {}: the file changed, so the \
                     replay would not be the same run",
                    log.display(),
                    side.scenario_hash,
                    s.path.display(),
                    s.hash
                );
            }
        }
    }
    for (path, s) in [a, b].iter().zip(&scenarios) {
        if storetwin_scenarios::file_kind(path).ok() == Some(storetwin_scenarios::FileKind::Chain) {
            bail!("--compare takes two store scenarios; {} is a chain file", path.display());
        }
        let (wa, ws) = (&scenarios[0].world, &s.world);
        if (wa.open_at_s, wa.duration) != (ws.open_at_s, ws.duration) {
            bail!(
                "--compare draws both stores on one clock: {} is open {} to {}, {} {} to {}",
                a.display(),
                clock(wa.open_at_s, SimTime::ZERO),
                clock(wa.open_at_s, SimTime::ZERO.saturating_add(wa.duration)),
                path.display(),
                clock(ws.open_at_s, SimTime::ZERO),
                clock(ws.open_at_s, SimTime::ZERO.saturating_add(ws.duration))
            );
        }
    }
    let world = &scenarios[0].world;
    let mut until = until_of(args.at, world.open_at_s, world.duration, "the stores are open from")?;
    let speed = args.speed.unwrap_or(if args.screenshot.is_some() { 1000.0 } else { 60.0 });
    let mut planned: [Vec<storetwin_actors::store::live::TimedIntervention>; 2] = [Vec::new(), Vec::new()];
    if let Some((_, record)) = &replay {
        let end = SimTime::from_nanos(record.end_ns);
        until = Some(until.map_or(end, |t| t.min(end)));
        planned = [record.sides[0].interventions.clone(), record.sides[1].interventions.clone()];
    }
    for text in &args.intervene {
        let (sides, rest) = match text.split_once(' ') {
            Some(("A", rest)) => (&[0usize][..], rest),
            Some(("B", rest)) => (&[1usize][..], rest),
            _ => (&[0usize, 1][..], text.as_str()),
        };
        for &side in sides {
            let t = session::parse_intervention(rest, &scenarios[side].world)
                .map_err(|e| anyhow::anyhow!("--intervene (side {}) {e}", ["A", "B"][side]))?;
            planned[side].push(t);
        }
    }
    let options = Options { speed, paused: args.paused, until, ..Options::default() };
    let seed = match &replay {
        Some((_, record)) => Seed(record.seed),
        None => Seed(args.seed.unwrap_or(scenarios[0].seed)),
    };
    let name = |s: &storetwin_scenarios::Scenario| {
        s.path.file_name().map_or_else(|| s.path.display().to_string(), |n| n.to_string_lossy().into())
    };
    let (name_a, name_b) = (name(&scenarios[0]), name(&scenarios[1]));
    check_display()?;
    let [sa, sb] = scenarios;
    let spec_b = sb.world.clone();
    let mut twin = session::PairTwin::start(sa, sb, seed, &options, planned, SystemWall::default())?;
    let spec = twin.scenarios[0].world.clone();
    let mut app = window(
        args,
        format!("storetwin twin — {name_a} vs {name_b}, side by side"),
        spec,
        name_a.clone(),
        replay.as_ref().map(|(p, _)| p.clone()),
        (twin.controls.clone(), twin.frames.clone()),
        (speed, args.paused),
    );
    app.pair = Some(storetwin_viz::app::PairInfo { a_name: name_a.clone(), b_name: name_b.clone(), b_spec: spec_b });
    let exit = app.run();
    let end = twin.finish()?.map_err(|e| anyhow::anyhow!("{e}"))?;
    let open = twin.scenarios[0].world.open_at_s;
    println!("side by side: seed {}, to {} ({:?})", twin.seed, clock(open, end.end), end.reason);
    for (side, (run, scenario)) in end.runs.iter().zip(&twin.scenarios).enumerate() {
        let label = ["A", "B"][side];
        println!("  {label} {}: {} events, event_hash {}", scenario.path.display(), run.events, run.event_hash);
        for t in &end.interventions[side] {
            println!("    intervention {}", session::describe_intervention(t, &scenario.world));
        }
    }
    println!("  max sim lag {:.1} s (how far the simulation fell behind its pace)", end.max_lag.as_secs_f64());
    let written_by = if replay.is_some() { "storetwin-twin --replay" } else { "storetwin-twin --compare" };
    let log = session::pair_log(&twin, &end, written_by);
    if let Some(path) = &args.events {
        log.write(path)?;
        println!("  wrote {}; replay it with: storetwin-twin --replay {}", path.display(), path.display());
    }
    let mut code = if exit.is_success() { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    if let Some((path, expected)) = &replay {
        match session::pair_verdict(path, expected, &log) {
            Ok(text) => println!("  {text}"),
            Err(text) => {
                println!("  {text}");
                code = ExitCode::FAILURE;
            }
        }
    }
    if let Some(shot) = &args.screenshot
        && exit.is_success()
    {
        let meta = sidecar(shot);
        println!(
            "  screenshot {} at {}: {} frames rendered in {:.1} s ({:.1} fps) at {}x",
            shot.display(),
            clock(open, end.end),
            meta["frames_rendered"],
            meta["wall_s"].as_f64().unwrap_or(0.0),
            meta["fps"].as_f64().unwrap_or(0.0),
            speed
        );
    }
    Ok(code)
}

/// `--at` as sim time in a day opening at `open` (seconds since midnight) and lasting
/// `duration`.
fn until_of(
    at: Option<u32>,
    open: u32,
    duration: storetwin_engine::SimDuration,
    what: &str,
) -> anyhow::Result<Option<SimTime>> {
    let Some(at_s) = at else { return Ok(None) };
    let close = u64::from(open) + duration.as_nanos() / 1_000_000_000;
    if at_s < open || u64::from(at_s) > close {
        bail!(
            "--at {}: {what} {} to {}",
            clock(0, SimTime::from_secs(u64::from(at_s))),
            clock(open, SimTime::ZERO),
            clock(open, SimTime::ZERO.saturating_add(duration))
        );
    }
    Ok(Some(SimTime::from_secs(u64::from(at_s - open))))
}

/// The twin of one store of a live chain (or load test): the whole chain runs.
fn run_chain(
    args: &Args,
    chain: storetwin_scenarios::Chain,
    spec: storetwin_actors::chain::spec::ChainSpec,
    default_seed: u64,
    replay: Option<(PathBuf, storetwin_eventlog::chain::ChainLog)>,
) -> anyhow::Result<ExitCode> {
    use storetwin_actors::chain::live::{StoreIntervention, store_index};
    let name = match (&args.store, &replay) {
        (Some(n), _) => Some(n.clone()),
        (None, Some((_, log))) => Some(log.shown.clone()),
        (None, None) => None,
    };
    let shown = match &name {
        Some(n) => store_index(&spec, n).map_err(|e| anyhow::anyhow!("--store: {}: {e}", chain.path.display()))?,
        None => 0,
    };
    let store_spec = &spec.stores.get(shown).context("the chain has no stores")?.world;
    let open = spec.open_at_s;
    let until = until_of(args.at, open, spec.duration, "the run covers")?;
    let speed = args.speed.unwrap_or(if args.screenshot.is_some() { 1000.0 } else { 60.0 });
    let mut planned = Vec::new();
    for text in &args.intervene {
        let t = session::parse_intervention(text, store_spec).map_err(|e| anyhow::anyhow!("--intervene {e}"))?;
        planned.push(StoreIntervention { store: shown as u16, at_ns: t.at_ns, what: t.what });
    }
    planned.sort_by_key(|t| t.at_ns);
    let options = Options { speed, paused: args.paused, until, planned: Vec::new(), ..Options::default() };
    let seed = Seed(args.seed.unwrap_or(default_seed));
    let file = chain.path.file_name().map_or_else(|| chain.path.display().to_string(), |n| n.to_string_lossy().into());
    let info = storetwin_viz::app::ChainInfo {
        name: spec.name.clone(),
        stores: spec.stores.iter().map(|s| s.world.clone()).collect(),
        sale: spec.flash.as_ref().map(|f| (f.name.clone(), f.sku.0)),
    };
    let replay_path = replay.as_ref().map(|(p, _)| p.clone());
    check_display()?;
    let world = store_spec.clone();
    let mut twin =
        session::ChainTwin::start(chain, spec, seed, shown, replay, &options, planned, SystemWall::default())?;
    let mut app = window(
        args,
        format!("storetwin twin — {} ({file})", twin.spec.name),
        world,
        format!("{file}, {} stores", twin.spec.stores.len()),
        replay_path,
        (twin.controls.clone(), twin.frames.clone()),
        (speed, args.paused),
    );
    app.open_at_s = open;
    app.chain = Some(info);
    let exit = app.run();
    let written_by = if twin.replay.is_some() { "storetwin-twin --replay" } else { "storetwin-twin" };
    let outcome = twin.finish(args.events.as_deref(), written_by)?;
    let names: Vec<&str> = twin.spec.stores.iter().map(|s| s.name.as_str()).collect();
    let mut code = if exit.is_success() { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    match &outcome.end {
        Ok(end) => {
            println!(
                "chain session: {} stores, seed {}, {} events to {}, event_hash {} ({:?})",
                names.len(),
                twin.seed,
                end.run.events,
                clock(open, end.end),
                end.run.event_hash,
                end.reason
            );
            println!("  max sim lag {:.1} s (how far the simulation fell behind its pace)", end.max_lag.as_secs_f64());
            for t in &end.interventions {
                let store = names.get(usize::from(t.store)).copied().unwrap_or("?");
                let timed = storetwin_actors::store::live::TimedIntervention { at_ns: t.at_ns, what: t.what };
                let world = &twin.spec.stores[usize::from(t.store)].world;
                println!("  intervention at {store}: {}", session::describe_intervention(&timed, world));
            }
        }
        Err(e) => {
            println!("chain session STOPPED: {e}");
            code = ExitCode::FAILURE;
        }
    }
    if let Some(path) = &outcome.log {
        println!("  wrote {}; replay it with: storetwin-twin --replay {}", path.display(), path.display());
    }
    if let Some(shot) = &args.screenshot
        && exit.is_success()
    {
        println!("  screenshot {}", shot.display());
    }
    match &outcome.verdict {
        Some(Ok(text)) => println!("  {text}"),
        Some(Err(text)) => {
            println!("  {text}");
            if text.contains("DIFFERS") {
                code = ExitCode::FAILURE;
            }
        }
        None => {}
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heat(args: &[&str]) -> Result<Option<HeatMode>, String> {
        Args::try_parse_from(std::iter::once("storetwin-twin").chain(args.iter().copied()))
            .map(|a| a.heat)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn heat_alone_is_the_dwell_map_and_takes_a_mode() {
        assert_eq!(heat(&["s.toml"]), Ok(None));
        assert_eq!(heat(&["s.toml", "--heat"]), Ok(Some(HeatMode::Dwell)));
        assert_eq!(heat(&["s.toml", "--heat", "--paused"]), Ok(Some(HeatMode::Dwell)));
        assert_eq!(heat(&["s.toml", "--heat", "density"]), Ok(Some(HeatMode::Density)));
        assert_eq!(
            heat(&["s.toml", "--heat=dwell", "--at", "12:00", "--screenshot", "x.png"]),
            Ok(Some(HeatMode::Dwell))
        );
        let err = heat(&["s.toml", "--heat", "lava"]).expect_err("not a mode");
        assert!(err.contains("expected `dwell` or `density`"), "{err}");
    }
}
