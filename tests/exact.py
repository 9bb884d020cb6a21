"""Reference computations in exact rational arithmetic: the oracle for the compiled fits."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction


def exact_slope(t: Sequence[float], y: Sequence[float]) -> Fraction:
    """Least-squares slope of the given doubles, computed exactly."""
    tf = [Fraction(v) for v in t]
    yf = [Fraction(v) for v in y]
    n = len(tf)
    mt = sum(tf) / n
    my = sum(yf) / n
    sxy = sum((a - mt) * (b - my) for a, b in zip(tf, yf, strict=True))
    sxx = sum((a - mt) ** 2 for a in tf)
    return sxy / sxx


def naive_slope(t: Sequence[float], y: Sequence[float]) -> float:
    """The textbook one-pass formula in doubles: what fails on epoch time stamps."""
    n = len(t)
    st = sum(t)
    sy = sum(y)
    stt = sum(a * a for a in t)
    sty = sum(a * b for a, b in zip(t, y, strict=True))
    return (n * sty - st * sy) / (n * stt - st * st)


def exact_residual_sums(t: Sequence[float], y: Sequence[float]) -> tuple[Fraction, Fraction]:
    """The least-squares line's residual sum of squares and lag-1 sum (consecutive samples), exactly."""
    tf = [Fraction(v) for v in t]
    yf = [Fraction(v) for v in y]
    n = len(tf)
    mt = sum(tf) / n
    my = sum(yf) / n
    b = sum((a - mt) * (c - my) for a, c in zip(tf, yf, strict=True)) / sum((a - mt) ** 2 for a in tf)
    r = [(c - my) - b * (a - mt) for a, c in zip(tf, yf, strict=True)]
    return sum(v * v for v in r), sum(r[i] * r[i + 1] for i in range(n - 1))
