"""The native trainer, evaluation and the sizing experiment from Python (`kalsim.train`)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import kalsim
import kalsim.train as kt
from conftest import REPO

CFG = {"data": {"synthetic_markets": 3, "synthetic_events": 80}}
TRAIN = {"steps": 1024, "envs": 4, "ppo": {"n_steps": 128, "n_epochs": 2, "minibatch_size": 128}}
EXP = {"seeds": 1, "episodes": 2, "train": TRAIN}


def _kalsim_cli():
    """The `kalsim` binary of this workspace (built when cargo is at hand), else None."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    exe = target / "debug" / "kalsim"
    if not exe.exists() and shutil.which("cargo") and (REPO / "Cargo.toml").exists():
        subprocess.run(["cargo", "build", "-q", "-p", "kalsim-cli"], cwd=REPO, check=True)
    return exe if exe.exists() else None


def test_ppo_options_keys_exist():
    # TRAIN's ppo keys are real PpoConfig keys: a misspelt key is an error naming it.
    with pytest.raises(kalsim.ConfigError, match="rollout_lenn"):
        kt.train(CFG, "/nonexistent/p.json", options={"ppo": {"rollout_lenn": 1}})


def test_top_level_names_are_the_trainer(tmp_path):
    # `kalsim.train(...)`, `kalsim.evaluate(...)`, `kalsim.experiment(...)` as the package
    # documents them; `kalsim.train` stays the module too.
    assert kalsim.train is kt and callable(kalsim.train)
    assert kalsim.evaluate is kt.evaluate and kalsim.experiment is kt.experiment
    # Pickled by name, as a module is (Ray ships functions that use it).
    import pickle

    assert pickle.loads(pickle.dumps(kalsim.train)) is kt
    a = kalsim.train(CFG, tmp_path / "a.json", options=TRAIN, seed=4)
    b = kt.train(CFG, tmp_path / "b.json", options=TRAIN, seed=4)
    assert a["timesteps"] == b["timesteps"] == 1024
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    report = kalsim.evaluate(CFG, tmp_path / "a.json", episodes=1)
    assert len(report["per_episode"]) == 1


def test_train_writes_checkpoint_and_log_with_progress(tmp_path):
    seen = []
    summary = kt.train(CFG, tmp_path / "p.json", options=TRAIN, seed=3, log=tmp_path / "log.csv", progress=seen.append)
    assert summary["timesteps"] == 1024 and summary["iterations"] == len(seen) == 2
    assert [p.iteration for p in seen] == [1, 2] and seen[-1].total_timesteps == 1024
    assert not summary["stopped_early"]
    assert summary["checkpoint"] == str(tmp_path / "p.json")
    ckpt = json.loads((tmp_path / "p.json").read_text())
    assert ckpt["format"].startswith("kalsim") and ckpt["meta"]["obs_dim"] == kalsim.OBS_DIM
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert rows[0].startswith("iteration,") and len(rows) == 3
    # Same seed, same bits.
    kt.train(CFG, tmp_path / "q.json", options=TRAIN, seed=3)
    assert (tmp_path / "p.json").read_bytes() == (tmp_path / "q.json").read_bytes()
    # The checkpoint runs in Policy and in evaluate().
    policy = kalsim.Policy((tmp_path / "p.json").read_text())
    env = kalsim.KalsimEnv(CFG)
    policy.check_env(env)
    report = kt.evaluate(CFG, tmp_path / "p.json", episodes=2, report=tmp_path / "report.json")
    assert len(report["per_episode"]) == 2
    assert json.loads((tmp_path / "report.json").read_text()) == report


def test_progress_can_stop_early_and_exceptions_propagate(tmp_path):
    summary = kt.train(CFG, tmp_path / "p.json", options=TRAIN, progress=lambda p: False)
    assert summary["stopped_early"] and summary["iterations"] == 1
    assert (tmp_path / "p.json").exists()

    def boom(p):
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        kt.train(CFG, tmp_path / "r.json", options=TRAIN, progress=boom)


def test_errors_are_typed_and_named(tmp_path):
    with pytest.raises(kalsim.RunError, match="nonexistent"):
        kt.train(CFG, tmp_path / "nonexistent" / "p.json", options=TRAIN)
    with pytest.raises(kalsim.ConfigError, match="stepz"):
        kt.train(CFG, tmp_path / "p.json", options={"stepz": 1})
    with pytest.raises(kalsim.PolicyError, match="no-such-policy"):
        kt.evaluate(CFG, "no-such-policy")
    with pytest.raises(kalsim.ConfigError, match="episodes"):
        kt.experiment_plan(CFG, {"episodes": 0})


def test_baseline_evaluation_matches_the_cli(tmp_path):
    cli = _kalsim_cli()
    if cli is None:
        pytest.skip("no kalsim binary and no cargo (an installed wheel)")
    cfg_file = tmp_path / "cfg.json"
    cfg_file.write_text(json.dumps(CFG))
    subprocess.run(
        [str(cli), "run", "--config", str(cfg_file), "--policy", "forecast-kelly", "--episodes", "3",
         "--seed", "5", "--out", str(tmp_path / "cli")],
        check=True, capture_output=True,
    )
    ours = kt.evaluate(CFG, "forecast-kelly", episodes=3, seed=5)
    theirs = json.loads((tmp_path / "cli" / "report.json").read_text())
    assert ours["aggregate"] == theirs["aggregate"] and ours["per_episode"] == theirs["per_episode"]


def _comparable(doc):
    doc = dict(doc)
    for key in ("jobs", "wall_seconds"):
        doc.pop(key)
    doc["runs"] = [{k: v for k, v in r.items() if k != "checkpoint"} for r in doc["runs"]]
    return doc


def test_experiment_in_pieces_equals_the_whole_and_the_cli(tmp_path):
    plan = kt.experiment_plan(CFG, EXP)
    assert [(t["sizing"], t["seed"]) for t in plan["tasks"]] == [("variable", 0), ("fixed", 0)]
    assert plan["eval_config"]["data"]["synthetic_seed"] == plan["config"]["data"]["synthetic_seed"] + 1000
    whole = kt.experiment(CFG, tmp_path / "whole", options=EXP, jobs=2)
    ckpts = [kt.experiment_train_task(CFG, EXP, t["index"]) for t in plan["tasks"]]
    pieces = kt.experiment_gather(CFG, EXP, ckpts, tmp_path / "pieces", jobs=1, wall_seconds=1.0)
    for t in plan["tasks"]:
        a = (tmp_path / "whole" / t["checkpoint"]).read_bytes()
        assert a == (tmp_path / "pieces" / t["checkpoint"]).read_bytes() == ckpts[t["index"]].encode()
    assert _comparable(whole["experiment"]) == _comparable(pieces["experiment"])
    assert "ppo-variable" in whole["table"] and whole["experiment"]["schema"] == "kalsim-experiment/3"
    cli = _kalsim_cli()
    if cli is None:
        return
    cfg_file = tmp_path / "cfg.json"
    cfg_file.write_text(json.dumps(CFG))
    ppo_file = tmp_path / "ppo.json"
    ppo_file.write_text(json.dumps(TRAIN["ppo"]))
    subprocess.run(
        [str(cli), "experiment", "--config", str(cfg_file), "--seeds", "1", "--episodes", "2",
         "--steps", "1024", "--envs", "4", "--ppo", str(ppo_file), "--jobs", "1", "--out", str(tmp_path / "cli")],
        check=True, capture_output=True,
    )
    cli_doc = json.loads((tmp_path / "cli" / "experiment.json").read_text())
    assert _comparable(cli_doc) == _comparable(whole["experiment"])
    for t in plan["tasks"]:
        assert (tmp_path / "cli" / t["checkpoint"]).read_bytes() == ckpts[t["index"]].encode()
