//! The `kalsim` command-line tool (see `kalsim --help`): run, evaluate, train, experiment,
//! generate and validate data, serve the sandbox, benchmark, record and trade live. Every
//! rule and job lives in the `kalsim-host-sim` library; this crate parses arguments and
//! writes files, tables and plots.

mod bench;
mod cmd;

fn main() {
    std::process::exit(cmd::main());
}
