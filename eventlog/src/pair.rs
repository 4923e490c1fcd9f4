//! The log of two stores side by side (`storetwin-twin --compare A B --events FILE`): one
//! line of JSON with the seed both sides ran, how the session ended, and for each side its
//! scenario file and hash, every intervention made on it with its sim time, and its events
//! and `event_hash`. A replay runs both again with the seed and each side's interventions
//! (the same run, as for a store's session) and compares each side's fingerprint.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use storetwin_actors::store::live::TimedIntervention;

use crate::LogError;
use crate::chain::{check_format, format_of, read_line, write_line};

pub const PAIR_FORMAT: &str = "storetwin-pair-session";
pub const PAIR_VERSION: u32 = 1;

/// One side of a side-by-side session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairSide {
    /// The store scenario, absolute, and its content hash: replay refuses a changed file.
    pub scenario: PathBuf,
    pub scenario_hash: String,
    /// Every intervention made on this side, in the order it took them.
    pub interventions: Vec<TimedIntervention>,
    pub events: u64,
    pub event_hash: String,
}

/// A side-by-side session, as a file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairLog {
    pub format: String,
    pub version: u32,
    /// The seed of both sides (the same shoppers).
    pub seed: u64,
    pub written_by: String,
    /// A, then B.
    pub sides: [PairSide; 2],
    /// Sim time the session ended at, nanoseconds since opening.
    pub end_ns: u64,
}

impl PairLog {
    /// Writes the log to `path` (whole or not at all).
    pub fn write(&self, path: &Path) -> Result<(), LogError> {
        write_line(path, self)
    }

    /// Reads a side-by-side session log, naming what is wrong with one that is not.
    pub fn read(path: &Path) -> Result<PairLog, LogError> {
        let log: PairLog = read_line(path, "a side-by-side session log")?;
        check_format(path, &log.format, log.version, PAIR_FORMAT, PAIR_VERSION)?;
        Ok(log)
    }
}

/// Whether the file at `path` is a side-by-side session log.
pub fn is_pair_log(path: &Path) -> bool {
    format_of(path).is_some_and(|f| f == PAIR_FORMAT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use storetwin_actors::store::live::Intervention;

    #[test]
    fn a_pair_log_reads_back_and_is_told_from_a_chain_log() {
        let dir = std::env::temp_dir().join(format!("storetwin-pair-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.session");
        let side = |hash: &str| PairSide {
            scenario: "/x/a.toml".into(),
            scenario_hash: hash.into(),
            interventions: vec![TimedIntervention {
                at_ns: 5,
                what: Intervention::SetLaneOpen { lane: 1, open: false },
            }],
            events: 10,
            event_hash: "00ff".into(),
        };
        let log = PairLog {
            format: PAIR_FORMAT.into(),
            version: PAIR_VERSION,
            seed: 7,
            written_by: "test".into(),
            sides: [side("a"), side("b")],
            end_ns: 99,
        };
        log.write(&path).unwrap();
        assert!(is_pair_log(&path));
        assert!(!crate::chain::is_chain_log(&path));
        assert_eq!(PairLog::read(&path).unwrap(), log);
        let err = crate::chain::ChainLog::read(&path).unwrap_err().to_string();
        assert!(err.contains("not a chain session log"), "{err}");
        std::fs::write(&path, b"{\"format\":\"x\"").unwrap();
        let err = PairLog::read(&path).unwrap_err().to_string();
        assert!(err.contains("line 1, column") && err.contains("not a side-by-side session log"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
