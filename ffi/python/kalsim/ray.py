"""`kalsim.ray`: kalsim's sizing experiments as Ray tasks (``pip install kalsim[ray]``).

An experiment is independent, deterministic training runs (one per sizing mode and seed)
and a gather (held-out evaluation, ``experiment.json``); a grid is several experiments
(configurations × data sets). Each training run is a Ray task calling the native trainer
(`kalsim.train.experiment_train_task`, one CPU each), each gather a Ray task too; the
driver writes every experiment's checkpoints and ``experiment.json`` into its directory.

Determinism is the point: every metric and every checkpoint's bytes equal the serial
``kalsim experiment`` run of the same grid (only the paths, ``jobs`` and ``wall_seconds``
differ), whatever the cluster, the number of workers or the order tasks finish in.

    import kalsim.ray
    kalsim.ray.experiment("docs/informed.toml", "out/informed", options={"seeds": 8})
    kalsim.ray.grid({"default": None, "informed": "docs/informed.toml"}, "out/grid",
                    options={"seeds": 4}, address="auto")   # an existing cluster

``address=None`` starts (or reuses) a local single-node cluster with ``ray.init()``;
``address="auto"`` or ``"ray://host:10001"`` joins an existing one. See docs/scale-out.md.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Mapping, Optional, Union

import ray

from . import train as _train
from .core import ConfigLike, config_json

Options = Optional[Union[dict, str]]


@ray.remote(num_cpus=1)
def _train_task(config: str, options: str, index: int) -> str:
    return _train.experiment_train_task(config, options, index)


@ray.remote(num_cpus=1)
def _gather_task(config: str, options: str, checkpoints: list, out_dir: str, jobs: int, wall: float) -> dict:
    result = _train.experiment_gather(config, options, checkpoints, out_dir, jobs=jobs, wall_seconds=wall)
    result["files"] = {p.name: p.read_text() for p in Path(out_dir).glob("*.json")}
    return result


def runtime_env() -> dict[str, Any]:
    """A Ray ``runtime_env`` under which workers import this ``kalsim`` and load the same
    library: the package's parent directory on ``PYTHONPATH`` (for a source checkout; an
    installed package is found anyway) and ``KALSIM_LIB`` when set. `experiment` and
    `grid` use it when they start Ray; pass it to your own ``ray.init(runtime_env=...)``."""
    import os

    env = {"PYTHONPATH": os.pathsep.join(p for p in (str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH", "")) if p)}
    if os.environ.get("KALSIM_LIB"):
        env["KALSIM_LIB"] = os.environ["KALSIM_LIB"]
    return {"env_vars": env}


def _ensure_ray(address: Optional[str], num_cpus: Optional[int]) -> None:
    if ray.is_initialized():
        return
    if address is None:
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, runtime_env=runtime_env())
    else:
        ray.init(address=address, log_to_driver=False, runtime_env=runtime_env())


def _run(
    experiments: Mapping[str, tuple[ConfigLike, Path]],
    options: Options,
    address: Optional[str],
    num_cpus: Optional[int],
) -> dict[str, dict[str, Any]]:
    _ensure_ray(address, num_cpus)
    started = time.perf_counter()
    opts = _train._options(options).decode()
    jobs = max(1, int(ray.cluster_resources().get("CPU", 1)))
    plans, trained = {}, {}
    for name, (config, _) in experiments.items():
        cfg = config_json(config).decode()  # resolved here: workers need no config files
        plan = _train.experiment_plan(cfg, opts)  # bad input fails here, before any task
        plans[name] = cfg
        trained[name] = [_train_task.remote(cfg, opts, t["index"]) for t in plan["tasks"]]
    gathers = {}
    for name, (_, out) in experiments.items():
        out.mkdir(parents=True, exist_ok=True)
        checkpoints = ray.get(trained[name])
        wall = time.perf_counter() - started
        gathers[name] = _gather_task.remote(plans[name], opts, checkpoints, str(out.resolve()), jobs, wall)
    results = {}
    for name, ref in gathers.items():
        result = ray.get(ref)
        out = experiments[name][1]
        for file_name, text in result.pop("files").items():  # the driver's copy, same bytes
            (out / file_name).write_text(text)
        result["experiment"] = json.loads((out / "experiment.json").read_text())
        result["path"] = str(out / "experiment.json")
        results[name] = result
    return results


def grid(
    experiments: Mapping[str, ConfigLike],
    out_dir: Union[str, Path],
    *,
    options: Options = None,
    address: Optional[str] = None,
    num_cpus: Optional[int] = None,
) -> dict[str, dict[str, Any]]:
    """Run every experiment of ``experiments`` (name -> configuration: dict, JSON, TOML/JSON
    path; vary the data set with ``data.files`` or ``data.synthetic_seed``) with the same
    ``options`` (as `kalsim.train.experiment`: seeds, episodes, training budget, ...) as
    Ray tasks; every training run of every experiment is submitted at once. Experiment
    ``name`` is written to ``out_dir/name`` (checkpoints and ``experiment.json``). Returns
    name -> ``{"path", "table", "criteria", "experiment"}``."""
    return _run({n: (c, Path(out_dir) / n) for n, c in experiments.items()}, options, address, num_cpus)


def experiment(
    config: ConfigLike = None,
    out_dir: Union[str, Path] = "out/experiment",
    *,
    options: Options = None,
    address: Optional[str] = None,
    num_cpus: Optional[int] = None,
) -> dict[str, Any]:
    """One experiment (`kalsim.train.experiment`) as Ray tasks, written to ``out_dir``."""
    return _run({"experiment": (config, Path(out_dir))}, options, address, num_cpus)["experiment"]


__all__ = ["experiment", "grid", "runtime_env"]
