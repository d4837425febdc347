//! The one error type of qafila's own operations, with messages that tell the operator what to do.
//!
//! A failed *fetch* or *parse* of one source is not an error here: it is a value (`fetch::FetchOutcome`,
//! `parse::ParseError`) recorded against that source, because one broken source must never stop the others.
//! `Error` is for what stops a command: a bad config, a database that cannot be opened, a port in use.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
/// Why a command stopped; `Display` is the message for the operator.
pub enum Error {
    /// A config problem located in the file; `Display` is the `PATH:LINE:COL: message` line `check` prints.
    #[error("{path}:{line}:{col}: {message}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// What is wrong, naming the key.
        message: String,
    },

    #[error("cannot read config file {path}: {source} (pass --config PATH or set QAFILA_CONFIG)")]
    /// The config file could not be read.
    ConfigUnreadable {
        /// The config file.
        path: PathBuf,
        #[source]
        /// Why it could not be read.
        source: std::io::Error,
    },

    #[error("database {path}: {source}")]
    /// SQLite failed on the database.
    Database {
        /// The database file.
        path: PathBuf,
        #[source]
        /// SQLite's error.
        source: rusqlite::Error,
    },

    #[error(
        "database {path} was written by a newer qafila (schema version {found}, this binary knows up to {known}); \
         upgrade qafila or restore a backup"
    )]
    /// The database has a schema newer than this binary.
    DatabaseTooNew {
        /// The database file.
        path: PathBuf,
        /// The schema version in the file.
        found: i64,
        /// The newest schema version this binary knows.
        known: i64,
    },

    #[error("cannot create directory {path} for the database: {source}")]
    /// The database's directory could not be created.
    DatabaseDir {
        /// The directory.
        path: PathBuf,
        #[source]
        /// Why it could not be created.
        source: std::io::Error,
    },

    #[error(
        "database {path} is in use (locked by another connection): stop the daemon first \
         (systemctl stop qafila) and retry"
    )]
    /// The database is locked by another connection.
    DatabaseInUse {
        /// The database file.
        path: PathBuf,
    },

    #[error(
        "database {path} is being written by another qafila (process {holder}): only one `run`, `poll` or `prune` \
         may use a database at a time; stop the other one first (systemctl stop qafila), or give this one its own \
         [storage] database. `stories`, `sources`, `explain` and `backup` work beside it"
    )]
    /// Another qafila process holds the database's writer lock.
    DatabaseLocked {
        /// The database file.
        path: PathBuf,
        /// The process holding the lock, as the lock file names it.
        holder: String,
    },

    #[error("cannot restore from {backup}: {reason}; the current database was left untouched")]
    /// A backup could not be restored.
    Restore {
        /// The backup file given.
        backup: PathBuf,
        /// Why it was refused.
        reason: String,
    },

    #[error("cannot write {path}: {source}")]
    /// The feed file could not be written.
    WriteOutput {
        /// The file.
        path: PathBuf,
        #[source]
        /// Why it could not be written.
        source: std::io::Error,
    },

    #[error("cannot listen on {addr}: {source} (is another qafila or server using the port? change [server] listen)")]
    /// The HTTP server could not bind its address.
    Listen {
        /// The address from `[server] listen`.
        addr: String,
        #[source]
        /// Why it could not be bound.
        source: std::io::Error,
    },

    #[error("{0}")]
    /// A command-line or input problem, said in full.
    Usage(String),

    #[error("internal error: {0}")]
    /// A fault of qafila itself (a task that panicked, a poisoned lock).
    Internal(String),
}

impl Error {
    /// A database error with the path of the database it happened in: the one way the store wraps SQLite errors.
    pub(crate) fn from_db(path: &std::path::Path, source: rusqlite::Error) -> Error {
        Error::Database {
            path: path.to_owned(),
            source,
        }
    }

    /// The process exit code for this error: 2 for configuration and usage problems, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config { .. } | Error::ConfigUnreadable { .. } | Error::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// The result of qafila's own operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A short reason without file paths or other detail of the host, for answers to HTTP clients (`/healthz`).
    pub fn public_reason(&self) -> String {
        match self {
            Error::Database {
                source: rusqlite::Error::SqliteFailure(code, _),
                ..
            } => format!("database error: {code}"),
            Error::Database { .. } | Error::DatabaseDir { .. } | Error::DatabaseTooNew { .. } => {
                "database error".into()
            }
            Error::DatabaseInUse { .. } | Error::DatabaseLocked { .. } => {
                "database locked by another process".into()
            }
            Error::WriteOutput { source, .. } => format!("cannot write a file: {}", source.kind()),
            _ => "internal error".into(),
        }
    }
}

/// The message a caught panic carried (`panic!` with a literal or a formatted string), or "(no message)".
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}
