"""Build an options dataclass from the parsed flags where a flag and a field share their name.

`loadtest` and `render` hand their flags to a dataclass (RunOptions, TemplateRequest) whose
fields mostly carry the flags' own names; copying those one by one repeated `x=args.x` for every
field. The caller still spells out each field it computes (a renamed, negated or derived flag),
so what is copied as is and what is not stays visible at the call. The leading underscore keeps
this module out of the command list.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def dataclass_from_args(cls: type[T], args: argparse.Namespace, **computed: Any) -> T:
    """`cls(**computed)` plus every other init field of `cls` that `args` holds under its name.

    A field that neither `computed` nor `args` gives keeps its default; naming in `computed` a
    field `cls` does not have is a TypeError, as it would be calling `cls` directly.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"dataclass_from_args: {cls!r} is not a dataclass; pass the options dataclass")
    copied = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(cls)
        if f.init and f.name not in computed and hasattr(args, f.name)
    }
    return cls(**copied, **computed)
