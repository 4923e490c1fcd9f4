//! PHOLD (ROSS defaults) on NeXosim 1.0, a peer benchmark for the storetwin kernel.
//!
//! `phold-nexosim --lps N --events E [--seed S] [--remote P] [--threads K]`
//! (defaults: seed 1, remote 0.25, threads 1) prints one JSON line:
//! `{"peer":"nexosim","lps":N,"events":E,"wall_s":..,"events_per_sec":..,"threads":K}`.
//!
//! # The model, and how it maps onto NeXosim
//!
//! PHOLD: N logical processes (LPs). At start every LP schedules one event to
//! itself at Exp(1) + 1. An LP processing an event at time t draws U ~ U[0,1);
//! if U < remote the destination is uniform over all N LPs (itself included),
//! else itself; it sends one event to the destination at t + Exp(1) + 1
//! (lookahead 1). The run stops once E events have been processed.
//!
//! * Each LP is one NeXosim model ([`Lp`]) with its own mailbox. A PHOLD event
//!   is the self-scheduled input `Lp::process`, scheduled with
//!   [`Context::schedule_event`] (a `#[nexosim(schedulable)]` method), so the
//!   event sits in NeXosim's scheduler queue until its time comes. The start
//!   event is scheduled the same way from `Lp::init` (`#[nexosim(init)]`).
//! * NeXosim lets a model schedule delayed events only on *itself*; other
//!   models are reached through ports, and ports deliver at the current time.
//!   So a remote send is an instantaneous message carrying the delay, and the
//!   destination schedules the event on itself: the sender draws the delay at
//!   t and sends `Remote { to, delay }`; the destination's input port
//!   `Lp::receive` (run at the same time t) calls `schedule_event(delay,
//!   process)`, so the destination processes it at t + delay exactly as PHOLD
//!   says. Self-sends (75%, plus the remote draws that land on the sender)
//!   schedule directly, with no message.
//! * Routing. An `Output` broadcasts to every input connected to it; NeXosim
//!   has no point-to-point "send to address i" from inside a model. Wiring
//!   every LP to every LP would be N² connections (4·10⁹ at 65,536 LPs), and
//!   one output with N `filter_map_connect` filters costs O(N) per send. The
//!   idiomatic flow-based answer is a switch model: every LP's `to_router`
//!   output is connected to one [`Router`] model, which holds one `Output` per
//!   LP (connected to that LP's `receive`) and forwards each message to
//!   `to_lp[to]`, O(1). A remote event therefore costs two mailbox messages
//!   (LP -> router -> LP) on top of the scheduling; that is NeXosim's price
//!   for addressing, and it is what a NeXosim user would write.
//!   (The alternative, handing every model a global `Scheduler` and one
//!   registered `EventId` per LP, bypasses the port system and is not how
//!   NeXosim models are meant to talk, so it is not used.)
//! * Counting and stopping. `Simulation::step` advances to the next scheduled
//!   time and runs every event due then (with nanosecond time and continuous
//!   delays that is almost always exactly one). Every `process` bumps one
//!   shared `AtomicU64` (held in the model's `Env`, NeXosim's place for
//!   non-serialisable state) and the driver steps until it reaches E. If
//!   several events share the last time stamp, those past E see the counter
//!   already at E and do nothing, so exactly E events are processed.
//! * Time is NeXosim's `MonotonicTime` (integer nanoseconds, like storetwin's
//!   `SimTime`); delays are `Duration::from_secs_f64(Exp(1) + 1)`, i.e. whole
//!   nanoseconds.
//!
//! # Random numbers
//!
//! One SplitMix64 generator per LP (64 bits of state, a plain serialisable
//! field as NeXosim models must be `Serialize`), seeded with
//! `mix(seed) ^ mix(lp + 1)` where `mix` is the SplitMix64 output function, so
//! each LP draws from its own stream and a run depends only on (seed, N).
//! Uniform [0,1) takes the top 53 bits; Exp(1) is `-ln(1 - U)`; a uniform
//! destination is `(x * N) >> 64` on a 64-bit draw (bias below N / 2^64).
//!
//! # Threads
//!
//! `--threads 1` (the default) builds the simulation with
//! `SimInit::with_num_threads(1)`, NeXosim's single-threaded executor;
//! `--threads K` uses its multi-threaded executor with K workers. NeXosim only
//! runs in parallel the events of one time stamp, which in PHOLD with
//! continuous delays is nearly always a single event, so more threads mostly
//! add synchronisation cost here.
//!
//! Only the stepping loop is timed (`std::time::Instant`, monotonic), not the
//! construction of the models or `SimInit::init`.

use std::process::exit;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nexosim::model::{BuildContext, Context, Model, ProtoModel, schedulable};
use nexosim::ports::Output;
use nexosim::simulation::{Mailbox, SimInit};
use nexosim::time::MonotonicTime;
use serde::{Deserialize, Serialize};

/// SplitMix64 (Steele, Lea & Flood 2014): a 64-bit Weyl sequence passed
/// through a strong output mix. Small, fast, and plainly serialisable.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

    /// The SplitMix64 output function (a bijective 64-bit mix).
    #[inline(always)]
    fn mix(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The generator of LP `lp` for run seed `seed`.
    fn for_lp(seed: u64, lp: u32) -> Self {
        Self { state: Self::mix(seed) ^ Self::mix(u64::from(lp) + 1) }
    }

    #[inline(always)]
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(Self::GAMMA);
        Self::mix(self.state)
    }

    /// Uniform on [0, 1), 53 bits.
    #[inline(always)]
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform on 0..n (multiply-shift; bias below n / 2^64).
    #[inline(always)]
    fn below(&mut self, n: u32) -> u32 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u32
    }

    /// PHOLD's delay: Exp(mean 1) + 1 (the lookahead), in seconds.
    #[inline(always)]
    fn delay(&mut self) -> Duration {
        let exp = -(1.0 - self.uniform()).ln();
        Duration::from_secs_f64(exp + 1.0)
    }
}

/// A PHOLD event bound for another LP, in transit through the [`Router`]:
/// the destination schedules it `delay` after the current time.
#[derive(Clone, Copy, Debug)]
pub struct Remote {
    to: u32,
    delay: Duration,
}

/// One PHOLD logical process.
#[derive(Serialize, Deserialize)]
pub struct Lp {
    id: u32,
    lps: u32,
    remote: f64,
    rng: SplitMix64,
    /// Connected to [`Router::route`].
    to_router: Output<Remote>,
}

/// The LP's non-serialisable environment: the run-wide processed-event
/// counter and the event budget E.
pub struct LpEnv {
    processed: Arc<AtomicU64>,
    limit: u64,
}

#[Model(type Env = LpEnv)]
impl Lp {
    /// Schedules the LP's one start event at Exp(1) + 1.
    #[nexosim(init)]
    async fn init(&mut self, cx: &Context<Self>) {
        let delay = self.rng.delay();
        cx.schedule_event(delay, schedulable!(Self::process), ())
            .expect("a PHOLD delay is at least 1 s, so always in the future");
    }

    /// Input port: a PHOLD event sent by another LP, to be processed `delay`
    /// from now.
    pub fn receive(&mut self, delay: Duration, cx: &Context<Self>) {
        cx.schedule_event(delay, schedulable!(Self::process), ())
            .expect("a PHOLD delay is at least 1 s, so always in the future");
    }

    /// Processes one PHOLD event: count it, pick the destination, send one
    /// event there at now + Exp(1) + 1.
    #[nexosim(schedulable)]
    async fn process(&mut self, _: (), cx: &Context<Self>, env: &mut LpEnv) {
        if env.processed.fetch_add(1, Ordering::Relaxed) >= env.limit {
            return; // E events are done; this one shares the last time stamp.
        }
        let to = if self.rng.uniform() < self.remote { self.rng.below(self.lps) } else { self.id };
        let delay = self.rng.delay();
        if to == self.id {
            cx.schedule_event(delay, schedulable!(Self::process), ())
                .expect("a PHOLD delay is at least 1 s, so always in the future");
        } else {
            self.to_router.send(Remote { to, delay }).await;
        }
    }
}

/// Builds an [`Lp`] with its environment (the counter is shared, so the
/// environment has no `Default` and the model needs an explicit prototype).
pub struct ProtoLp {
    id: u32,
    lps: u32,
    remote: f64,
    seed: u64,
    pub to_router: Output<Remote>,
    processed: Arc<AtomicU64>,
    limit: u64,
}

impl ProtoModel for ProtoLp {
    type Model = Lp;

    fn build(self, _: &mut BuildContext<Self>) -> (Lp, LpEnv) {
        let lp = Lp {
            id: self.id,
            lps: self.lps,
            remote: self.remote,
            rng: SplitMix64::for_lp(self.seed, self.id),
            to_router: self.to_router,
        };
        (lp, LpEnv { processed: self.processed, limit: self.limit })
    }
}

/// The switch: one input from every LP, one output to every LP.
#[derive(Serialize, Deserialize)]
pub struct Router {
    /// `to_lp[i]` is connected to LP i's [`Lp::receive`].
    to_lp: Vec<Output<Duration>>,
}

#[Model]
impl Router {
    /// Input port: forwards a remote event to its destination LP.
    pub async fn route(&mut self, msg: Remote) {
        self.to_lp[msg.to as usize].send(msg.delay).await;
    }
}

struct Args {
    lps: u32,
    events: u64,
    seed: u64,
    remote: f64,
    threads: usize,
}

fn parse_args() -> Args {
    let mut args = Args { lps: 1024, events: 2_000_000, seed: 1, remote: 0.25, threads: 1 };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or("");
        let bad = || -> ! {
            eprintln!("phold-nexosim: bad value {value:?} for {}", pair[0]);
            exit(2)
        };
        match pair[0].as_str() {
            "--lps" => args.lps = value.parse().unwrap_or_else(|_| bad()),
            "--events" => args.events = value.parse().unwrap_or_else(|_| bad()),
            "--seed" => args.seed = value.parse().unwrap_or_else(|_| bad()),
            "--remote" => args.remote = value.parse().unwrap_or_else(|_| bad()),
            "--threads" => args.threads = value.parse().unwrap_or_else(|_| bad()),
            other => {
                eprintln!(
                    "phold-nexosim: unknown argument {other}; \
                     use --lps N --events E [--seed S] [--remote P] [--threads K]"
                );
                exit(2)
            }
        }
    }
    if args.lps == 0 || args.threads == 0 || !(0.0..=1.0).contains(&args.remote) {
        eprintln!("phold-nexosim: need --lps >= 1, --threads >= 1 and 0 <= --remote <= 1");
        exit(2)
    }
    args
}

fn main() {
    let args = parse_args();
    let n = args.lps as usize;
    let processed = Arc::new(AtomicU64::new(0));

    // Bench assembly: N LP mailboxes, the router wired to each LP's `receive`,
    // each LP's output wired to the router.
    let lp_mboxes: Vec<Mailbox<Lp>> = (0..n).map(|_| Mailbox::new()).collect();
    let router_mbox = Mailbox::new();
    let router = Router {
        to_lp: lp_mboxes
            .iter()
            .map(|mbox| {
                let mut out = Output::new();
                out.connect(Lp::receive, mbox);
                out
            })
            .collect(),
    };
    let router_addr = router_mbox.address();
    let mut bench = SimInit::with_num_threads(args.threads).add_model(router, router_mbox, "router");
    for (id, mbox) in lp_mboxes.into_iter().enumerate() {
        let mut proto = ProtoLp {
            id: id as u32,
            lps: args.lps,
            remote: args.remote,
            seed: args.seed,
            to_router: Output::new(),
            processed: Arc::clone(&processed),
            limit: args.events,
        };
        proto.to_router.connect(Router::route, &router_addr);
        bench = bench.add_model(proto, mbox, &format!("lp{id}"));
    }

    // `init` runs every model's init: the N start events are scheduled here.
    let mut simu = bench.init(MonotonicTime::EPOCH).unwrap_or_else(|e| {
        eprintln!("phold-nexosim: init failed: {e}");
        exit(1)
    });

    let started = Instant::now();
    loop {
        let before = processed.load(Ordering::Relaxed);
        if before >= args.events {
            break;
        }
        if let Err(e) = simu.step() {
            eprintln!("phold-nexosim: step failed: {e}");
            exit(1)
        }
        if processed.load(Ordering::Relaxed) == before {
            break; // nothing left to schedule (cannot happen in PHOLD: events are conserved)
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let events = processed.load(Ordering::Relaxed).min(args.events);

    println!(
        "{{\"peer\":\"nexosim\",\"lps\":{},\"events\":{events},\"wall_s\":{wall},\"events_per_sec\":{},\"threads\":{}}}",
        args.lps,
        events as f64 / wall.max(1e-9),
        args.threads
    );
}
