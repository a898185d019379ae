//! Shared helpers for kalsim's cross-crate tests.
