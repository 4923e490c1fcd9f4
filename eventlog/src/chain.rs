//! The log of a live chain session (`storetwin-twin CHAIN.toml --events FILE`): one line
//! of JSON with the chain file and its hash, the seed, every intervention with its store
//! and sim time, and how the run ended (events, `event_hash`, each shard's hash).
//!
//! A chain's events are spread over its shards and threads, so the log does not list them
//! one by one as a store's event log does: a replay runs the chain again with the seed and
//! the interventions (the kernel's order and the windows make that the identical run) and
//! compares the fingerprints, the chain's and every shard's, so a replay that differs says
//! in which store.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use storetwin_actors::chain::live::{StoreIntervention, StoreReading};

use crate::LogError;

pub const CHAIN_FORMAT: &str = "storetwin-chain-session";
pub const CHAIN_VERSION: u32 = 1;

/// A live chain session, as a file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChainLog {
    pub format: String,
    pub version: u32,
    /// The chain (or load) file, absolute, and its content hash: replay refuses a changed file.
    pub scenario: PathBuf,
    pub scenario_hash: String,
    pub seed: u64,
    pub written_by: String,
    /// The store shown when the session ended (a replay starts on it).
    pub shown: String,
    /// Every intervention, per store in the order the store took them.
    pub interventions: Vec<StoreIntervention>,
    /// Every sensor reading a served chain took, each with its place among its store's
    /// interventions (none in a twin's log).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readings: Vec<StoreReading>,
    pub events: u64,
    pub event_hash: String,
    /// Every shard's `event_hash`, centres first, then the stores in the chain's order.
    pub shard_hashes: Vec<String>,
    /// Sim time the session ended at, nanoseconds since the run's start.
    pub end_ns: u64,
}

impl ChainLog {
    /// Writes the log to `path` (whole or not at all).
    pub fn write(&self, path: &Path) -> Result<(), LogError> {
        write_line(path, self)
    }

    /// Reads a chain session log, naming what is wrong with one that is not.
    pub fn read(path: &Path) -> Result<ChainLog, LogError> {
        let log: ChainLog = read_line(path, "a chain session log")?;
        check_format(path, &log.format, log.version, CHAIN_FORMAT, CHAIN_VERSION)?;
        Ok(log)
    }
}

/// Whether the file at `path` is a chain session log (rather than a store's event log):
/// its first line is JSON whose `format` is [`CHAIN_FORMAT`].
pub fn is_chain_log(path: &Path) -> bool {
    format_of(path).is_some_and(|f| f == CHAIN_FORMAT)
}

/// Writes `value` to `path` as one line of JSON (whole or not at all).
pub(crate) fn write_line<T: Serialize>(path: &Path, value: &T) -> Result<(), LogError> {
    let mut line = serde_json::to_vec(value).map_err(|e| LogError::format(path, e.to_string()))?;
    line.push(b'\n');
    crate::atomic::write_atomic(path, |w| w.write_all(&line))
        .map_err(|e| LogError::format(path, format!("cannot write: {e}")))
}

/// Reads a one-line JSON session file, naming the line and column of what is wrong.
pub(crate) fn read_line<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T, LogError> {
    let bytes = std::fs::read(path).map_err(LogError::io(path))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| LogError::format(path, format!("line {}, column {}: not {what} ({e})", e.line(), e.column())))
}

/// Refuses a session file of another format or version than expected.
pub(crate) fn check_format(
    path: &Path,
    format: &str,
    version: u32,
    expected: &str,
    expected_version: u32,
) -> Result<(), LogError> {
    if format != expected || version != expected_version {
        return Err(LogError::format(
            path,
            format!("format {format} version {version}; expected {expected} version {expected_version}"),
        ));
    }
    Ok(())
}

/// The `format` of the JSON on the first line of the file at `path`, if it has one.
pub(crate) fn format_of(path: &Path) -> Option<String> {
    use std::io::BufRead as _;
    let file = std::fs::File::open(path).ok()?;
    let mut line = Vec::new();
    std::io::BufReader::new(file).take(64 << 20).read_until(b'\n', &mut line).ok()?;
    #[derive(Deserialize)]
    struct Format {
        format: String,
    }
    serde_json::from_slice::<Format>(&line).ok().map(|f| f.format)
}

#[cfg(test)]
mod tests {
    use super::*;
    use storetwin_actors::store::live::Intervention;

    #[test]
    fn a_chain_log_reads_back_and_is_told_from_an_event_log() {
        let dir = std::env::temp_dir().join(format!("storetwin-chain-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.session");
        let log = ChainLog {
            format: CHAIN_FORMAT.into(),
            version: CHAIN_VERSION,
            scenario: "/x/chain.toml".into(),
            scenario_hash: "abc".into(),
            seed: 7,
            written_by: "test".into(),
            shown: "S001".into(),
            interventions: vec![StoreIntervention {
                store: 2,
                at_ns: 5,
                what: Intervention::SetLaneOpen { lane: 1, open: true },
            }],
            readings: Vec::new(),
            events: 10,
            event_hash: "00ff".into(),
            shard_hashes: vec!["01".into()],
            end_ns: 99,
        };
        log.write(&path).unwrap();
        assert!(is_chain_log(&path));
        assert_eq!(ChainLog::read(&path).unwrap(), log);
        std::fs::write(&path, b"{\"format\":\"storetwin-events\"}\n").unwrap();
        assert!(!is_chain_log(&path));
        let err = ChainLog::read(&path).unwrap_err().to_string();
        assert!(err.contains("not a chain session log"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
