//! A node's log: where it writes what it must remember across a crash.
//!
//! Records are byte strings (the runtime encodes them). [`Log::append`] only buffers; a
//! record is durable once [`Log::sync`] returns, which the runtime calls before sending any
//! message that follows a forced record. Unforced records ride along with the next sync, so a
//! crash loses them — which is the point of not forcing them.
//!
//! - [`MemoryLog`]: the durable part lives in a [`MemoryStore`] that outlives the node, so an
//!   in-process "crash" (dropping the node and its log) keeps exactly what was synced.
//! - [`FileLog`]: an append-only file of checksummed frames (`len u32 | crc32 u32 | bytes`),
//!   written with one `write` per sync and, if `fsync` is on, made durable with
//!   `fdatasync`. Reopening reads every whole frame and cuts off a torn tail.

use crate::sync::Recover as _;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The longest record a log accepts (a guard against reading garbage as a length).
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// Why a log operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("log {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A node's log.
pub trait Log: Send + 'static {
    /// Buffers one record.
    fn append(&mut self, record: &[u8]);

    /// Buffers one record the caller no longer needs (a log that keeps records whole takes
    /// it without a copy).
    fn append_owned(&mut self, record: Vec<u8>) {
        self.append(&record);
    }

    /// Makes every buffered record durable.
    fn sync(&mut self) -> Result<(), LogError>;

    /// Whether [`Log::sync`] may block for a while (an fsync), so that the runtime runs it
    /// on a blocking thread instead of stalling the other nodes of its async runtime.
    fn sync_blocks(&self) -> bool {
        false
    }

    /// Number of syncs that reached the storage (fsyncs for a file with fsync on, else every
    /// sync that had something to write).
    fn syncs(&self) -> u64;
}

/// The durable records of an in-memory log; shared by every incarnation of one node.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore(Arc<Mutex<Vec<Vec<u8>>>>);

impl MemoryStore {
    /// Every durable record, oldest first.
    pub fn records(&self) -> Vec<Vec<u8>> {
        self.0.locked().clone()
    }
}

/// A log kept in memory: durable means "in the store", which survives the node.
#[derive(Debug)]
pub struct MemoryLog {
    store: MemoryStore,
    pending: Vec<Vec<u8>>,
    syncs: u64,
}

impl MemoryLog {
    /// A log over `store`, and the records already in it.
    pub fn open(store: &MemoryStore) -> (Self, Vec<Vec<u8>>) {
        (MemoryLog { store: store.clone(), pending: Vec::new(), syncs: 0 }, store.records())
    }
}

impl Log for MemoryLog {
    fn append(&mut self, record: &[u8]) {
        self.pending.push(record.to_vec());
    }

    fn append_owned(&mut self, record: Vec<u8>) {
        self.pending.push(record);
    }

    fn sync(&mut self) -> Result<(), LogError> {
        if !self.pending.is_empty() {
            self.store.0.locked().append(&mut self.pending);
            self.syncs += 1;
        }
        Ok(())
    }

    fn syncs(&self) -> u64 {
        self.syncs
    }
}

/// A log in a file, with or without fsync.
#[derive(Debug)]
pub struct FileLog {
    path: PathBuf,
    file: File,
    fsync: bool,
    buffer: Vec<u8>,
    syncs: u64,
}

impl FileLog {
    /// Opens (or creates) the log at `path`, and returns it with the records already in it;
    /// a torn record at the end (a crash in the middle of a write) is cut off.
    pub fn open(path: &Path, fsync: bool) -> Result<(Self, Vec<Vec<u8>>), LogError> {
        let io = |source| LogError::Io { path: path.to_path_buf(), source };
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).map_err(io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let (records, valid) = read_frames(&bytes);
        if valid < bytes.len() {
            tracing::warn!("log {}: cut off {} bytes of a torn record", path.display(), bytes.len() - valid);
            file.set_len(valid as u64).map_err(io)?;
        }
        file.seek(SeekFrom::Start(valid as u64)).map_err(io)?;
        Ok((FileLog { path: path.to_path_buf(), file, fsync, buffer: Vec::new(), syncs: 0 }, records))
    }

    /// Reads the records of the log at `path` without opening it for writing (for checkers).
    pub fn read(path: &Path) -> Result<Vec<Vec<u8>>, LogError> {
        let bytes = std::fs::read(path).map_err(|source| LogError::Io { path: path.to_path_buf(), source })?;
        Ok(read_frames(&bytes).0)
    }
}

/// The whole frames at the start of `bytes`, and how many bytes they cover.
fn read_frames(bytes: &[u8]) -> (Vec<Vec<u8>>, usize) {
    let mut records = Vec::new();
    let mut at = 0;
    while let Some(header) = bytes.get(at..at + 8) {
        let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
        let Some(body) = bytes.get(at + 8..at + 8 + len).filter(|_| len <= MAX_RECORD_BYTES) else { break };
        if crc32fast::hash(body) != crc {
            break;
        }
        records.push(body.to_vec());
        at += 8 + len;
    }
    (records, at)
}

impl Log for FileLog {
    fn append(&mut self, record: &[u8]) {
        assert!(record.len() <= MAX_RECORD_BYTES, "a log record of {} bytes is over the limit", record.len());
        self.buffer.extend_from_slice(&(record.len() as u32).to_le_bytes());
        self.buffer.extend_from_slice(&crc32fast::hash(record).to_le_bytes());
        self.buffer.extend_from_slice(record);
    }

    fn sync(&mut self) -> Result<(), LogError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let io = |source| LogError::Io { path: self.path.clone(), source };
        self.file.write_all(&self.buffer).map_err(io)?;
        self.buffer.clear();
        if self.fsync {
            self.file.sync_data().map_err(io)?;
        }
        self.syncs += 1;
        Ok(())
    }

    fn sync_blocks(&self) -> bool {
        self.fsync
    }

    fn syncs(&self) -> u64 {
        self.syncs
    }
}

/// Where a node keeps its log, and how: the one choice a family makes about storage.
#[derive(Clone, Debug)]
pub enum Storage {
    /// In memory, surviving in-process crashes.
    Memory(MemoryStore),
    /// In a file, with or without fsync.
    File { path: PathBuf, fsync: bool },
}

impl Storage {
    /// Opens the log, returning it with the records already in it.
    pub fn open(&self) -> Result<(AnyLog, Vec<Vec<u8>>), LogError> {
        match self {
            Storage::Memory(store) => {
                let (log, records) = MemoryLog::open(store);
                Ok((AnyLog::Memory(log), records))
            }
            Storage::File { path, fsync } => {
                let (log, records) = FileLog::open(path, *fsync)?;
                Ok((AnyLog::File(log), records))
            }
        }
    }

    /// The durable records, read without opening the log for writing.
    pub fn records(&self) -> Result<Vec<Vec<u8>>, LogError> {
        match self {
            Storage::Memory(store) => Ok(store.records()),
            Storage::File { path, .. } if !path.exists() => Ok(Vec::new()),
            Storage::File { path, .. } => FileLog::read(path),
        }
    }
}

/// Either log, chosen at run time by [`Storage`] (one `match` per call, off the hot path of
/// the driver: a log call is per protocol step).
#[derive(Debug)]
pub enum AnyLog {
    Memory(MemoryLog),
    File(FileLog),
}

impl Log for AnyLog {
    fn append(&mut self, record: &[u8]) {
        match self {
            AnyLog::Memory(log) => log.append(record),
            AnyLog::File(log) => log.append(record),
        }
    }

    fn append_owned(&mut self, record: Vec<u8>) {
        match self {
            AnyLog::Memory(log) => log.append_owned(record),
            AnyLog::File(log) => log.append(&record),
        }
    }

    fn sync(&mut self) -> Result<(), LogError> {
        match self {
            AnyLog::Memory(log) => log.sync(),
            AnyLog::File(log) => log.sync(),
        }
    }

    fn sync_blocks(&self) -> bool {
        match self {
            AnyLog::Memory(log) => log.sync_blocks(),
            AnyLog::File(log) => log.sync_blocks(),
        }
    }

    fn syncs(&self) -> u64 {
        match self {
            AnyLog::Memory(log) => log.syncs(),
            AnyLog::File(log) => log.syncs(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_log_keeps_only_synced_records_across_a_crash() {
        let store = MemoryStore::default();
        let (mut log, records) = MemoryLog::open(&store);
        assert!(records.is_empty());
        log.append(b"forced");
        log.sync().unwrap();
        log.append(b"lazy");
        drop(log);
        assert_eq!(MemoryLog::open(&store).1, vec![b"forced".to_vec()]);
    }

    #[test]
    fn file_log_reopens_and_cuts_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.log");
        let (mut log, _) = FileLog::open(&path, true).unwrap();
        log.append(b"one");
        log.append(b"two");
        log.sync().unwrap();
        log.append(b"unsynced");
        drop(log);
        let mut bytes = std::fs::read(&path).unwrap();
        let whole = bytes.len();
        bytes.extend_from_slice(&[9, 0, 0, 0, 1, 2]);
        std::fs::write(&path, &bytes).unwrap();
        let (mut log, records) = FileLog::open(&path, false).unwrap();
        assert_eq!(records, vec![b"one".to_vec(), b"two".to_vec()]);
        assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, whole);
        log.append(b"three");
        log.sync().unwrap();
        assert_eq!(FileLog::read(&path).unwrap().len(), 3);
    }
}
