//! The `kalsim` binary end to end: data generation and validation, the observation schema,
//! runs with reports and plots, comparisons, configuration errors and the file server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const KALSIM: &str = env!("CARGO_BIN_EXE_kalsim");

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kalsim-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn kalsim(args: &[&str]) -> Output {
    Command::new(KALSIM).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn small_config(dir: &Path) -> String {
    let path = dir.join("small.json");
    std::fs::write(
        &path,
        r#"{"data": {"synthetic_markets": 2, "synthetic_events": 300}}"#,
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn gen_is_deterministic_and_validates() {
    let dir = tmp("gen");
    let a = dir.join("a.jsonl");
    let b = dir.join("b.jsonl");
    for p in [&a, &b] {
        let o = kalsim(&[
            "gen",
            "--markets",
            "3",
            "--events",
            "200",
            "--seed",
            "42",
            "-o",
            p.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let bytes = std::fs::read(&a).unwrap();
    assert!(!bytes.is_empty());
    assert_eq!(bytes, std::fs::read(&b).unwrap());
    let other = dir.join("c.jsonl");
    kalsim(&[
        "gen",
        "--markets",
        "3",
        "--events",
        "200",
        "--seed",
        "43",
        "-o",
        other.to_str().unwrap(),
    ]);
    assert_ne!(bytes, std::fs::read(&other).unwrap());

    let o = kalsim(&["validate-data", a.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("KXSIM-25JAN01-M0000"), "{out}");
    assert!(out.contains("3 market(s)"), "{out}");
}

#[test]
fn validate_names_the_bad_line_and_field() {
    let dir = tmp("bad");
    let good = dir.join("good.jsonl");
    kalsim(&[
        "gen",
        "--markets",
        "1",
        "--events",
        "50",
        "--seed",
        "1",
        "-o",
        good.to_str().unwrap(),
    ]);
    let mut lines: Vec<String> = std::fs::read_to_string(&good)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    // Line 10 (a delta) gets a price outside 1..=99, keeping its sequence number.
    let mut msg: serde_json::Value = serde_json::from_str(&lines[9]).unwrap();
    assert_eq!(msg["type"], "orderbook_delta", "{}", lines[9]);
    msg["msg"] = serde_json::json!({
        "market_ticker": msg["msg"]["market_ticker"],
        "price": 150,
        "delta": 5,
        "side": "yes"
    });
    lines[9] = msg.to_string();
    let bad = dir.join("broken.jsonl");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let o = kalsim(&["validate-data", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("broken.jsonl:10"), "{err}");
    assert!(err.contains("price"), "{err}");
    // Lenient: skipped, counted and reported, exit 0.
    let o = kalsim(&["validate-data", "--lenient", bad.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("broken.jsonl:10"), "{}", stdout(&o));
    // A missing file names the file.
    let o = kalsim(&["validate-data", "/nonexistent/x.jsonl"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/x.jsonl"));
}

#[test]
fn obs_schema_json_lists_every_feature() {
    let o = kalsim(&["obs-schema", "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let features = v["features"].as_array().unwrap();
    assert_eq!(features.len(), kalsim_core::OBS_DIM);
    assert_eq!(v["version"], kalsim_core::OBS_SCHEMA_VERSION);
    assert_eq!(features[0]["index"], 0);
    assert!(features.iter().any(|f| f["name"] == "imbalance"));
    let table = stdout(&kalsim(&["obs-schema"]));
    assert!(table.contains("max_capacity"), "{table}");
}

#[test]
fn run_writes_report_and_plots() {
    let dir = tmp("run");
    let cfg = small_config(&dir);
    let out = dir.join("out");
    let o = kalsim(&[
        "run",
        "--policy",
        "kelly",
        "--episodes",
        "2",
        "--seed",
        "3",
        "--config",
        &cfg,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    for row in [
        "total return",
        "Sharpe",
        "max drawdown",
        "win rate",
        "fees",
        "HOLD fraction",
        "size distribution",
        "size efficiency",
    ] {
        assert!(table.contains(row), "missing {row}: {table}");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["schema"], "kalsim-run-report/1");
    assert_eq!(report["policy"], "kelly");
    assert_eq!(report["seed"], 3);
    assert_eq!(report["per_episode"].as_array().unwrap().len(), 2);
    let agg = &report["aggregate"];
    for key in [
        "total_return",
        "sharpe",
        "max_drawdown",
        "win_rate",
        "fees_cents",
        "hold_fraction",
        "position_size_distribution",
        "avg_winning_position_size",
        "avg_losing_position_size",
        "size_efficiency",
        "max_position_reached",
        "size_changes_per_episode",
        "invalid_actions",
        "avg_position_size",
    ] {
        assert!(!agg[key].is_null(), "aggregate.{key} missing");
    }
    let steps = agg["steps"].as_u64().unwrap();
    assert!(steps > 0);
    let hist: u64 = report["action_histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(hist, steps);
    assert_eq!(report["action_histogram"].as_array().unwrap().len(), 25);
    assert_eq!(report["config"]["data"]["synthetic_markets"], 2);
    for stem in [
        "size_histogram",
        "size_vs_profit",
        "equity_curve",
        "action_histogram",
    ] {
        let png = std::fs::read(out.join(format!("{stem}.png"))).unwrap();
        assert!(
            png.len() > 1000 && png.starts_with(b"\x89PNG"),
            "{stem}.png"
        );
        let svg = std::fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.contains("<svg"), "{stem}.svg");
    }
    // Same seed, same report.
    let out2 = dir.join("out2");
    let o = kalsim(&[
        "run",
        "--policy",
        "kelly",
        "--episodes",
        "2",
        "--seed",
        "3",
        "--config",
        &cfg,
        "--out",
        out2.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert_eq!(
        std::fs::read(out.join("report.json")).unwrap(),
        std::fs::read(out2.join("report.json")).unwrap()
    );
}

#[test]
fn run_on_a_capture_file() {
    let dir = tmp("capture");
    let data = dir.join("d.jsonl");
    kalsim(&[
        "gen",
        "--markets",
        "2",
        "--events",
        "150",
        "--seed",
        "5",
        "-o",
        data.to_str().unwrap(),
    ]);
    let out = dir.join("out");
    let o = kalsim(&[
        "run",
        "--data",
        data.to_str().unwrap(),
        "--policy",
        "random",
        "--episodes",
        "3",
        "--sizing",
        "fixed",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["config"]["sizing"], "fixed");
    assert_eq!(
        report["tier_sizes"],
        serde_json::json!([10, 10, 10, 10, 10])
    );
}

#[test]
fn compare_prints_both_policies() {
    let dir = tmp("compare");
    let cfg = small_config(&dir);
    let out = dir.join("cmp");
    let o = kalsim(&[
        "compare",
        "--policies",
        "fixed,kelly",
        "--episodes",
        "2",
        "--config",
        &cfg,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    let header = table.lines().next().unwrap();
    assert!(
        header.contains("fixed") && header.contains("kelly"),
        "{table}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).unwrap()).unwrap();
    let policies = doc["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 2);
    assert_eq!(policies[0]["policy"], "fixed");
    assert_eq!(policies[1]["policy"], "kelly");
    // Same data and seeds: both ran the same number of steps.
    assert_eq!(
        policies[0]["aggregate"]["steps"],
        policies[1]["aggregate"]["steps"]
    );
}

#[test]
fn bad_input_exits_2_naming_the_problem() {
    let dir = tmp("errors");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"pricing": "yolo"}"#).unwrap();
    let o = kalsim(&[
        "run",
        "--config",
        bad.to_str().unwrap(),
        "--out",
        dir.join("o").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.starts_with("error: ") && err.contains("pricing") && err.contains("bad.json"),
        "{err}"
    );

    let toml = dir.join("bad.toml");
    std::fs::write(&toml, "[limits]\nmax_portfolio_fraction_bps = 20000\n").unwrap();
    let o = kalsim(&["run", "--config", toml.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("limits.max_portfolio_fraction_bps"),
        "{}",
        stderr(&o)
    );

    let unknown = dir.join("unknown.json");
    std::fs::write(&unknown, r#"{"data": {"synthetic_marketz": 2}}"#).unwrap();
    let o = kalsim(&["run", "--config", unknown.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("synthetic_marketz"), "{}", stderr(&o));

    let o = kalsim(&["run", "--policy", "yolo"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("yolo"));

    let o = kalsim(&["run", "--config", "/nonexistent/cfg.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/cfg.toml"));

    let o = kalsim(&["run", "--episodes", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let o = kalsim(&["run", "--sizing", "huge"]);
    assert_eq!(o.status.code(), Some(2));
    let o = kalsim(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    for o in [
        kalsim(&["run", "--policy", "yolo"]),
        kalsim(&["run", "--episodes", "x"]),
    ] {
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
}

#[test]
fn serve_answers_with_mime_types_and_refuses_traversal() {
    let dir = tmp("serve");
    let www = dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "<html>hi</html>").unwrap();
    std::fs::write(www.join("app.js"), "export {};").unwrap();
    std::fs::write(www.join("m.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.join("secret.txt"), "secret").unwrap();
    let mut child = Command::new(KALSIM)
        .args(["serve", "--port", "0", "--dir", www.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line
        .trim()
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|_| panic!("no port in {line:?}"));
    let get = |path: &str| {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        // HTTP/1.1 keeps connections alive; ask for the close this reader waits for.
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        resp
    };
    let r = get("/");
    assert!(
        r.starts_with("HTTP/1.1 200") && r.contains("text/html") && r.ends_with("<html>hi</html>"),
        "{r}"
    );
    assert!(get("/app.js").contains("Content-Type: text/javascript"));
    assert!(get("/m.wasm").contains("Content-Type: application/wasm"));
    for bad in ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt"] {
        let r = get(bad);
        assert!(
            r.starts_with("HTTP/1.1 404") && !r.contains("secret\n"),
            "{bad}: {r}"
        );
    }
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn run_accepts_a_trained_policy_file() {
    use kalsim_host_sim::env::EnvConfig;
    use kalsim_host_sim::train::{PpoConfig, Trainer};
    let dir = tmp("trained");
    let cfg = small_config(&dir);
    let trainer = Trainer::new(
        PpoConfig {
            hidden: vec![16],
            seed: 1,
            ..PpoConfig::default()
        },
        EnvConfig::default().policy_meta(),
    )
    .unwrap();
    let policy = dir.join("agent.json");
    std::fs::write(&policy, trainer.policy().to_json()).unwrap();
    let out = dir.join("out");
    let o = kalsim(&[
        "run",
        "--policy",
        policy.to_str().unwrap(),
        "--episodes",
        "2",
        "--config",
        &cfg,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["policy"], "agent");
    assert_eq!(report["aggregate"]["invalid_actions"], 0);
    // Trained on variable sizing: refused on fixed sizing, naming the field.
    let o = kalsim(&[
        "run",
        "--policy",
        policy.to_str().unwrap(),
        "--sizing",
        "fixed",
        "--config",
        &cfg,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("agent.json") && stderr(&o).contains("sizing"),
        "{}",
        stderr(&o)
    );
    // A broken checkpoint names the file.
    std::fs::write(dir.join("broken.json"), "{").unwrap();
    let o = kalsim(&["run", "--policy", dir.join("broken.json").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("broken.json"), "{}", stderr(&o));
}

#[test]
fn train_eval_and_experiment() {
    let dir = tmp("train");
    let cfg = small_config(&dir);
    let policy = dir.join("p/policy.json");
    let o = kalsim(&[
        "train",
        "--config",
        &cfg,
        "--steps",
        "2000",
        "--envs",
        "2",
        "--seed",
        "4",
        "-o",
        policy.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ckpt: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&policy).unwrap()).unwrap();
    assert_eq!(ckpt["format"], "kalsim-policy");
    // Plan §8 "track sizing patterns over time": tier shares and mean size per iteration.
    for ext in ["png", "svg"] {
        let plot = dir.join(format!("p/sizing_over_training.{ext}"));
        assert!(
            std::fs::metadata(&plot).unwrap().len() > 1_000,
            "{}",
            plot.display()
        );
    }
    let csv = std::fs::read_to_string(dir.join("p/train.csv")).unwrap();
    assert!(
        csv.starts_with("iteration,") && csv.lines().count() >= 2,
        "{csv}"
    );
    // Same seed, same checkpoint bytes.
    let again = dir.join("p2/policy.json");
    kalsim(&[
        "train",
        "--config",
        &cfg,
        "--steps",
        "2000",
        "--envs",
        "2",
        "--seed",
        "4",
        "-o",
        again.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read(&policy).unwrap(),
        std::fs::read(&again).unwrap()
    );
    // `eval` is `run` for a checkpoint.
    let o = kalsim(&[
        "eval",
        "--policy",
        policy.to_str().unwrap(),
        "--config",
        &cfg,
        "--episodes",
        "1",
        "--out",
        dir.join("e").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.join("e/report.json").is_file());
    // A bad PPO config names the key.
    let ppo = dir.join("ppo.json");
    std::fs::write(&ppo, r#"{"learning_rat": 0.1}"#).unwrap();
    let o = kalsim(&[
        "train",
        "--config",
        &cfg,
        "--ppo",
        ppo.to_str().unwrap(),
        "--steps",
        "100",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("learning_rat"), "{}", stderr(&o));

    let out = dir.join("x");
    let o = kalsim(&[
        "experiment",
        "--config",
        &cfg,
        "--steps",
        "1000",
        "--envs",
        "2",
        "--seeds",
        "2",
        "--episodes",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    for name in [
        "ppo-variable",
        "ppo-fixed",
        "forecast-kelly",
        "forecast-fixed",
        "oracle",
        "hold",
    ] {
        assert!(table.contains(name), "{name}: {table}");
    }
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("experiment.json")).unwrap())
            .unwrap();
    assert_eq!(doc["schema"], "kalsim-experiment/3");
    // 2 modes × 2 seeds, then the 4 reference policies.
    assert_eq!(doc["runs"].as_array().unwrap().len(), 8);
    let policies = doc["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 6);
    assert_eq!(policies[0]["name"], "ppo-variable");
    for key in ["mean", "std", "ci95_low", "ci95_high"] {
        assert!(policies[0]["sharpe"][key].is_number(), "{key}");
        assert!(policies[0]["total_return_pct"][key].is_number(), "{key}");
    }
    assert!(policies[0]["sharpe_diff_vs_ppo_fixed"]["ci95_low"].is_number());
    assert_eq!(
        policies[0]["r_size_signed_edge"]["per_seed"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(doc["edge_probe"]["no_edge_fraction"].is_number());
    assert!(out.join("fixed-seed1.json").is_file());
    // Held out by default: synthetic markets from another generator seed.
    assert!(
        doc["evaluation"].as_str().unwrap().contains("seed 1007"),
        "{}",
        doc["evaluation"]
    );
    assert_eq!(doc["eval_config"]["data"]["synthetic_seed"], 1007);
    assert!(doc["runs"][0]["sizing_by_signal"]["buys_per_tier"].is_array());

    // --edge-bps reaches the generator; --in-sample evaluates on the training markets;
    // capture files are split (every fourth market held out).
    let out = dir.join("y");
    let o = kalsim(&[
        "experiment",
        "--config",
        &cfg,
        "--steps",
        "500",
        "--envs",
        "2",
        "--seeds",
        "1",
        "--episodes",
        "1",
        "--edge-bps",
        "1500",
        "--in-sample",
        "--stochastic",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("experiment.json")).unwrap())
            .unwrap();
    assert_eq!(doc["config"]["data"]["synthetic_edge_bps"], 1500);
    assert!(doc["evaluation"].as_str().unwrap().contains("in-sample"));
    assert_eq!(doc["eval_policy"], "stochastic");
    let data = dir.join("four.jsonl");
    let o = kalsim(&[
        "gen",
        "--markets",
        "4",
        "--events",
        "200",
        "--edge-bps",
        "1000",
        "-o",
        data.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.join("z");
    let o = kalsim(&[
        "experiment",
        "--data",
        data.to_str().unwrap(),
        "--steps",
        "500",
        "--envs",
        "2",
        "--seeds",
        "1",
        "--episodes",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("experiment.json")).unwrap())
            .unwrap();
    assert!(
        doc["evaluation"]
            .as_str()
            .unwrap()
            .contains("3 training, 1 evaluation"),
        "{}",
        doc["evaluation"]
    );
}

/// CI's small-budget smoke of the documented informed-markets experiment (issue 11): the same
/// pipeline (`--preset informed`, decision interval, held-out seed range, parallel seeds,
/// the six policies, criteria and the edge probe), not the criteria themselves.
#[test]
fn informed_experiment_smoke() {
    let dir = tmp("informed");
    let cfg = dir.join("informed.toml");
    std::fs::write(
        &cfg,
        "mark = \"mid\"\ndecision_interval = { ms = 3000 }\n[data]\nsynthetic_markets = 24\nsynthetic_events = 240\n",
    )
    .unwrap();
    let out = dir.join("exp");
    let o = kalsim(&[
        "experiment",
        "--preset",
        "informed",
        "--config",
        cfg.to_str().unwrap(),
        "--ppo",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/ppo-informed.json"),
        "--steps",
        "2048",
        "--envs",
        "4",
        "--seeds",
        "2",
        "--episodes",
        "6",
        "--jobs",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("experiment.json")).unwrap())
            .unwrap();
    assert_eq!(doc["config"]["data"]["preset"], "informed");
    assert_eq!(doc["eval_config"]["data"]["synthetic_seed"], 1007);
    let names: Vec<&str> = doc["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "ppo-variable",
            "ppo-fixed",
            "forecast-kelly",
            "forecast-fixed",
            "oracle",
            "hold"
        ]
    );
    // The oracle reads the latent probability, so it trades on informed markets.
    let oracle = &doc["policies"][4];
    assert!(oracle["hold_fraction"].as_f64().unwrap() < 1.0);
    assert!(doc["criteria"].is_object());
    assert!(doc["edge_probe"]["decisions"].as_u64().unwrap() > 0);
    // Checkpoints record the settings the policy depends on.
    let ck: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("variable-seed0.json")).unwrap())
            .unwrap();
    assert_eq!(ck["meta"]["preset"], "informed");
    assert_eq!(ck["meta"]["decision_interval"], "ms=3000");
    assert_eq!(ck["meta"]["pricing"], "sweep:2:cancel");
    assert_eq!(ck["meta"]["obs_schema_version"], 2);
    // Same seeds, same checkpoint bytes, whatever the job count.
    let out1 = dir.join("exp1");
    let o = kalsim(&[
        "experiment",
        "--preset",
        "informed",
        "--config",
        cfg.to_str().unwrap(),
        "--ppo",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/ppo-informed.json"),
        "--steps",
        "2048",
        "--envs",
        "4",
        "--seeds",
        "2",
        "--episodes",
        "6",
        "--jobs",
        "1",
        "--out",
        out1.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["variable-seed1.json", "fixed-seed0.json"] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(out1.join(f)).unwrap(),
            "{f}"
        );
    }
    // A checkpoint trained on informed markets is refused on default ones, by name.
    let o = kalsim(&[
        "eval",
        "--policy",
        out.join("variable-seed0.json").to_str().unwrap(),
        "--episodes",
        "1",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("mismatch"), "{}", stderr(&o));
}

/// `kalsim gen --preset informed` writes forecasts; `validate-data` reports them, also from
/// a side file, and names file, line and field of a bad one.
#[test]
fn informed_data_and_forecast_files_validate() {
    let dir = tmp("forecasts");
    let data = dir.join("inf.jsonl");
    let o = kalsim(&[
        "gen",
        "--preset",
        "informed",
        "--markets",
        "2",
        "--events",
        "120",
        "-o",
        data.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = kalsim(&["validate-data", data.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    assert!(
        table.contains("forecasts") && table.contains("KXINF-25JUN01-M00000"),
        "{table}"
    );
    let side = dir.join("side.jsonl");
    std::fs::write(
        &side,
        "{\"type\":\"forecast\",\"msg\":{\"market_ticker\":\"KXINF-25JUN01-M00001\",\"p_yes\":\"0.5\",\"stderr\":\"0.02\",\"ts_ms\":1748736000100}}\n\
         {\"type\":\"forecast\",\"msg\":{\"market_ticker\":\"KXINF-25JUN01-M00001\",\"p_yes\":\"1.5\",\"stderr\":\"0.02\",\"ts_ms\":1748736000100}}\n",
    )
    .unwrap();
    let o = kalsim(&[
        "validate-data",
        data.to_str().unwrap(),
        "--forecasts",
        side.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("side.jsonl") && err.contains("msg.p_yes") && err.contains(":2"),
        "{err}"
    );
}

#[test]
fn bench_json_writes_every_figure() {
    let dir = tmp("bench-json");
    let path = dir.join("bench.json");
    let o = kalsim(&[
        "bench",
        "--quick",
        "--repeats",
        "1",
        "--json",
        path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for key in ["env_steps_per_s", "core_step_ns", "obs_ns", "mask_ns"] {
        assert!(v[key].as_f64().unwrap() > 0.0, "{key}: {}", v[key]);
    }
    let vec = v["vec_env"].as_array().unwrap();
    let cells: Vec<(u64, u64)> = vec
        .iter()
        .map(|r| (r["n"].as_u64().unwrap(), r["threads"].as_u64().unwrap()))
        .collect();
    assert_eq!(cells, [(64, 1), (64, 2), (1024, 1), (1024, 2)]);
    assert!(vec.iter().all(|r| r["steps_per_s"].as_f64().unwrap() > 0.0));
    let train = v["train"].as_array().unwrap();
    assert_eq!(train.len(), 2);
    assert!(
        train
            .iter()
            .all(|r| r["timesteps_per_s"].as_f64().unwrap() > 0.0)
    );
    assert!(stdout(&o).contains("core step alone"));
}
