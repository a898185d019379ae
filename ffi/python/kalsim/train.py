"""kalsim's native PPO trainer, evaluation and the sizing experiment, over the C ABI.

These run the library code behind ``kalsim train``, ``kalsim run`` and ``kalsim experiment``,
so checkpoints, logs and ``experiment.json`` are the same bytes as the CLI's for the same
inputs (paths and timings aside):

- `train(config, checkpoint, ...)`: one PPO run, a checkpoint and a CSV log, with a
  progress callback (return ``False`` to stop early);
- `evaluate(config, policy, ...)`: the report of ``kalsim run --policy`` for a baseline
  name or a checkpoint;
- `experiment(config, out_dir, ...)`: the whole fixed-vs-variable sizing experiment on
  local threads, or in pieces — `experiment_plan`, `experiment_train_task`,
  `experiment_gather` — which is how `kalsim.ray` spreads it over a cluster.

Options are dicts with the keys of the CLI flags (docs/experiments.md, "Options"):
training ``{"steps", "envs", "threads", "seed", "ppo": {...}}``; experiment
``{"train": {...}, "seeds", "episodes", "eval_data", "split", "in_sample", "stochastic"}``.
Every call releases the GIL while the library runs.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Union

from ._lib import TrainProgress, check, lib
from .core import ConfigLike, config_json

PathLike = Union[str, "os.PathLike[str]"]

#: ``bool (*)(const kalsim_train_progress *, void *)``
PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.POINTER(TrainProgress), ctypes.c_void_p)
#: ``void (*)(size_t task_index, void *)``
TASK_DONE_FN = ctypes.CFUNCTYPE(None, ctypes.c_size_t, ctypes.c_void_p)


@dataclass(frozen=True)
class Progress:
    """One PPO iteration (``kalsim_train_progress``)."""

    iteration: int
    timesteps: int
    total_timesteps: int
    episodes: int
    mean_episode_return: float
    entropy: float
    hold_fraction: float


def _options(options: Optional[Union[dict, str]], **kwargs: Any) -> bytes:
    if isinstance(options, str):
        d = json.loads(options) if options.strip() else {}
    else:
        d = dict(options or {})
    d.update({k: v for k, v in kwargs.items() if v is not None})
    return json.dumps(d).encode()


def _path(p: Optional[PathLike]) -> Optional[bytes]:
    return None if p is None else os.fsencode(os.fspath(p))


def _take(out: ctypes.c_void_p) -> str:
    """The library's string, copied and freed."""
    try:
        return ctypes.string_at(out.value).decode()
    finally:
        lib.kalsim_string_free(out)


def _progress_fn(progress: Optional[Callable[[Progress], Any]]) -> Any:
    if progress is None:
        return PROGRESS_FN()  # NULL
    errors: list[BaseException] = []

    def call(p: Any, _user: Any) -> bool:
        try:
            s = p.contents
            r = progress(
                Progress(
                    s.iteration,
                    s.timesteps,
                    s.total_timesteps,
                    s.episodes,
                    s.mean_episode_return,
                    s.entropy,
                    s.hold_fraction,
                )
            )
            return r is None or bool(r)
        except BaseException as e:  # an exception must not cross the C boundary: stop
            errors.append(e)
            return False

    fn = PROGRESS_FN(call)
    fn.errors = errors  # type: ignore[attr-defined]
    return fn


def _reraise(fn: Any) -> None:
    errors = getattr(fn, "errors", None)
    if errors:
        raise errors[0]


def train(
    config: ConfigLike = None,
    checkpoint: PathLike = "policy.json",
    *,
    options: Optional[Union[dict, str]] = None,
    steps: Optional[int] = None,
    envs: Optional[int] = None,
    threads: Optional[int] = None,
    seed: Optional[int] = None,
    log: Optional[PathLike] = None,
    progress: Optional[Callable[[Progress], Any]] = None,
) -> dict[str, Any]:
    """Train a PPO policy as ``kalsim train`` does; write the checkpoint (and the CSV log
    when ``log`` is given). ``steps``/``envs``/``threads``/``seed`` override ``options``.
    ``progress(Progress)`` is called after every iteration; returning ``False`` stops early
    (the policy so far is written). Returns the summary (``iterations``, ``timesteps``,
    ``episodes``, ``stopped_early``, ``last`` iteration's statistics, ``checkpoint``)."""
    opts = _options(options, steps=steps, envs=envs, threads=threads, seed=seed)
    fn = _progress_fn(progress)
    out = ctypes.c_void_p()
    status = lib.kalsim_train(config_json(config), opts, _path(checkpoint), _path(log), fn, None, ctypes.byref(out))
    _reraise(fn)
    check(status)
    return json.loads(_take(out))


def evaluate(
    config: ConfigLike = None,
    policy: Union[str, PathLike] = "hold",
    *,
    episodes: int = 10,
    seed: int = 0,
    report: Optional[PathLike] = None,
) -> dict[str, Any]:
    """Evaluate ``policy`` (a baseline name such as ``"hold"`` / ``"forecast-kelly"``, or a
    checkpoint path) as ``kalsim run --policy`` does: ``episodes`` episodes from reset seed
    ``seed``. Returns the report (``aggregate`` and ``per_episode`` SPEC §9 metrics),
    also written to ``report`` when given."""
    spec = os.fsencode(os.fspath(policy))
    out = ctypes.c_void_p()
    check(lib.kalsim_evaluate(config_json(config), spec, episodes, seed, _path(report), ctypes.byref(out)))
    return json.loads(_take(out))


def experiment_plan(config: ConfigLike = None, options: Optional[Union[dict, str]] = None) -> dict[str, Any]:
    """The plan of the sizing experiment: ``tasks`` (``{index, sizing, seed, checkpoint}``,
    each an independent deterministic training run), ``evaluation``, ``config``,
    ``eval_config`` and the filled-in ``options``."""
    out = ctypes.c_void_p()
    check(lib.kalsim_experiment_plan(config_json(config), _options(options), ctypes.byref(out)))
    return json.loads(_take(out))


def experiment_train_task(
    config: ConfigLike,
    options: Optional[Union[dict, str]],
    index: int,
    progress: Optional[Callable[[Progress], Any]] = None,
) -> str:
    """Train task ``index`` of the plan; its checkpoint JSON (the same bytes wherever it
    runs)."""
    fn = _progress_fn(progress)
    out = ctypes.c_void_p()
    status = lib.kalsim_experiment_train_task(config_json(config), _options(options), index, fn, None, ctypes.byref(out))
    _reraise(fn)
    check(status)
    return _take(out)


def experiment_gather(
    config: ConfigLike,
    options: Optional[Union[dict, str]],
    checkpoints: Sequence[str],
    out_dir: PathLike,
    *,
    jobs: int = 1,
    wall_seconds: float = 0.0,
) -> dict[str, Any]:
    """Write the checkpoints (in task order) and ``experiment.json`` into ``out_dir`` after
    the held-out evaluation, as ``kalsim experiment`` does. Returns ``{"path", "table",
    "criteria", "experiment"}`` (the last the parsed ``experiment.json``)."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    out = ctypes.c_void_p()
    check(
        lib.kalsim_experiment_gather(
            config_json(config),
            _options(options),
            json.dumps(list(checkpoints)).encode(),
            _path(out_dir),
            jobs,
            wall_seconds,
            ctypes.byref(out),
        )
    )
    result = json.loads(_take(out))
    result["experiment"] = json.loads(Path(result["path"]).read_text())
    return result


def experiment(
    config: ConfigLike = None,
    out_dir: PathLike = "out/experiment",
    *,
    options: Optional[Union[dict, str]] = None,
    jobs: int = 0,
    on_task_done: Optional[Callable[[int], Any]] = None,
) -> dict[str, Any]:
    """The whole sizing experiment of ``kalsim experiment`` on ``jobs`` local threads (0 =
    every core; results do not depend on it). ``on_task_done(index)`` is called as each
    training task finishes. Returns as `experiment_gather`."""
    if on_task_done is None:
        fn = TASK_DONE_FN()
    else:

        def call(index: int, _user: Any) -> None:
            try:
                on_task_done(index)
            except BaseException:  # never across the C boundary
                pass

        fn = TASK_DONE_FN(call)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    out = ctypes.c_void_p()
    check(
        lib.kalsim_experiment_run(
            config_json(config), _options(options), _path(out_dir), jobs, fn, None, ctypes.byref(out)
        )
    )
    result = json.loads(_take(out))
    result["experiment"] = json.loads(Path(result["path"]).read_text())
    return result


__all__ = [
    "Progress",
    "evaluate",
    "experiment",
    "experiment_gather",
    "experiment_plan",
    "experiment_train_task",
    "train",
]


class _TrainModule(types.ModuleType):
    """This module, callable: ``kalsim.train(config, checkpoint, ...)`` is `train`, while
    ``kalsim.train.train`` / ``evaluate`` / ``experiment`` and ``import kalsim.train as kt``
    keep working."""

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return train(*args, **kwargs)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # Pickled by name, as a plain module is (Ray's cloudpickle ships the functions of
        # `kalsim.ray` that use this module): unpickling imports it.
        import importlib

        return importlib.import_module, (self.__name__,)


sys.modules[__name__].__class__ = _TrainModule
