//! Build and run the C and C++ hosts against the library this test was built with:
//! `-Wall -Wextra -Wpedantic -Werror`, shared (with rpath) and static linking, and the C
//! programs once more under AddressSanitizer + UBSan.
//!
//! Needs `cc` and `c++` on PATH; set `KALSIM_SKIP_C_TESTS=1` to skip where there are none.

use std::path::{Path, PathBuf};
use std::process::Command;

const WARNINGS: &[&str] = &["-Wall", "-Wextra", "-Wpedantic", "-Werror"];

/// The directory holding `libkalsim.so` / `libkalsim.a` built with this test.
fn lib_dir() -> PathBuf {
    // The test binary lives in `target/<profile>/deps/`, next to the library cargo just
    // built for it (the copies in `target/<profile>/` are only refreshed on a rebuild).
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap().to_path_buf();
    if deps.join("libkalsim.a").exists() && deps.join("libkalsim.so").exists() {
        return deps;
    }
    let profile = deps.parent().unwrap().to_path_buf();
    if profile.join("libkalsim.a").exists() {
        return profile;
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("debug")
}

fn ffi_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn out_dir() -> PathBuf {
    let d = lib_dir().join("../ffi-c-tests");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn skip() -> bool {
    if std::env::var_os("KALSIM_SKIP_C_TESTS").is_some() {
        eprintln!("KALSIM_SKIP_C_TESTS set: skipping");
        return true;
    }
    false
}

#[derive(Clone, Copy)]
enum Link {
    Shared,
    Static,
}

/// Compile `source` with `compiler` into `name`, returning the executable.
fn build(
    compiler: &str,
    std: &str,
    source: &str,
    name: &str,
    link: Link,
    extra: &[&str],
) -> PathBuf {
    let lib = lib_dir();
    let exe = out_dir().join(name);
    let mut cmd = Command::new(compiler);
    cmd.arg(std)
        .args(WARNINGS)
        .args(extra)
        .arg("-I")
        .arg(ffi_dir().join("include"))
        .arg(ffi_dir().join(source))
        .arg("-o")
        .arg(&exe);
    match link {
        Link::Shared => {
            cmd.arg(format!("-L{}", lib.display()))
                .arg("-lkalsim")
                .arg(format!("-Wl,-rpath,{}", lib.display()));
        }
        Link::Static => {
            cmd.arg(lib.join("libkalsim.a"))
                .args(["-lpthread", "-ldl", "-lm"]);
        }
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"));
    assert!(status.success(), "{compiler} failed on {source} ({name})");
    exe
}

fn run(exe: &Path, args: &[&str]) -> String {
    let out = Command::new(exe)
        .args(args)
        .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{} failed: {}\nstdout:\n{stdout}\nstderr:\n{}",
        exe.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

const SANITIZE: &[&str] = &[
    "-fsanitize=address,undefined",
    "-fno-omit-frame-pointer",
    "-g",
];

#[test]
fn c_episode_shared_static_and_sanitized() {
    if skip() {
        return;
    }
    let src = "examples/c/episode.c";
    let shared = run(
        &build("cc", "-std=c11", src, "episode_c_shared", Link::Shared, &[]),
        &[],
    );
    let stat = run(
        &build("cc", "-std=c11", src, "episode_c_static", Link::Static, &[]),
        &[],
    );
    assert!(shared.contains("position_size_distribution"), "{shared}");
    assert_eq!(
        shared, stat,
        "shared and static builds must agree bit for bit"
    );
    let asan = run(
        &build(
            "cc",
            "-std=c11",
            src,
            "episode_c_asan",
            Link::Shared,
            SANITIZE,
        ),
        &[],
    );
    assert_eq!(shared, asan);
}

#[test]
fn cpp_episode_shared_and_static() {
    if skip() {
        return;
    }
    let src = "examples/cpp/episode.cpp";
    let shared = run(
        &build(
            "c++",
            "-std=c++17",
            src,
            "episode_cpp_shared",
            Link::Shared,
            &[],
        ),
        &[],
    );
    let stat = run(
        &build(
            "c++",
            "-std=c++17",
            src,
            "episode_cpp_static",
            Link::Static,
            &[],
        ),
        &[],
    );
    assert!(shared.contains("bad config rejected: status 6"), "{shared}");
    assert_eq!(shared, stat);
}

#[test]
fn c_bad_inputs_return_statuses_under_sanitizers() {
    if skip() {
        return;
    }
    let src = "tests/c/bad_inputs.c";
    let out = run(
        &build(
            "cc",
            "-std=c11",
            src,
            "bad_inputs_shared",
            Link::Shared,
            &[],
        ),
        &[],
    );
    assert!(out.contains("all bad-input checks passed"), "{out}");
    let out = run(
        &build(
            "cc",
            "-std=c11",
            src,
            "bad_inputs_asan",
            Link::Shared,
            SANITIZE,
        ),
        &[],
    );
    assert!(out.contains("all bad-input checks passed"), "{out}");
    let out = run(
        &build(
            "cc",
            "-std=c11",
            src,
            "bad_inputs_static",
            Link::Static,
            &[],
        ),
        &[],
    );
    assert!(out.contains("all bad-input checks passed"), "{out}");
}
