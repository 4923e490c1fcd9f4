//! `--events FILE`: a compact log of every event of a run, for later playback.
//!
//! Format (version 1): one line of JSON (the header: format, version, scenario, its hash,
//! seed, actor layout), a newline, then one 16-byte little-endian record per event in
//! delivery order: time in nanoseconds (u64), receiving actor (u32), message code (u8,
//! see `StoreMsg::code`), and the message's main argument in the remaining 3 bytes
//! (24 bits). The file is written to a temporary name and renamed when complete.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use storetwin_actors::StoreMsg;
use storetwin_engine::{ActorId, EventKey, Observer};

pub struct EventLog {
    path: PathBuf,
    tmp: PathBuf,
    out: BufWriter<File>,
    error: Option<std::io::Error>,
    pub records: u64,
}

impl EventLog {
    pub fn create(path: &Path, header: &serde_json::Value) -> anyhow::Result<EventLog> {
        let name = path.file_name().with_context(|| format!("{} is not a file path", path.display()))?;
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let tmp = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
        let file = File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        serde_json::to_writer(&mut out, header)?;
        out.write_all(b"\n")?;
        Ok(EventLog { path: path.to_path_buf(), tmp, out, error: None, records: 0 })
    }

    /// Flushes, syncs and renames the log into place.
    pub fn finish(self) -> anyhow::Result<u64> {
        let EventLog { path, tmp, out, error, records } = self;
        let result = (|| -> std::io::Result<()> {
            if let Some(e) = error {
                return Err(e);
            }
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            fs::rename(&tmp, &path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.with_context(|| format!("cannot write the event log {}", path.display()))?;
        Ok(records)
    }
}

impl Observer<StoreMsg> for EventLog {
    fn on_event(&mut self, key: EventKey, to: ActorId, msg: &StoreMsg) {
        if self.error.is_some() {
            return;
        }
        let (code, arg) = msg.code();
        let mut record = [0u8; 16];
        record[0..8].copy_from_slice(&key.time().as_nanos().to_le_bytes());
        record[8..12].copy_from_slice(&to.0.to_le_bytes());
        record[12] = code;
        record[13..16].copy_from_slice(&arg.to_le_bytes()[0..3]);
        if let Err(e) = self.out.write_all(&record) {
            self.error = Some(e);
        }
        self.records += 1;
    }
}
