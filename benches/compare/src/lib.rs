//! Nothing here: the comparison is `benches/compare.rs`, run with
//! `cargo bench --manifest-path benches/compare/Cargo.toml` from the
//! repository root.
