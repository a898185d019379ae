"""Time an experiment grid serially (`kalsim.train.experiment`, one job) and as Ray tasks
on a local cluster (`kalsim.ray.grid`), check that both give the same metrics and
checkpoint bytes, and print the speed-up (a measurement; docs/scale-out.md records it).

    KALSIM_LIB=$PWD/target/release/libkalsim.so python ffi/python/examples/ray_grid.py \\
        [--cpus 2] [--steps 20000] [--seeds 2] [--address auto]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kalsim.train as kt  # noqa: E402


def comparable(doc: dict) -> dict:
    doc = {k: v for k, v in doc.items() if k not in ("jobs", "wall_seconds")}
    doc["runs"] = [{k: v for k, v in r.items() if k != "checkpoint"} for r in doc["runs"]]
    return doc


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--cpus", type=int, default=2)
    p.add_argument("--steps", type=int, default=20_000)
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--episodes", type=int, default=16)
    p.add_argument("--address", default=None, help="an existing cluster (default: a local one)")
    args = p.parse_args(argv)
    import ray

    import kalsim.ray as kr

    data = {"synthetic_markets": 8, "synthetic_events": 500}
    grid = {"seed7": {"data": {**data, "synthetic_seed": 7}}, "seed21": {"data": {**data, "synthetic_seed": 21}}}
    options = {"seeds": args.seeds, "episodes": args.episodes, "train": {"steps": args.steps, "envs": 8}}
    out = Path(tempfile.mkdtemp())
    start = time.perf_counter()
    serial = {n: kt.experiment(c, out / "serial" / n, options=options, jobs=1) for n, c in grid.items()}
    t_serial = time.perf_counter() - start
    if args.address:
        ray.init(address=args.address, log_to_driver=False, runtime_env=kr.runtime_env())
    else:
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False, runtime_env=kr.runtime_env())
    start = time.perf_counter()
    on_ray = kr.grid(grid, out / "ray", options=options)
    t_ray = time.perf_counter() - start
    same = all(comparable(on_ray[n]["experiment"]) == comparable(serial[n]["experiment"]) for n in grid)
    tasks = sum(len(kt.experiment_plan(c, options)["tasks"]) for c in grid.values())
    for n in grid:
        for f in (out / "serial" / n).glob("*-seed*.json"):
            same &= f.read_bytes() == (out / "ray" / n / f.name).read_bytes()
    cpus = int(ray.cluster_resources().get("CPU", 0))
    print(f"grid: {len(grid)} experiments, {tasks} training tasks of {args.steps} steps")
    print(f"serial {t_serial:.1f} s, ray ({cpus} CPUs) {t_ray:.1f} s: speed-up {t_serial / t_ray:.2f}x; identical: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
