//! qafila: polls Arabic news feeds about Central Asia and the Caucasus, stores every item in SQLite, recognises
//! when several outlets report the same story, and republishes one merged Arabic feed.
//!
//! The modules follow the data flow, one per stage:
//! config → schedule → fetch → parse → normalize → dedup → store → publish → serve,
//! with `pipeline` tying one poll of one source together and `daemon` running it on the schedule.

pub mod cli;
pub mod config;
pub mod daemon;
pub mod dedup;
pub mod error;
pub mod fetch;
pub mod identity;
pub mod metrics;
pub mod model;
pub mod normalize;
pub mod notify;
pub mod opml_import;
pub mod parse;
pub mod pipeline;
pub mod publish;
pub mod redact;
pub mod regions;
pub mod schedule;
pub mod search;
pub mod serve;
pub mod site;
pub mod store;
mod text;
pub mod websub;
