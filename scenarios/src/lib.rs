//! `storetwin-scenarios`: the scenario file format.
//!
//! A planner writes a store day as TOML; [`load`] reads it (with the files it
//! `extends`), checks it and returns a [`Scenario`] holding a checked
//! [`WorldSpec`](storetwin_actors::store::spec::WorldSpec), or a [`ScenarioError`] whose
//! problems each point at a file, line and column with what was expected (rendered by
//! miette). [`json_schema`] describes the format for editors.
//!
//! ```toml
//! [run]
//! seed = 7
//! open = "08:00"
//! close = "12:00"
//!
//! [store]
//! name = "Corner shop"
//! cell_m = 1.0
//! floor = '''
//! #######
//! #a.b..#
//! #a.b.1#
//! #.....#
//! ##E#X##
//! '''
//! [store.legend]
//! "#" = "wall"
//! "." = "floor"
//! "E" = "entrance"
//! "X" = "exit"
//! "a" = { shelf = "dairy" }
//! "b" = { shelf = "bakery" }
//! "1" = { lane = "till" }
//!
//! [categories]
//! dairy = 1.5
//! bakery = 1.0
//!
//! [[sku]]
//! name = "Whole milk 1 l"
//! category = "dairy"
//! price = "1.19"
//! cost = "0.80"
//! shelf = 30
//! shelf_capacity = 40
//! back_room = 100
//! reorder_at = 10
//!
//! [arrivals]
//! per_hour = [20, 40, 60, 40]   # one rate per opening hour
//!
//! [[segment]]
//! name = "everyone"
//! share = 1.0
//! basket = { dist = "lognormal", mean = 5, sd = 3 }
//! # ... dwell_s, speed_mps, shares, patience_s, balk_at, payment
//!
//! [[lane]]
//! name = "till"
//! kind = "staffed"
//! base_s = 20
//! per_item_s = { dist = "normal", mean = 3, sd = 1 }
//! pay_s = { card = 10, cash = 25 }   # mobile_qr and prepaid: their defaults (5 s)
//!
//! [replenishment]
//! staff = 1
//! trip_s = { dist = "exponential", mean = 300 }
//! ```
//!
//! A chain file (`[chain]`, `[[store]]` entries naming store scenarios, `[platform]`,
//! `[members]`, `[[online]]`, `[[coupon]]`, ...) runs several stores as one chain:
//! [`Chain::load`] gives its checked
//! [`ChainSpec`](storetwin_actors::chain::spec::ChainSpec) (see [`chain`]), and
//! [`file_kind`] tells the two kinds of file apart; [`chain_json_schema`] describes it.
//!
//! A file with `extends = "other.toml"` is a change to another scenario; repeated items are
//! written once as a group (see [`format`]). [`Scenario::defaults`] lists every value the
//! file left out and loading filled in. The bundled scenarios (`weekday.toml`, its
//! variants `layout-b.toml`, `staffing-lean.toml`, ...) live beside this crate.

mod build;
pub mod chain;
mod check;
mod defaults;
mod deserializer;
pub mod distribution;
mod document;
pub mod duration;
pub mod error;
mod extends;
mod file_kind;
mod fingerprint;
mod floor;
pub mod format;
mod group;
mod path;
pub mod price;
mod scenario;
mod schema;
mod source;
pub mod time_of_day;

pub use chain::{Chain, load_chain};
pub use defaults::AppliedDefault;
pub use duration::{DurationError, parse_duration};
pub use error::{Location, Problem, ProblemKind, ScenarioError};
pub use file_kind::{FileKind, file_kind};
pub use price::{PriceError, parse_price};
pub use scenario::{Scenario, load, load_str};
pub use schema::{chain_json_schema, json_schema, json_schema_for};
