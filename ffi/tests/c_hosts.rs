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

/// A vector in the `kalsim-golden` v1 format, recorded with the Rust environment directly.
fn record_vector(config: &str, seed: u64, actions: &[u32]) -> serde_json::Value {
    use kalsim_host_sim::env::{Env, EnvConfig, load_markets};
    use serde_json::json;
    let cfg = EnvConfig::from_json(config).unwrap();
    let (markets, _) = load_markets(&cfg).unwrap();
    let mut env = Env::new(cfg, markets).unwrap();
    let mut obs = [0f32; kalsim_core::OBS_DIM];
    let mut mask = [0u8; 25];
    let bits = |o: &[f32]| o.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let info = env.reset(Some(seed), &mut obs).unwrap();
    env.action_mask_into(&mut mask);
    let reset = json!({"obs_bits": bits(&obs), "mask": mask.to_vec(), "info": info});
    let mut steps = Vec::new();
    for &a in actions {
        let r = env.step(a, &mut obs).unwrap();
        env.action_mask_into(&mut mask);
        steps.push(json!({
            "action": a, "obs_bits": bits(&obs), "reward": r.reward,
            "terminated": r.terminated, "truncated": r.truncated,
            "mask": mask.to_vec(), "info": r.info,
        }));
        if r.terminated || r.truncated {
            break;
        }
    }
    json!({
        "format": "kalsim-golden", "version": 1, "name": "c_self_check",
        "note": "recorded by ffi/tests/c_hosts.rs with the Rust Env",
        "config": serde_json::from_str::<serde_json::Value>(config).unwrap(),
        "seed": seed, "reset": reset, "steps": steps,
    })
}

#[test]
fn c_replays_golden_vectors_bit_for_bit() {
    if skip() {
        return;
    }
    let exe = build(
        "cc",
        "-std=c11",
        "tests/c/golden.c",
        "golden_asan",
        Link::Shared,
        SANITIZE,
    );
    // The replayer itself, on a vector recorded here (and a corrupted copy that must fail).
    let actions: Vec<u32> = (0..80u32).map(|i| (i * 7 + 3) % 25).collect();
    let mut v = record_vector(
        r#"{"data": {"synthetic_markets": 3, "synthetic_events": 80}, "max_steps": 60}"#,
        1234,
        &actions,
    );
    let dir = out_dir();
    let good = dir.join("self_check.json");
    std::fs::write(&good, v.to_string()).unwrap();
    run(&exe, &[good.to_str().unwrap()]);
    v["steps"][2]["obs_bits"][0] = serde_json::json!(0);
    let bad = dir.join("self_check_corrupt.json");
    std::fs::write(&bad, v.to_string()).unwrap();
    let status = Command::new(&exe).arg(&bad).output().unwrap().status;
    assert!(!status.success(), "a corrupted vector must fail");

    // Every committed vector.
    let vectors = ffi_dir().join("../tests/vectors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&vectors)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    if files.is_empty() {
        eprintln!(
            "no golden vectors in {}: only the self-check ran",
            vectors.display()
        );
        return;
    }
    let args: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();
    let out = run(&exe, &args);
    eprintln!("{out}");
}
