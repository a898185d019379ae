//! The `kalsim` command-line tool.
fn main() {}
