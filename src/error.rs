//! The one error type of qafila's own operations, with messages that tell the operator what to do.
//!
//! A failed *fetch* or *parse* of one source is not an error here: it is a value (`fetch::FetchOutcome`,
//! `parse::ParseError`) recorded against that source, because one broken source must never stop the others.
//! `Error` is for what stops a command: a bad config, a database that cannot be opened, a port in use.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A config problem located in the file; `Display` is the `PATH:LINE:COL: message` line `check` prints.
    #[error("{path}:{line}:{col}: {message}")]
    Config {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },

    #[error("cannot read config file {path}: {source} (pass --config PATH or set QAFILA_CONFIG)")]
    ConfigUnreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("database {path}: {source}")]
    Database {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error(
        "database {path} was written by a newer qafila (schema version {found}, this binary knows up to {known}); \
         upgrade qafila or restore a backup"
    )]
    DatabaseTooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },

    #[error("cannot create directory {path} for the database: {source}")]
    DatabaseDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "database {path} is in use (locked by another connection): stop the daemon first \
         (systemctl stop qafila) and retry"
    )]
    DatabaseInUse { path: PathBuf },

    #[error(
        "database {path} is being written by another qafila (process {holder}): only one `run`, `poll` or `prune` \
         may use a database at a time; stop the other one first (systemctl stop qafila), or give this one its own \
         [storage] database. `stories`, `sources`, `explain` and `backup` work beside it"
    )]
    DatabaseLocked { path: PathBuf, holder: String },

    #[error("cannot restore from {backup}: {reason}; the current database was left untouched")]
    Restore { backup: PathBuf, reason: String },

    #[error("cannot write {path}: {source}")]
    WriteOutput {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot listen on {addr}: {source} (is another qafila or server using the port? change [server] listen)")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{0}")]
    Usage(String),

    #[error("internal error: {0}")]
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
