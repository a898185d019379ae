//! The `kalsim` command-line tool (see `kalsim --help`).
fn main() {
    std::process::exit(kalsim_host_sim::cli::main());
}
