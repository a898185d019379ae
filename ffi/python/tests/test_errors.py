import pytest

import kalsim
from conftest import SMALL


def test_malformed_config_raises_with_message():
    with pytest.raises(kalsim.ConfigError, match="invalid JSON"):
        kalsim.KalsimEnv('{"sizes": [5,')
    with pytest.raises(kalsim.ConfigError, match="no_such_key"):
        kalsim.KalsimEnv({"no_such_key": 1})


def test_missing_data_file_raises_data_error():
    with pytest.raises(kalsim.DataError, match="nonexistent"):
        kalsim.KalsimEnv({"data": {"files": ["/nonexistent/capture.jsonl"]}})


def test_step_before_reset_and_after_end():
    env = kalsim.KalsimEnv(SMALL)
    with pytest.raises(kalsim.NotResetError, match="before reset"):
        env.step(0)
    env.reset(seed=1)
    done = False
    while not done:
        _, _, t, tr, _ = env.step(0)
        done = t or tr
    with pytest.raises(kalsim.EpisodeOverError):
        env.step(0)


def test_out_of_range_actions():
    env = kalsim.KalsimEnv(SMALL)
    env.reset(seed=1)
    for bad in (25, 1000, -1, 2**40):
        with pytest.raises(kalsim.InvalidActionError):
            env.step(bad)


def test_strict_mode_masked_and_reserved():
    env = kalsim.KalsimEnv({"invalid_action": "error", "initial_cash_cents": 5000, **SMALL})
    env.reset(seed=3)
    with pytest.raises(kalsim.ReservedActionError, match="reserved"):
        env.step(21)
    with pytest.raises(kalsim.MaskedActionError, match="masked"):
        env.step(5)


def test_codec_errors():
    with pytest.raises(kalsim.ReservedActionError):
        kalsim.decode_action(22)
    with pytest.raises(kalsim.InvalidActionError):
        kalsim.decode_action(25)
    with pytest.raises(kalsim.InvalidArgumentError, match="intent 7"):
        kalsim.encode_action(7, 0)
    with pytest.raises(kalsim.InvalidArgumentError, match="price 0"):
        kalsim.taker_fee_cents(1, 0)


def test_errors_are_kalsim_errors():
    with pytest.raises(kalsim.KalsimError) as e:
        kalsim.KalsimEnv("{")
    assert e.value.status == 6 and e.value.message
