"""Exceptions: one `KalsimError` subclass per ``kalsim_status``."""

from __future__ import annotations


class KalsimError(Exception):
    """A kalsim library call failed. ``status`` is the ``kalsim_status`` code, ``message`` the
    library's detailed message (``kalsim_last_error``)."""

    status = -1

    def __init__(self, message: str, summary: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.summary = summary


class NullPointerError(KalsimError):
    status = 1


class InvalidArgumentError(KalsimError, ValueError):
    status = 2


class InvalidActionError(KalsimError, ValueError):
    status = 3


class ReservedActionError(KalsimError, ValueError):
    status = 4


class MaskedActionError(KalsimError, ValueError):
    status = 5


class ConfigError(KalsimError, ValueError):
    status = 6


class DataError(KalsimError):
    status = 7


class NotResetError(KalsimError, RuntimeError):
    status = 8


class EpisodeOverError(KalsimError, RuntimeError):
    status = 9


class BufferLengthError(KalsimError, ValueError):
    """``KALSIM_STATUS_BUFFER``: a buffer passed to the library is too short (the message names
    it, with the required and the given length). Not the builtin ``BufferError``."""

    status = 10


class PolicyError(KalsimError):
    status = 11


class PanicError(KalsimError):
    status = 12


class RunError(KalsimError, RuntimeError):
    """``KALSIM_STATUS_RUN``: a training, evaluation or experiment run failed while running
    (a file that could not be written, a failing environment)."""

    status = 13


_BY_STATUS = {
    cls.status: cls
    for cls in (
        NullPointerError,
        InvalidArgumentError,
        InvalidActionError,
        ReservedActionError,
        MaskedActionError,
        ConfigError,
        DataError,
        NotResetError,
        EpisodeOverError,
        BufferLengthError,
        PolicyError,
        PanicError,
        RunError,
    )
}


def error_for(status: int, summary: str, message: str) -> KalsimError:
    cls = _BY_STATUS.get(status, KalsimError)
    err = cls(message or summary, summary)
    if cls is KalsimError:
        err.status = status
    return err
