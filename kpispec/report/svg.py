"""Inline SVG charts: sparklines, bullet graphs, series charts and status badges.

No JavaScript chart library: every chart is a small SVG string with a ``<title>`` and an
``aria-label`` (the text alternative), drawn from the results only. Numbers are
rounded to two decimals so that output is stable and small.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from html import escape

from kpispec.results.model import Status

STATUS_COLOR = {  # Okabe-Ito, a colour-blind-safe palette
    Status.MET: "#009E73",
    Status.AT_RISK: "#E69F00",
    Status.MISSED: "#D55E00",
    Status.NO_DATA: "#999999",
    Status.NO_TARGET: "#56B4E9",
}
#: A shape per status, so that colour is never the only cue.
STATUS_SHAPE = {
    Status.MET: "●",
    Status.AT_RISK: "▲",
    Status.MISSED: "■",
    Status.NO_DATA: "○",
    Status.NO_TARGET: "◆",
}


def _n(x: float) -> str:
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class Scale:
    """Maps values to pixels (y grows downwards)."""

    def __init__(self, values: Sequence[float], top: float, bottom: float) -> None:
        lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
        # Halves, so that no difference overflows however large the values are (1e308).
        self.center = lo / 2 + hi / 2
        half = hi / 2 - lo / 2
        if not half > abs(self.center) * 1e-12:  # one value (or too close to tell apart)
            half = max(1.0, abs(self.center) * 1e-6)
        self.half = half  # shown with 8 % of the range as padding on either side
        self.top, self.bottom = top, bottom

    @property
    def lo(self) -> float:
        return max(self.center - self.half * 1.16, -sys.float_info.max)

    @property
    def hi(self) -> float:
        return min(self.center + self.half * 1.16, sys.float_info.max)

    def y(self, value: float) -> float:
        fraction = 0.5 + (value / 2 - self.center / 2) / self.half / 1.16
        return self.bottom - fraction * (self.bottom - self.top)


def _svg(width: int, height: int, label: str, body: str, cls: str) -> str:
    text = escape(label)
    return (
        f'<svg class="{cls}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{text}"><title>{text}</title>{body}</svg>'
    )


def _polyline(points: list[tuple[float, float]], cls: str) -> str:
    """Separate polylines for runs of known values (a null breaks the line)."""
    return f'<polyline class="{cls}" points="{" ".join(f"{_n(x)},{_n(y)}" for x, y in points)}"/>'


def _runs(
    xs: list[float], values: Sequence[float | None], scale: Scale
) -> list[list[tuple[float, float]]]:
    runs: list[list[tuple[float, float]]] = [[]]
    for x, v in zip(xs, values, strict=True):
        if v is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((x, scale.y(v)))
    return [r for r in runs if r]


def sparkline(values: Sequence[float | None], bounds: Sequence[float | None], label: str) -> str:
    """A small trend line with the target line (the bound in force) behind it."""
    width, height, pad = 120, 32, 3
    known = [v for v in [*values, *bounds] if v is not None]
    scale = Scale(known, pad, height - pad)
    n = max(len(values) - 1, 1)
    xs = [pad + i * (width - 2 * pad) / n for i in range(len(values))]
    body = (
        [_polyline(run, "target") for run in _runs(xs, bounds, scale) if len(run) > 1]
        if bounds
        else []
    )
    for run in _runs(xs, values, scale):
        body.append(
            _polyline(run, "line")
            if len(run) > 1
            else f'<circle class="dot" cx="{_n(run[0][0])}" cy="{_n(run[0][1])}" r="2"/>'
        )
    last = next(
        ((x, v) for x, v in zip(reversed(xs), reversed(values), strict=True) if v is not None), None
    )
    if last is not None:
        body.append(f'<circle class="dot" cx="{_n(last[0])}" cy="{_n(scale.y(last[1]))}" r="2.5"/>')
    return _svg(width, height, label, "".join(body), "spark")


def bullet(
    value: float | None,
    lo: float | None,
    hi: float | None,
    band_lo: float | None,
    band_hi: float | None,
    status: Status,
    label: str,
) -> str:
    """A bullet graph: the tolerance band, the bound and the value on one horizontal scale."""
    width, height = 160, 22
    known = [v for v in (value, lo, hi, band_lo, band_hi) if v is not None]
    if not known:
        return _svg(width, height, label, "", "bullet")
    low, high = min(0.0, *known), max(known)
    half = high / 2 - low / 2  # halves: no difference overflows, even of ±1.8e308
    if not half > max(abs(low), abs(high)) * 1e-12:  # one value, or too close to tell apart
        half = max(0.5, abs(low) * 1e-6)

    def x(v: float) -> float:  # with 10 % of room to the right (half * 1.1 could overflow)
        return 2 + (v / 2 - low / 2) / half / 1.1 * (width - 4)

    body = ['<rect class="track" x="2" y="7" width="156" height="8" rx="2"/>']
    if lo is not None and band_lo is not None and band_lo < lo:
        body.append(
            f'<rect class="band" x="{_n(x(band_lo))}" y="7" width="{_n(x(lo) - x(band_lo))}" height="8"/>'
        )
    if hi is not None and band_hi is not None and band_hi > hi:
        body.append(
            f'<rect class="band" x="{_n(x(hi))}" y="7" width="{_n(x(band_hi) - x(hi))}" height="8"/>'
        )
    if value is not None:
        body.append(
            f'<rect class="value {status}" x="2" y="9" width="{_n(max(x(value) - 2, 1))}" height="4"/>'
        )
    for bound in (lo, hi):
        if bound is not None:
            body.append(f'<rect class="bound" x="{_n(x(bound) - 1)}" y="3" width="2" height="16"/>')
    return _svg(width, height, label, "".join(body), "bullet")


def series_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    band_lows: Sequence[float | None],
    band_highs: Sequence[float | None],
    label: str,
    value_text: Sequence[str],
    tick_text: Callable[[float, int], str] | None = None,
) -> str:
    """The KPI page's chart: the series, the bound in force (a glide path is a slope), the band.

    ``tick_text(value, decimals)`` formats the axis numbers (in the reader's locale).
    """
    width, height = 640, 220
    left, right, top, bottom = 56, 32, 12, 190
    known = [
        v for seq in (values, lows, highs, band_lows, band_highs) for v in seq if v is not None
    ]
    scale = Scale(known, top, bottom)
    n = max(len(values) - 1, 1)
    xs = [left + i * (width - left - right) / n for i in range(len(values))]
    body = [f'<line class="axis" x1="{left}" y1="{bottom}" x2="{width - right}" y2="{bottom}"/>']
    ticks, decimals = nice_ticks(scale.lo, scale.hi)
    for v in ticks:  # gridlines at round numbers, with their values
        y = scale.y(v)
        text = tick_text(v, decimals) if tick_text else _short(v)
        body.append(
            f'<line class="grid" x1="{left}" y1="{_n(y)}" x2="{width - right}" y2="{_n(y)}"/>'
        )
        body.append(
            f'<text class="tick" x="{left - 6}" y="{_n(y + 4)}" text-anchor="end">{escape(text)}</text>'
        )
    for outer, inner in ((band_lows, lows), (highs, band_highs)):
        polygon = _band(xs, outer, inner, scale)
        if polygon:
            body.append(polygon)
    for seq in (lows, highs):
        body.extend(_polyline(run, "target") for run in _runs(xs, seq, scale) if len(run) > 1)
    for run in _runs(xs, values, scale):
        if len(run) > 1:
            body.append(_polyline(run, "line"))
    for x, point, text in zip(xs, values, value_text, strict=True):
        if point is not None:
            body.append(
                f'<circle class="dot" cx="{_n(x)}" cy="{_n(scale.y(point))}" r="3"><title>{escape(text)}</title></circle>'
            )
    step = max(1, (len(labels) + 5) // 6)
    for i, (x, text) in enumerate(zip(xs, labels, strict=True)):
        if (len(labels) - 1 - i) % step == 0:  # counted from the last, which is always labelled
            body.append(
                f'<text class="tick" x="{_n(x)}" y="{bottom + 18}" text-anchor="middle">{escape(text)}</text>'
            )
    return _svg(width, height, label, "".join(body), "chart")


def _band(
    xs: list[float], a: Sequence[float | None], b: Sequence[float | None], scale: Scale
) -> str:
    pts = [
        (x, lo, hi)
        for x, lo, hi in zip(xs, a, b, strict=True)
        if lo is not None and hi is not None and hi != lo
    ]
    if len(pts) < 2:
        return ""
    upper = [f"{_n(x)},{_n(scale.y(hi))}" for x, _, hi in pts]
    lower = [f"{_n(x)},{_n(scale.y(lo))}" for x, lo, _ in reversed(pts)]
    return f'<polygon class="band" points="{" ".join(upper + lower)}"/>'


def nice_ticks(lo: float, hi: float, count: int = 4) -> tuple[list[float], int]:
    """Round values between ``lo`` and ``hi`` (1, 2, 2.5 or 5 times a power of ten) and the
    decimals they need."""
    raw = hi / count - lo / count  # (hi - lo) / count, without overflow
    if raw <= 0 or not math.isfinite(raw):
        return [lo], 0
    magnitude = 10 ** math.floor(math.log10(raw))
    step = float(next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw))
    first = math.ceil(lo / step)
    ticks: list[float] = []
    k = first
    limit = min(hi + step * 1e-9, sys.float_info.max)  # hi + a rounding error, still finite
    while k * step <= limit and len(ticks) <= 2 * count + 2:
        value = k * step
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        k += 1
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) + (
        1 if step / magnitude == 2.5 and magnitude < 10 else 0
    )
    return ticks, decimals


def _short(v: float) -> str:
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= limit:
            return f"{v / limit:.1f}{suffix}"
    return f"{v:.3g}"


def badge(left: str, right: str, status: Status) -> str:
    """A shields-style badge: ``kpi | ● met``, for READMEs."""
    lw = 6 * len(left) + 12
    rw = 6 * len(right) + 12
    w = lw + rw
    color = STATUS_COLOR[status]
    label = escape(f"{left}: {right}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" aria-label="{label}">'
        f"<title>{label}</title>"
        f'<rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{rw}" height="20" fill="{color}"/>'
        f'<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{lw / 2:.0f}" y="14" text-anchor="middle">{escape(left)}</text>'
        f'<text x="{lw + rw / 2:.0f}" y="14" text-anchor="middle">{escape(right)}</text></g></svg>\n'
    )
