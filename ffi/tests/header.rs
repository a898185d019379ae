//! The committed header must be what cbindgen generates from the sources.
//! `KALSIM_UPDATE_HEADER=1 cargo test -p kalsim-ffi --test header` rewrites it.

#[test]
fn committed_header_matches_cbindgen() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/kalsim.h"));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/kalsim.h");
    if std::env::var_os("KALSIM_UPDATE_HEADER").is_some() {
        std::fs::write(path, generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "ffi/include/kalsim.h is out of date; regenerate with \
         KALSIM_UPDATE_HEADER=1 cargo test -p kalsim-ffi --test header"
    );
}
