"""kalsim: a deterministic RL trading environment for Kalshi binary contracts.

Pure Python over the C ABI (``libkalsim``) with ctypes and numpy:

- `KalsimEnv` (``gymnasium.make("kalsim/Kalshi-v0", config={...})``): ``Discrete(25)``,
  ``action_masks()`` for MaskablePPO;
- `KalsimVecEnv` (``gymnasium.make_vec("kalsim/Kalshi-v0", num_envs=N,
  vectorization_mode="vector_entry_point")``): the library's batched vector env, next-step
  or same-step autoreset;
- `kalsim.sb3.KalsimSB3VecEnv`: the same vector env as a Stable-Baselines3 ``VecEnv``
  (SB3's same-step autoreset, ``terminal_observation``, ``env_method("action_masks")``);
- `held_out_config` (held-out evaluation markets, as ``kalsim experiment`` picks them);
- the native PPO trainer, evaluation and the sizing experiment — ``kalsim.train(...)``,
  ``kalsim.evaluate(...)``, ``kalsim.experiment(...)`` (module `kalsim.train`, which is
  itself callable as its `train`) — the CLI's code and bytes;
- `kalsim.ray` (``pip install kalsim[ray]``): the experiment grid as Ray tasks;
- the core rules (`encode_action`, `validate_order`, fees, the observation schema);
- `KalsimError` and one subclass per status, carrying the library's message.
"""

from __future__ import annotations

import gymnasium

from ._lib import find_library, lib
from .core import (
    ACTION_COUNT,
    INTENTS,
    INVALID_ACTIONS,
    OBS_DIM,
    TIER_COUNT,
    TIERS,
    decode_action,
    encode_action,
    held_out_config,
    invalid_action_name,
    maker_fee_cents,
    obs_schema,
    obs_schema_version,
    size_table,
    taker_fee_cents,
    validate_order,
)
from .env import KalsimEnv
from .policy import Policy
from .errors import (
    BufferLengthError,
    ConfigError,
    DataError,
    EpisodeOverError,
    InvalidActionError,
    InvalidArgumentError,
    KalsimError,
    MaskedActionError,
    NotResetError,
    NullPointerError,
    PanicError,
    PolicyError,
    ReservedActionError,
    RunError,
)
from .vector import KalsimVecEnv, ValidActionSampler
from . import train  # the module, callable as `train.train`
from .train import evaluate, experiment

__version__ = lib.kalsim_version().decode()
ENV_ID = "kalsim/Kalshi-v0"

if ENV_ID not in gymnasium.registry:
    gymnasium.register(
        id=ENV_ID,
        entry_point="kalsim.env:KalsimEnv",
        vector_entry_point="kalsim.vector:KalsimVecEnv",
        disable_env_checker=False,
    )

__all__ = [
    "ACTION_COUNT",
    "ENV_ID",
    "INTENTS",
    "INVALID_ACTIONS",
    "OBS_DIM",
    "TIER_COUNT",
    "TIERS",
    "BufferLengthError",
    "ConfigError",
    "DataError",
    "EpisodeOverError",
    "InvalidActionError",
    "InvalidArgumentError",
    "KalsimEnv",
    "KalsimError",
    "KalsimVecEnv",
    "MaskedActionError",
    "NotResetError",
    "NullPointerError",
    "PanicError",
    "Policy",
    "PolicyError",
    "ReservedActionError",
    "RunError",
    "ValidActionSampler",
    "decode_action",
    "encode_action",
    "evaluate",
    "experiment",
    "find_library",
    "held_out_config",
    "invalid_action_name",
    "maker_fee_cents",
    "obs_schema",
    "obs_schema_version",
    "size_table",
    "taker_fee_cents",
    "train",
    "validate_order",
]
