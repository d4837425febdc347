//! One writing process per database: `run`, `poll` and `prune` hold an exclusive lock on a file beside the
//! database (`qafila.db.lock`) for as long as they run, and a second one is refused at once with a clear error.
//!
//! SQLite alone serialises transactions but not *processes*: two daemons on one file each keep their own story
//! index in memory, so their writes interleave and one event is split into two stories. The read-only commands
//! (`stories`, `sources`, `explain`, `backup`) take no lock and keep working beside the daemon; `restore` takes it
//! too, so it is refused while a writer runs and no writer starts while it swaps the file.
//!
//! The lock is `flock(2)` through `std::fs::File::try_lock`: the kernel drops it when the process ends, however
//! it ends, so a crash never leaves a stale lock behind. The file itself is left in place (removing it would race
//! with a process about to lock it) and holds the pid of the last holder, for the error message.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Held while alive; the lock is released when it is dropped (or the process ends).
#[derive(Debug)]
pub(crate) struct WriterLock {
    _file: File,
}

/// The lock file of the database at `db_path`.
pub(crate) fn lock_path(db_path: &Path) -> PathBuf {
    let mut name = db_path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl WriterLock {
    /// Takes the database's writer lock, or fails with [`Error::DatabaseLocked`] naming the holder's pid.
    pub(crate) fn acquire(db_path: &Path) -> Result<WriterLock> {
        let path = lock_path(db_path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| Error::DatabaseDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        let io_err = |source| Error::WriteOutput {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(Error::DatabaseLocked {
                    path: db_path.to_owned(),
                    holder: holder.trim().to_string(),
                });
            }
            Err(TryLockError::Error(source)) => return Err(io_err(source)),
        }
        // The pid is only informative: failing to record it does not matter.
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| write!(file, "{}", std::process::id()));
        Ok(WriterLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_until_the_first_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state/qafila.db");
        let first = WriterLock::acquire(&db).unwrap();
        let err = WriterLock::acquire(&db).unwrap_err();
        assert!(matches!(err, Error::DatabaseLocked { .. }), "{err}");
        let message = err.to_string();
        assert!(
            message.contains(&std::process::id().to_string()),
            "{message}"
        );
        drop(first);
        WriterLock::acquire(&db).unwrap();
    }
}
