"""`kalsim.ray` on a local 2-CPU Ray cluster: the same metrics and checkpoint bytes as the
serial run of the same grid (skipped when Ray is not installed)."""

import json
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

import kalsim.train as kt  # noqa: E402

CFG = {"data": {"synthetic_markets": 3, "synthetic_events": 80}}
OPTS = {"seeds": 2, "episodes": 2, "train": {"steps": 1024, "envs": 4, "ppo": {"n_steps": 128, "n_epochs": 2, "minibatch_size": 128}}}


def _comparable(doc):
    doc = dict(doc)
    for key in ("jobs", "wall_seconds"):
        doc.pop(key)
    doc["runs"] = [{k: v for k, v in r.items() if k != "checkpoint"} for r in doc["runs"]]
    return doc


@pytest.fixture(scope="module")
def cluster():
    import kalsim.ray as kr

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env=kr.runtime_env())
    yield
    ray.shutdown()


def test_grid_on_ray_equals_the_serial_runs(cluster, tmp_path):
    import kalsim.ray as kr

    other = {"data": {**CFG["data"], "synthetic_seed": 21}}
    results = kr.grid({"a": CFG, "b": other}, tmp_path / "ray", options=OPTS)
    assert set(results) == {"a", "b"}
    for name, cfg in (("a", CFG), ("b", other)):
        serial = kt.experiment(cfg, tmp_path / "serial" / name, options=OPTS, jobs=1)
        ours = results[name]
        assert _comparable(ours["experiment"]) == _comparable(serial["experiment"])
        assert ours["table"] == serial["table"]
        names = [t["checkpoint"] for t in kt.experiment_plan(cfg, OPTS)["tasks"]]
        assert len(names) == 4
        for n in names:
            assert (tmp_path / "ray" / name / n).read_bytes() == (tmp_path / "serial" / name / n).read_bytes()
        written = json.loads((tmp_path / "ray" / name / "experiment.json").read_text())
        assert written == ours["experiment"]
    assert _comparable(results["a"]["experiment"]) != _comparable(results["b"]["experiment"])


def test_experiment_writes_into_out_dir_and_bad_input_fails_before_tasks(cluster, tmp_path):
    import kalsim
    import kalsim.ray as kr

    r = kr.experiment(CFG, tmp_path / "one", options={**OPTS, "seeds": 1})
    assert Path(r["path"]) == tmp_path / "one" / "experiment.json"
    assert (tmp_path / "one" / "variable-seed0.json").exists()
    with pytest.raises(kalsim.ConfigError, match="seedz"):
        kr.experiment(CFG, tmp_path / "bad", options={"seedz": 1})
