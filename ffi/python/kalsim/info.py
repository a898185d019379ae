"""`LazyInfo`: the SPEC §7 info of one step as a dict that is filled on first use.

Building a 20-key dict costs more than a kalsim step, and most training loops never read
it. A step keeps a copy of the library's fixed info struct (one memcpy); the dict is built
from it the first time anything reads or writes it, and from then on it is a plain dict.
"""

from __future__ import annotations

from typing import Any, Iterator

from .core import invalid_action_name

_MISSING = object()


def info_dict(info: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """SPEC §7 info (a ``kalsim_step_info``) as a dict, plus ``invalid_action_name``."""
    d = {name: getattr(info, name) for name in fields}
    d["invalid_action_name"] = invalid_action_name(info.invalid_action)
    return d


class LazyInfo(dict):  # type: ignore[type-arg]
    """A ``dict`` of the SPEC §7 fields (plus ``invalid_action_name``), filled from a
    ``kalsim_step_info`` copy on first access. Behaves as a dict in every respect
    (``json.dumps``, ``{**info}``, pickling, mutation by wrappers) once touched."""

    __slots__ = ("_src", "_fields")

    def __init__(self, src: Any, fields: tuple[str, ...]) -> None:
        # dict.__init__ is not called: the dict stays empty until `_fill`.
        self._src = src
        self._fields = fields

    def _make(self, src: Any) -> dict[str, Any]:
        return info_dict(src, self._fields)

    def _fill(self) -> None:
        src = self._src
        if src is not None:
            self._src = None
            dict.update(self, self._make(src))

    def __getitem__(self, key: Any) -> Any:
        self._fill()
        return dict.__getitem__(self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._fill()
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: Any) -> None:
        self._fill()
        dict.__delitem__(self, key)

    def __contains__(self, key: object) -> bool:
        self._fill()
        return dict.__contains__(self, key)

    def __iter__(self) -> Iterator[Any]:
        self._fill()
        return dict.__iter__(self)

    def __reversed__(self) -> Iterator[Any]:
        self._fill()
        return dict.__reversed__(self)  # type: ignore[no-any-return]

    def __len__(self) -> int:
        self._fill()
        return dict.__len__(self)

    def __eq__(self, other: object) -> bool:
        self._fill()
        if isinstance(other, LazyInfo):
            other._fill()
        return dict.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        self._fill()
        return dict.__repr__(self)

    def __or__(self, other: Any) -> Any:
        self._fill()
        return dict(self) | other

    def __ror__(self, other: Any) -> Any:
        self._fill()
        return other | dict(self)

    def __ior__(self, other: Any) -> "LazyInfo":
        self._fill()
        dict.update(self, other)
        return self

    def __reduce__(self) -> Any:
        self._fill()
        return (dict, (dict(self),))

    def __copy__(self) -> dict[str, Any]:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        import copy

        self._fill()
        return copy.deepcopy(dict(self), memo)

    def get(self, key: Any, default: Any = None) -> Any:
        self._fill()
        return dict.get(self, key, default)

    def keys(self) -> Any:
        self._fill()
        return dict.keys(self)

    def values(self) -> Any:
        self._fill()
        return dict.values(self)

    def items(self) -> Any:
        self._fill()
        return dict.items(self)

    def copy(self) -> dict[str, Any]:
        self._fill()
        return dict(dict.items(self))

    def pop(self, key: Any, default: Any = _MISSING) -> Any:
        self._fill()
        if default is _MISSING:
            return dict.pop(self, key)
        return dict.pop(self, key, default)

    def popitem(self) -> Any:
        self._fill()
        return dict.popitem(self)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self._fill()
        return dict.setdefault(self, key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._fill()
        dict.update(self, *args, **kwargs)

    def clear(self) -> None:
        self._src = None
        dict.clear(self)


class LazyInfoArrays(LazyInfo):
    """A vector env's infos: one array per SPEC §7 field (views into a structured array
    copied from the library: ``src.array()``, on first access at the latest), built on
    first access, plus the entries given eagerly (``action_mask``, final observations)."""

    __slots__ = ()

    def __init__(self, src: Any, fields: tuple[str, ...], **eager: Any) -> None:
        super().__init__(src, fields)
        if eager:
            dict.update(self, eager)

    def _make(self, src: Any) -> dict[str, Any]:
        array = src.array()
        return {name: array[name] for name in self._fields}
