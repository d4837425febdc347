//! Unit tests of story clustering.
