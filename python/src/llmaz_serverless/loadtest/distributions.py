"""Length distributions for prompts and outputs, written as short strings.

Real traffic has a long tail of long prompts, so a load test with one fixed
length hides prefill cost and cold-start warmup gaps. A spec string keeps the
choice readable on the command line and in the run metadata:

    fixed:128
    uniform:32,512                    (inclusive bounds)
    normal:256,64[,min=8,max=2048]    (mean, standard deviation)
    lognormal:median=200,sigma=0.8[,min=8,max=4096]

Every draw is an int >= 1, clipped to [min, max] when given.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

KINDS = ("fixed", "uniform", "normal", "lognormal")


class LengthSpecError(ValueError):
    """A length spec string that cannot be parsed; the message says how to write it."""


@dataclass(frozen=True)
class LengthDistribution:
    kind: str
    a: float
    b: float = 0.0
    lo: int = 1
    hi: int | None = None

    def sample(self, rng: random.Random) -> int:
        if self.kind == "fixed":
            value = self.a
        elif self.kind == "uniform":
            value = rng.randint(int(self.a), int(self.b))
        elif self.kind == "normal":
            value = rng.gauss(self.a, self.b)
        else:  # lognormal: a = median, b = sigma of the underlying normal
            value = rng.lognormvariate(math.log(self.a), self.b)
        value = max(self.lo, round(value))
        if self.hi is not None:
            value = min(self.hi, value)
        return int(value)

    def __str__(self) -> str:
        bounds = f",min={self.lo}" if self.lo != 1 else ""
        bounds += f",max={self.hi}" if self.hi is not None else ""
        if self.kind == "fixed":
            return f"fixed:{int(self.a)}"
        if self.kind == "uniform":
            return f"uniform:{int(self.a)},{int(self.b)}"
        if self.kind == "normal":
            return f"normal:{self.a:g},{self.b:g}{bounds}"
        return f"lognormal:median={self.a:g},sigma={self.b:g}{bounds}"


_HELP = (
    "write fixed:N, uniform:LO,HI, normal:MEAN,STD[,min=..,max=..] "
    "or lognormal:median=M,sigma=S[,min=..,max=..]"
)


def parse_length(spec: str) -> LengthDistribution:
    """Parse a length spec; raises LengthSpecError naming the bad part and the accepted forms."""
    kind, sep, rest = spec.strip().partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in KINDS:
        raise LengthSpecError(f"length spec {spec!r}: unknown kind {kind!r}; {_HELP}")
    positional: list[float] = []
    named: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, val = part.partition("=")
        try:
            if eq:
                named[key.strip().lower()] = float(val)
            else:
                positional.append(float(part))
        except ValueError:
            raise LengthSpecError(f"length spec {spec!r}: {part!r} is not a number; {_HELP}") from None
    unknown = set(named) - {"median", "sigma", "min", "max", "mean", "std"}
    if unknown:
        raise LengthSpecError(f"length spec {spec!r}: unknown parameter(s) {sorted(unknown)}; {_HELP}")
    lo = int(named.get("min", 1))
    hi = int(named["max"]) if "max" in named else None
    if lo < 1 or (hi is not None and hi < lo):
        raise LengthSpecError(f"length spec {spec!r}: need 1 <= min <= max; {_HELP}")

    def need(count: int) -> list[float]:
        if len(positional) != count:
            raise LengthSpecError(f"length spec {spec!r}: {kind} takes {count} number(s); {_HELP}")
        return positional

    if kind == "fixed":
        (n,) = need(1)
        if n < 1:
            raise LengthSpecError(f"length spec {spec!r}: the length must be >= 1")
        return LengthDistribution("fixed", n)
    if kind == "uniform":
        a, b = need(2)
        if not 1 <= a <= b:
            raise LengthSpecError(f"length spec {spec!r}: need 1 <= LO <= HI")
        return LengthDistribution("uniform", a, b)
    if kind == "normal":
        mean = named.get("mean")
        std = named.get("std")
        if mean is None or std is None:
            mean, std = need(2)
        if std < 0:
            raise LengthSpecError(f"length spec {spec!r}: the standard deviation must be >= 0")
        return LengthDistribution("normal", mean, std, lo, hi)
    median = named.get("median", positional[0] if positional else None)
    sigma = named.get("sigma", positional[1] if len(positional) > 1 else None)
    if median is None or sigma is None or median <= 0 or sigma < 0:
        raise LengthSpecError(f"length spec {spec!r}: lognormal needs median > 0 and sigma >= 0; {_HELP}")
    return LengthDistribution("lognormal", median, sigma, lo, hi)
