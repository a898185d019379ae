//! Generate the C header into OUT_DIR; `tests/header.rs` compares it with the committed
//! `include/kalsim.h` (and rewrites it when `KALSIM_UPDATE_HEADER=1`).

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let config = cbindgen::Config::from_file(format!("{dir}/cbindgen.toml"))
        .expect("ffi/cbindgen.toml is valid");
    match cbindgen::generate_with_config(&dir, config) {
        Ok(bindings) => {
            bindings.write_to_file(format!("{out}/kalsim.h"));
        }
        Err(e) => panic!("cbindgen failed: {e}"),
    }
}
