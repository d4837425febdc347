//! (being written)
mod encoding;
mod text;
