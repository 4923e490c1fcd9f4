//! The files storetwin leaves behind, written one way for every front end that runs a
//! simulation (the `storetwin` command, `storetwin load` included; the live server next).
//!
//! A run of one scenario writes `summary.json` ([`summary`]: run identity, engine figures,
//! every KPI and its mean and 95% confidence interval across replications),
//! `timeseries.csv` ([`timeseries`]: one row per simulated minute) and `report.html`
//! ([`html::write_run_report`]); a chain run writes the same three ([`chain`] and
//! [`html::write_chain_report`]). A comparison of two scenarios is estimated here too
//! ([`compare::differences`], from the paired replications) and written as
//! `comparison.json` ([`compare::write_comparison_json`]) and `compare.html`
//! ([`html::write_comparison_page`]). [`kpi`] says what each KPI is (group, name, unit,
//! which way is better, listing order), so the console, the JSON and the pages describe
//! KPIs alike; [`stats`] gives means, confidence intervals and the decimals they deserve.
//! [`load`] lays out a load test's end-of-test summary as k6 does (thresholds, invariants,
//! sections of metrics), from plain data the caller fills in, and writes its
//! `timeseries.csv` from the series kept second by second ([`load::PerSecond`]); its
//! Gatling-style `report.html` is [`html::write_load_report`].
//!
//! The caller runs the simulations and hands over their [`DayRun`]s: nothing here runs
//! one, parses arguments or prints to the console. Every file is written atomically
//! (`storetwin_eventlog::atomic`): a reader sees the old file or the whole new one.
//!
//! [`DayRun`]: storetwin_actors::store::day::DayRun

pub mod chain;
pub mod compare;
pub mod html;
pub mod kpi;
pub mod load;
pub mod stats;
pub mod summary;
pub mod timeseries;

use storetwin_eventlog::atomic::WriteError;

/// Why an output file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be written (it is left as it was).
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A chart of a page could not be drawn.
    #[error("cannot draw a chart: {0}")]
    Chart(String),
    /// A page could not be laid out.
    #[error("cannot lay out the page: {0}")]
    Layout(#[from] std::fmt::Error),
    /// What the writer was given cannot make the file (no run, a summary without its
    /// `run` object).
    #[error("{0}")]
    Input(&'static str),
}

impl<E: std::error::Error + Send + Sync> From<plotters::drawing::DrawingAreaErrorKind<E>> for Error {
    fn from(e: plotters::drawing::DrawingAreaErrorKind<E>) -> Error {
        Error::Chart(e.to_string())
    }
}

/// The result of writing an output file.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `seconds_of_day` after midnight as "HH:MM" (wrapping at 24 h).
fn time_of_day(seconds_of_day: u32) -> String {
    format!("{:02}:{:02}", seconds_of_day / 3600 % 24, seconds_of_day / 60 % 60)
}

/// The bundled weekday scenario, cut to its first `hours` hours (quick to run in a test).
#[cfg(test)]
fn weekday_opening(hours: u64) -> storetwin_scenarios::Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/weekday.toml");
    let mut scenario = storetwin_scenarios::load(&path).expect("the bundled weekday loads");
    scenario.world.duration = storetwin_engine::SimDuration::from_secs(hours * 3600);
    scenario
}
