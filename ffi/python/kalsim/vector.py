"""`KalsimVecEnv`: N environments stepped by the library as one batch
(`gymnasium.vector.VectorEnv`, next-step autoreset)."""

from __future__ import annotations

import ctypes
import os
import weakref
from typing import Any, Optional, Union

import gymnasium as gym
import numpy as np
from gymnasium.vector.utils import batch_space

from ._lib import INFO_FIELDS, Metrics, StepInfo, VecStepBuffers, check, lib
from .core import ACTION_COUNT, ConfigLike, config_json, obs_bounds
from .errors import InvalidActionError, InvalidArgumentError
from .info import LazyInfoArrays

try:  # Gymnasium >= 1.0
    from gymnasium.vector import AutoresetMode

    _NEXT_STEP: Any = AutoresetMode.NEXT_STEP
    _SAME_STEP: Any = AutoresetMode.SAME_STEP
except ImportError:  # pragma: no cover
    _NEXT_STEP = "NextStep"
    _SAME_STEP = "SameStep"

# ``kalsim_autoreset``.
AUTORESET_NEXT_STEP = 0
AUTORESET_SAME_STEP = 1


def _autoreset_code(mode: Any) -> int:
    """``AutoresetMode.NEXT_STEP`` / ``SAME_STEP`` or their names, as ``kalsim_autoreset``."""
    name = str(getattr(mode, "value", mode)).lower().replace("_", "").replace("-", "")
    if name in ("nextstep", "next"):
        return AUTORESET_NEXT_STEP
    if name in ("samestep", "same"):
        return AUTORESET_SAME_STEP
    raise InvalidArgumentError(
        f"autoreset_mode {mode!r} is not supported: use AutoresetMode.NEXT_STEP or SAME_STEP"
    )

_INFO_DTYPE = np.dtype(StepInfo)


def _ptr(array: np.ndarray, ctype: Any) -> Any:
    return array.ctypes.data_as(ctypes.POINTER(ctype))


class KalsimVecEnv(gym.vector.VectorEnv[np.ndarray, np.ndarray, np.ndarray]):
    """``num_envs`` kalsim environments over the same markets, stepped in the library on
    ``threads`` worker threads (default: all cores, at most ``num_envs``; results do not
    depend on it). Numpy buffers are handed to the library by pointer, no per-env copies.

    ``autoreset_mode`` (recorded in ``metadata["autoreset_mode"]``):

    - ``AutoresetMode.NEXT_STEP`` (the default): after env ``i`` ends, the following
      ``step`` ignores its action and returns the first observation of its next episode
      with reward 0 and both flags false;
    - ``AutoresetMode.SAME_STEP``: the step that ends env ``i`` returns its reward and
      flags with the first observation of the next episode; the episode's last
      observation is in ``infos["final_obs"][i]`` (an object array, ``None`` for envs that
      did not end, ``infos["_final_obs"]`` the bool mask) and its last info in the
      top-level fields and ``infos["final_info"]`` (``_final_info`` the mask). This is the
      convention the Stable-Baselines3 adapter (`kalsim.sb3`) builds on.

    Env ``i`` is seeded from ``(seed, i)``.

    ``infos`` holds one array per SPEC §7 field (length N; built on first access) plus
    ``action_mask`` (N x ``ACTION_COUNT`` bool). With ``copy=False`` the returned arrays are
    the internal buffers, overwritten by the next call. ``action_masks()`` never copies.
    Each ``step`` is one call into the library, which releases the GIL while it runs.
    """

    metadata: dict[str, Any] = {"render_modes": [], "autoreset_mode": _NEXT_STEP}

    def __init__(
        self,
        num_envs: int,
        config: ConfigLike = None,
        threads: Optional[int] = None,
        copy: bool = True,
        autoreset_mode: Any = _NEXT_STEP,
    ) -> None:
        super().__init__()
        # The snapshot behind the infos dict of the last reset/step, while a dict holds it.
        self._pending: Any = _no_snapshot
        mode = _autoreset_code(autoreset_mode)
        if threads is None:
            threads = min(os.cpu_count() or 1, num_envs)
        handle = ctypes.c_void_p()
        check(lib.kalsim_vec_env_new(config_json(config), num_envs, threads, ctypes.byref(handle)))
        self._handle = handle
        check(lib.kalsim_vec_env_set_autoreset(handle, mode))
        self.metadata = {**type(self).metadata, "autoreset_mode": _SAME_STEP if mode else _NEXT_STEP}
        self.autoreset_mode = self.metadata["autoreset_mode"]
        self._same_step = mode == AUTORESET_SAME_STEP
        self.num_envs = num_envs
        self.copy = copy
        low, high = obs_bounds()
        self.single_observation_space = gym.spaces.Box(low=low, high=high, dtype=np.float32)
        self.single_action_space = gym.spaces.Discrete(ACTION_COUNT)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        n, d = num_envs, low.shape[0]
        self._obs = np.zeros((n, d), dtype=np.float32)
        self._rewards = np.zeros(n, dtype=np.float64)
        self._terminated = np.zeros(n, dtype=np.uint8)
        self._truncated = np.zeros(n, dtype=np.uint8)
        # numpy bools are one byte holding 0 or 1: the library writes the masks into them.
        self._masks = np.zeros((n, ACTION_COUNT), dtype=np.bool_)
        self._actions = np.zeros(n, dtype=np.uint32)
        self._final_obs = np.zeros((n, d), dtype=np.float32)
        self._ended = np.zeros(n, dtype=np.uint8)
        self._obs_ptr = _ptr(self._obs, ctypes.c_float)
        self._masks_ptr = _ptr(self._masks, ctypes.c_uint8)
        # Every step passes the same buffers: described once, by address and length.
        self._buffers = VecStepBuffers(
            actions=self._actions.ctypes.data,
            actions_len=self._actions.size,
            obs_out=self._obs.ctypes.data,
            obs_len=self._obs.size,
            rewards_out=self._rewards.ctypes.data,
            rewards_len=self._rewards.size,
            terminated_out=self._terminated.ctypes.data,
            terminated_len=self._terminated.size,
            truncated_out=self._truncated.ctypes.data,
            truncated_len=self._truncated.size,
            masks_out=self._masks.ctypes.data,
            masks_len=self._masks.size,
        )
        self._buffers_ref = ctypes.byref(self._buffers)
        self._step_fn = lib.kalsim_vec_env_step
        self._infos_fn = lib.kalsim_vec_env_infos

    def reset(
        self, *, seed: Optional[Union[int, list[int]]] = None, options: Optional[dict[str, Any]] = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if isinstance(seed, (list, tuple)):
            seed = seed[0]
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(0, 2**63))
        self._settle()
        check(
            lib.kalsim_vec_env_reset(
                self._handle,
                seed & 0xFFFF_FFFF_FFFF_FFFF,
                self._obs_ptr,
                self._obs.size,
                self._masks_ptr,
                self._masks.size,
            )
        )
        return self._out(self._obs), self._info_arrays()

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        a = np.asarray(actions)
        if a.shape != (self.num_envs,):
            raise InvalidActionError(f"actions has shape {a.shape}, expected ({self.num_envs},)")
        if a.dtype.kind not in "u" or a.dtype.itemsize > 4:
            # Only here can a value wrap into 0..=u32::MAX when copied; the library rejects
            # every value >= ACTION_COUNT before any env moves.
            if a.size and (a.min() < 0 or a.max() > 0xFFFF_FFFF):
                raise InvalidActionError(f"actions must be within 0..={ACTION_COUNT - 1}")
        np.copyto(self._actions, a, casting="unsafe")
        self._settle()
        status = self._step_fn(self._handle, self._buffers_ref)
        if status:
            check(status)
        terminated = self._terminated.view(np.bool_)
        truncated = self._truncated.view(np.bool_)
        return (
            self._out(self._obs),
            self._out(self._rewards),
            self._out(terminated),
            self._out(truncated),
            self._info_arrays(),
        )

    def action_masks(self) -> np.ndarray:
        """N x ``ACTION_COUNT`` bool masks of the last reset/step.

        No copy: the array is the vector env's own buffer, overwritten by the next
        ``reset``/``step``; copy it to keep it.
        """
        return self._masks

    def metrics(self, index: int) -> dict[str, Any]:
        """SPEC §9 metrics of env ``index`` (right after its episode ended: that episode's)."""
        m = Metrics()
        check(lib.kalsim_vec_env_metrics(self._handle, index, ctypes.byref(m)))
        return m.to_dict()

    def close_extras(self, **kwargs: Any) -> None:
        if getattr(self, "_handle", None):
            self._settle()
            lib.kalsim_vec_env_free(self._handle)
            self._handle = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _out(self, a: np.ndarray) -> np.ndarray:
        return a.copy() if self.copy else a

    @property
    def info_snapshot(self) -> np.ndarray:
        """The SPEC §7 infos of the last reset/step as one structured array (N records, the
        ``kalsim_step_info`` layout); a fresh array each step."""
        pending = self._pending()
        if pending is None:
            # The dict of the last call is gone; the library still holds its infos.
            pending = _Snapshot(self)
            self._pending = weakref.ref(pending)
        return pending.array()

    def final_observations(self) -> tuple[np.ndarray, np.ndarray]:
        """Same-step mode: ``(ended, obs)`` of the last step, ``ended`` (N bool) marking the
        envs that ended and were reset within it, and ``obs`` (N x D) holding their final
        observations in those rows (other rows are stale). Both are internal buffers."""
        check(
            lib.kalsim_vec_env_final_observations(
                self._handle,
                self._final_obs.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                self._final_obs.size,
                self._ended.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)),
                self._ended.size,
            )
        )
        return self._ended.view(np.bool_), self._final_obs

    def _copy_infos(self) -> np.ndarray:
        """The library's infos of the last reset/step, copied into a fresh structured array."""
        snapshot = np.empty(self.num_envs, dtype=_INFO_DTYPE)
        status = self._infos_fn(self._handle, snapshot.ctypes.data, self.num_envs)
        if status:
            check(status)
        return snapshot

    def _settle(self) -> None:
        """Before the library overwrites its infos (step, reset, close): copy them for the
        infos dict of the last call if it is still referenced and was never read."""
        pending = self._pending()
        if pending is not None:
            pending.array()
        self._pending = _no_snapshot

    def _info_arrays(self) -> dict[str, Any]:
        # The per-field arrays are views into one structured array (one copy in the
        # library), made when the dict is first read; the copy itself is deferred to that
        # first read, or to the next call that changes the library's infos (`_settle`) if
        # the dict is still alive then. A dict nobody keeps costs no copy.
        snapshot = _Snapshot(self)
        self._pending = weakref.ref(snapshot)
        eager: dict[str, Any] = {"action_mask": self._out(self._masks)}
        if self._same_step:
            done = self._terminated | self._truncated
            if done.any():
                ended, final = self.final_observations()
                final_obs = np.full(self.num_envs, None, dtype=object)
                for i in np.flatnonzero(ended):
                    final_obs[i] = final[i].copy()
                mask = ended.copy()
                eager["final_obs"] = final_obs
                eager["_final_obs"] = mask
                eager["final_info"] = LazyInfoArrays(snapshot, INFO_FIELDS)
                eager["_final_info"] = mask
        return LazyInfoArrays(snapshot, INFO_FIELDS, **eager)


class _Snapshot:
    """The infos of one vector-env reset/step, copied from the library on first use: the
    env holds only a weak reference, so it copies them before it next changes them only
    while some infos dict still refers to this snapshot."""

    __slots__ = ("_env", "_array", "__weakref__")

    def __init__(self, env: KalsimVecEnv) -> None:
        self._env: Optional[KalsimVecEnv] = env
        self._array: Optional[np.ndarray] = None

    def array(self) -> np.ndarray:
        if self._array is None:
            env, self._env = self._env, None
            assert env is not None
            self._array = env._copy_infos()
        return self._array


def _no_snapshot() -> None:
    return None


class ValidActionSampler:
    """Uniformly random valid actions for a batch of masks, in a few vectorised numpy
    passes over preallocated buffers (no per-env Python, one random number per env):

    >>> sample = ValidActionSampler(env.num_envs, np.random.default_rng(0))
    >>> actions = sample(env.action_masks())   # N uint8 action ids, a reused buffer

    Env ``i`` draws ``u`` uniform in ``[0, 1)`` and takes its ``floor(u × count)``-th valid
    action in id order (HOLD is always valid, so ``count ≥ 1``): exactly uniform over the
    valid ids.

    How: the masks are copied once into an ``ACTION_COUNT × N`` byte matrix (row ``j`` the
    envs' bit for id ``j``), and its running sum down the rows — ``cum[j, i]``, the valid
    ids among ``0..=j`` of env ``i`` — is taken in five whole-matrix adds (a Hillis–Steele
    scan: shifts 1, 2, 4, 8, 16), each over the bytes read as ``uint64`` words, eight envs
    per word (a byte sum is at most ``ACTION_COUNT`` < 256, so no carry crosses into the
    next env). The ``k``-th valid id (0-based) is then the number of rows with
    ``cum[j, i] <= k``. Per batch that is about a dozen numpy calls whatever N is.
    """

    def __init__(self, num_envs: int, rng: Optional[np.random.Generator] = None) -> None:
        self.num_envs = num_envs
        self.rng = rng if rng is not None else np.random.default_rng()
        a = ACTION_COUNT
        # Padded to whole words; the pad columns stay zero and are never read.
        width = -(-num_envs // 8) * 8
        self._cum = np.zeros((a, width), dtype=np.uint8)
        self._words = self._cum.view(np.uint64)
        self._before = np.empty((a, num_envs), dtype=np.bool_)
        self._u = np.empty(num_envs, dtype=np.float64)
        self._k = np.empty(num_envs, dtype=np.uint8)
        self._actions = np.empty(num_envs, dtype=np.uint8)

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        m = np.asarray(masks)
        if m.shape != (self.num_envs, ACTION_COUNT):
            raise InvalidArgumentError(
                f"masks has shape {m.shape}, expected ({self.num_envs}, {ACTION_COUNT})"
            )
        if m.dtype != np.bool_:
            m = m != 0  # the scan counts bytes: each must be 0 or 1
        n = self.num_envs
        cum = self._cum[:, :n]
        words = self._words
        np.copyto(cum, m.view(np.uint8).T)
        shift = 1
        while shift < ACTION_COUNT:
            # numpy buffers the overlapping operands, so each row adds the row `shift`
            # above as it was before this pass: an inclusive scan after the last pass.
            np.add(words[shift:], words[:-shift], out=words[shift:])
            shift *= 2
        count = cum[-1]
        if not count.all():
            raise InvalidArgumentError(f"env {int(np.argmin(count))} has no valid action")
        self.rng.random(out=self._u)
        np.multiply(self._u, count, out=self._u)
        np.copyto(self._k, self._u, casting="unsafe")  # floor: u × count is in [0, count)
        # The k-th valid id (0-based) is the number of ids j with cum[j] <= k.
        np.less_equal(cum, self._k, out=self._before)
        return np.add.reduce(self._before, axis=0, dtype=np.uint8, out=self._actions)
