//! qafila: polls Arabic news feeds about Central Asia and the Caucasus, stores every item in SQLite, recognises
//! when several outlets report the same story, and republishes one merged Arabic feed.
//!
//! The modules follow the data flow, one per stage:
//! config → schedule → fetch → parse → normalize → dedup → store → publish → serve,
//! with `pipeline` tying one poll of one source together, `round` polling and publishing a set of sources,
//! `schedule` deciding when each source is due, `startup` assembling the parts and `daemon` running the loop.

#![warn(unreachable_pub, missing_docs)]

mod archive;
pub mod bench_api;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod dedup;
pub mod error;
mod fetch;
mod identity;
mod metrics;
pub mod model;
pub mod normalize;
mod notify;
mod opml_import;
pub mod parse;
mod pipeline;
pub mod publish;
mod redact;
pub mod regions;
mod round;
mod schedule;
mod search;
mod serve;
mod site;
mod startup;
mod store;
mod text;
mod websub;
