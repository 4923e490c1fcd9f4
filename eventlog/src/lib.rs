//! The event log (`storetwin run --events FILE`, `storetwin-twin --events FILE`): every
//! event of one run, for playback and exact replay.
//!
//! Format (version 2), little-endian:
//! 1. one line of JSON, the [`Header`]: format, version, the scenario (absolute path and
//!    content hash), the seed, what wrote it;
//! 2. one 16-byte record per event in delivery order: time in nanoseconds (u64), receiving
//!    actor (u32), message code (u8, see `StoreMsg::code`), and the message's main
//!    argument in the remaining 3 bytes (24 bits);
//! 3. an end marker (16 bytes of 0xFF: no event has time `u64::MAX`), then one line of
//!    JSON, the [`Trailer`]: how many events, the `event_hash`, the end time, every
//!    intervention of a live session with its sim time, and the end state.
//!
//! A log is replayed by running the scenario again with the seed and the interventions
//! (the kernel's order makes that the identical run) while a [`Checker`] compares each
//! event with the log's record; [`Trailer`] then says what the end must be.
//!
//! The file is written to a temporary name and renamed when complete, so a log on disk is
//! always whole; [`atomic`] does the same for every other output file.

pub mod atomic;
pub mod chain;
pub mod pair;

use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use storetwin_actors::StoreMsg;
use storetwin_actors::store::live::{Snapshot, TimedIntervention};
use storetwin_engine::{ActorId, EventKey, Observer, SimTime};

pub const FORMAT: &str = "storetwin-events";
pub const VERSION: u32 = 2;
const RECORD: usize = 16;
const END_MARKER: [u8; RECORD] = [0xFF; RECORD];

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {what}")]
    Format { path: PathBuf, what: String },
}

impl LogError {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LogError + '_ {
        move |source| LogError::Io { path: path.to_path_buf(), source }
    }

    fn format(path: &Path, what: impl Into<String>) -> LogError {
        LogError::Format { path: path.to_path_buf(), what: what.into() }
    }
}

/// The first line of a log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    /// The scenario file, absolute, as it was when the log was written.
    pub scenario: PathBuf,
    /// The scenario's content hash (`Scenario::hash`): replay refuses a changed file.
    pub scenario_hash: String,
    pub seed: u64,
    /// What wrote the log: `storetwin run` or `storetwin-twin`.
    pub written_by: String,
    pub record: String,
}

impl Header {
    pub fn new(scenario: &Path, scenario_hash: &str, seed: u64, written_by: &str) -> Header {
        Header {
            format: FORMAT.to_string(),
            version: VERSION,
            scenario: std::path::absolute(scenario).unwrap_or_else(|_| scenario.to_path_buf()),
            scenario_hash: scenario_hash.to_string(),
            seed,
            written_by: written_by.to_string(),
            record: "u64 time_ns, u32 actor, u8 code, u24 arg (little-endian); then 16 x 0xFF and the trailer"
                .to_string(),
        }
    }
}

/// What a run ended with: a few totals a replay must reach exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndState {
    pub footfall: u64,
    pub footfall_sensed: u64,
    pub buyers: u64,
    pub sales_cents: i64,
    /// Shoppers inside the store at the end.
    pub inside: u64,
    /// Shoppers waiting in any queue at the end.
    pub waiting: u64,
    pub devices_down: u64,
}

impl EndState {
    pub fn of(snapshot: &Snapshot) -> EndState {
        EndState {
            footfall: snapshot.footfall,
            footfall_sensed: snapshot.footfall_sensed,
            buyers: snapshot.buyers,
            sales_cents: snapshot.sales.0,
            inside: snapshot.shoppers.len() as u64,
            waiting: snapshot.queues.iter().map(|q| u64::from(q.waiting)).sum(),
            devices_down: snapshot.devices_up.iter().filter(|up| !**up).count() as u64,
        }
    }
}

/// The last line of a log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trailer {
    pub events: u64,
    pub event_hash: String,
    /// Sim time at the end, nanoseconds since the scenario start.
    pub end_ns: u64,
    pub interventions: Vec<TimedIntervention>,
    pub end_state: EndState,
}

/// Writes a log as the run goes (it is the run's [`Observer`]).
pub struct EventLog {
    path: PathBuf,
    tmp: PathBuf,
    out: BufWriter<File>,
    error: Option<std::io::Error>,
    records: u64,
}

impl EventLog {
    pub fn create(path: &Path, header: &Header) -> Result<EventLog, LogError> {
        let tmp = atomic::temp_beside(path).map_err(|e| LogError::Io { path: e.path, source: e.source })?;
        let file = File::create(&tmp).map_err(LogError::io(&tmp))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let written =
            serde_json::to_writer(&mut out, header).map_err(std::io::Error::from).and_then(|()| out.write_all(b"\n"));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(LogError::Io { path: tmp, source: e });
        }
        Ok(EventLog { path: path.to_path_buf(), tmp, out, error: None, records: 0 })
    }

    /// Events recorded so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Writes the trailer, flushes, syncs and renames the log into place. The trailer's
    /// event count must be the number of events recorded.
    pub fn finish(self, trailer: &Trailer) -> Result<u64, LogError> {
        let EventLog { path, tmp, mut out, error, records } = self;
        let result = (|| -> std::io::Result<()> {
            if let Some(e) = error {
                return Err(e);
            }
            if trailer.events != records {
                return Err(std::io::Error::other(format!(
                    "the trailer counts {} events but {records} were recorded",
                    trailer.events
                )));
            }
            out.write_all(&END_MARKER)?;
            serde_json::to_writer(&mut out, trailer)?;
            out.write_all(b"\n")?;
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            fs::rename(&tmp, &path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map_err(LogError::io(&path))?;
        Ok(records)
    }
}

fn encode(key: EventKey, to: ActorId, msg: &StoreMsg) -> [u8; RECORD] {
    let (code, arg) = msg.code();
    let mut record = [0u8; RECORD];
    record[0..8].copy_from_slice(&key.time().as_nanos().to_le_bytes());
    record[8..12].copy_from_slice(&to.0.to_le_bytes());
    record[12] = code;
    record[13..16].copy_from_slice(&arg.to_le_bytes()[0..3]);
    record
}

impl Observer<StoreMsg> for EventLog {
    fn on_event(&mut self, key: EventKey, to: ActorId, msg: &StoreMsg) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self.out.write_all(&encode(key, to, msg)) {
            self.error = Some(e);
        }
        self.records += 1;
    }
}

/// One event as the log holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub time: SimTime,
    pub actor: u32,
    pub code: u8,
    pub arg: u32,
}

impl Record {
    fn decode(b: &[u8; RECORD]) -> Record {
        let mut arg = [0u8; 4];
        arg[0..3].copy_from_slice(&b[13..16]);
        Record {
            time: SimTime::from_nanos(u64::from_le_bytes(b[0..8].try_into().unwrap_or_default())),
            actor: u32::from_le_bytes(b[8..12].try_into().unwrap_or_default()),
            code: b[12],
            arg: u32::from_le_bytes(arg),
        }
    }
}

/// An open log: its header read, positioned at the first record.
pub struct LogReader {
    path: PathBuf,
    input: BufReader<File>,
    /// Byte offset of the next record.
    offset: u64,
    read: u64,
    ended: bool,
}

/// Reads a log's header and trailer (scanning past the records).
pub fn read_log(path: &Path) -> Result<(Header, Trailer), LogError> {
    let (header, mut reader) = LogReader::open(path)?;
    while reader.next_record()?.is_some() {}
    let trailer = reader.trailer()?;
    Ok((header, trailer))
}

impl LogReader {
    pub fn open(path: &Path) -> Result<(Header, LogReader), LogError> {
        let file = File::open(path).map_err(LogError::io(path))?;
        let mut input = BufReader::with_capacity(1 << 20, file);
        let mut line = Vec::new();
        input.read_until(b'\n', &mut line).map_err(LogError::io(path))?;
        let value: serde_json::Value = serde_json::from_slice(&line).map_err(|e| {
            LogError::format(path, format!("line 1, column {}: not an event log header ({e})", e.column()))
        })?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(LogError::format(path, format!("line 1: expected \"format\": \"{FORMAT}\"")));
        }
        let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
        if version != u64::from(VERSION) {
            return Err(LogError::format(
                path,
                format!(
                    "line 1: event log version {version}; this build reads version {VERSION} (record the run again)"
                ),
            ));
        }
        let header: Header = serde_json::from_value(value)
            .map_err(|e| LogError::format(path, format!("line 1: bad header field: {e}")))?;
        let offset = line.len() as u64;
        Ok((header, LogReader { path: path.to_path_buf(), input, offset, read: 0, ended: false }))
    }

    /// The next event record, or `None` at the end marker.
    pub fn next_record(&mut self) -> Result<Option<Record>, LogError> {
        if self.ended {
            return Ok(None);
        }
        let mut b = [0u8; RECORD];
        self.input.read_exact(&mut b).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                LogError::format(
                    &self.path,
                    format!(
                        "byte {}: the log ends after {} records without its end marker (cut short?)",
                        self.offset, self.read
                    ),
                )
            } else {
                LogError::Io { path: self.path.clone(), source: e }
            }
        })?;
        self.offset += RECORD as u64;
        if b == END_MARKER {
            self.ended = true;
            return Ok(None);
        }
        self.read += 1;
        Ok(Some(Record::decode(&b)))
    }

    /// The trailer; call after [`LogReader::next_record`] returned `None`.
    pub fn trailer(&mut self) -> Result<Trailer, LogError> {
        if !self.ended {
            return Err(LogError::format(&self.path, "the trailer was asked for before the records were read"));
        }
        let mut line = Vec::new();
        self.input.read_to_end(&mut line).map_err(LogError::io(&self.path))?;
        let trailer: Trailer = serde_json::from_slice(&line).map_err(|e| {
            LogError::format(&self.path, format!("byte {}: the trailer is not valid ({e})", self.offset))
        })?;
        if trailer.events != self.read {
            return Err(LogError::format(
                &self.path,
                format!("the trailer counts {} events but the log holds {}", trailer.events, self.read),
            ));
        }
        Ok(trailer)
    }
}

/// A replay's observer: compares every event with the log's next record and keeps the
/// first difference.
pub struct Checker {
    reader: LogReader,
    checked: u64,
    divergence: Option<String>,
    error: Option<LogError>,
}

impl Checker {
    pub fn new(reader: LogReader) -> Checker {
        Checker { reader, checked: 0, divergence: None, error: None }
    }

    /// Events that matched so far.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// Where the replay first differed from the log, if it did.
    pub fn divergence(&self) -> Option<&str> {
        self.divergence.as_deref()
    }

    /// Reads the rest of the log: the events the replay has not reached, and the trailer.
    pub fn finish(mut self) -> Result<(u64, Option<String>, Trailer), LogError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let mut unreached = 0;
        while self.reader.next_record()?.is_some() {
            unreached += 1;
        }
        let trailer = self.reader.trailer()?;
        Ok((unreached, self.divergence, trailer))
    }
}

impl Observer<StoreMsg> for Checker {
    fn on_event(&mut self, key: EventKey, to: ActorId, msg: &StoreMsg) {
        if self.divergence.is_some() || self.error.is_some() {
            return;
        }
        let got = Record::decode(&encode(key, to, msg));
        match self.reader.next_record() {
            Ok(Some(want)) if want == got => self.checked += 1,
            Ok(Some(want)) => {
                self.divergence =
                    Some(format!("event {}: the log has {want:?}, the replay delivered {got:?}", self.checked + 1))
            }
            Ok(None) => {
                self.divergence =
                    Some(format!("the replay went on past the log's {} events (next: {got:?})", self.checked))
            }
            Err(e) => self.error = Some(e),
        }
    }
}
