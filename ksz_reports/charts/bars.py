"""Horizontal bar charts: a breakdown by category (:func:`chart_bars`) and the municipality
among its neighbours and the higher levels (:func:`chart_comparison`), both drawn by
:func:`_hbars`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection

from ksz_reports.charts.axes import (
    LEGEND_HEIGHT,
    _axis_label_below,
    _grid,
    _labels_below,
    _labels_left,
    _legend_row,
    _x_axis_height,
    chart_canvas,
    set_margins,
    shifted,
    value_ticks,
)
from ksz_reports.charts.points import (
    _cell,
    _label,
    _not_shown_note,
    _Point,
    point,
    records,
    unit_label,
)
from ksz_reports.charts.result import Chart, finish
from ksz_reports.charts.style import (
    ACCENT,
    GREY,
    GREY_DARK,
    TEXT_COLOR,
    TICK_PAD,
    TICK_SIZE,
    VALUE_SIZE,
    _series_styles,
    chart_style,
    text_width,
)
from ksz_reports.l10n import UNRELIABLE, NumberStyle, flag_symbol, gettext, ngettext


def _hbars(
    ax: Axes,
    labels: Sequence[str],
    groups: Sequence[Sequence[_Point | None]],
    colors: Sequence[Sequence[str]],
    kind: str,
    lang: str,
    style: NumberStyle | None,
    bold: str | None = None,
) -> list[tuple[str, str]]:
    """Horizontal bars, categories top to bottom; ``groups[g][i]`` is series g of category i.

    Each shown value is a bar with its value written at its end; a hidden one has no bar and its
    symbol at zero. Bars are polygons of one collection (a hatched one for ``unreliable``
    values). Returns the ``(series, key)`` pairs that were plotted.
    """
    n_groups = len(groups)
    height = 0.8 / n_groups
    plotted: list[tuple[str, str]] = []
    values = [p.value for g in groups for p in g if p is not None and p.shown]
    span = (max([0.0, *values]) - min([0.0, *values])) or 1.0
    right_of = shifted(ax, ax.transData, dx=3)
    left_of = shifted(ax, ax.transData, dx=-3)
    bars: dict[bool, tuple[list[Any], list[str]]] = {False: ([], []), True: ([], [])}
    for g, group in enumerate(groups):
        offset = (g - (n_groups - 1) / 2) * height
        for i, p in enumerate(group):
            y = i + offset
            if p is not None and p.shown:
                value = float(p.value)  # type: ignore[arg-type]
                low, high = y - height * 0.46, y + height * 0.46
                vertices, face = bars[p.flag == UNRELIABLE]
                vertices.append([(0, low), (0, high), (value, high), (value, low)])
                face.append(colors[g][i])
                ax.text(
                    value,
                    y,
                    _cell(p, kind, lang, style),
                    transform=right_of if value >= 0 else left_of,
                    va="center",
                    ha="left" if value >= 0 else "right",
                    fontsize=VALUE_SIZE,
                    color=TEXT_COLOR,
                    label="value",
                )
                plotted.append((p.series, p.key))
            else:
                ax.text(
                    0.0,
                    y,
                    flag_symbol(p.flag if p else "not_available"),
                    transform=right_of,
                    va="center",
                    ha="left",
                    fontsize=TICK_SIZE,
                    fontweight="bold",
                    color=GREY_DARK,
                    label="symbol",
                )
    for hatched, (vertices, face) in bars.items():
        if vertices:
            collection = PolyCollection(
                vertices, facecolors=face, edgecolors="none", linewidths=0, zorder=2
            )
            if hatched:
                collection.set_hatch("////")
                collection.set_hatchcolor("white")
            ax.add_collection(collection, autolim=False)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    low, high = min([0.0, *values]), max([0.0, *values])
    ax.set_xlim(low - (0.12 * span if low < 0 else 0), high + 0.14 * span)
    ax.axvline(0, color=GREY_DARK, linewidth=0.6, zorder=3)
    ticks = value_ticks(*ax.get_xlim(), kind, lang, style)
    _grid(ax, "x", (v for v, _t in ticks if v != 0))
    _labels_below(ax, ticks)
    _labels_left(ax, list(enumerate(labels)), bold=bold)
    return plotted


#: Vertical pitch of a bar chart category (mm): one bar, and each further series of a group.
BAR_PITCH_MM = 4.6
GROUP_PITCH_MM = 2.6


def _bar_height(n_categories: int, n_groups: int = 1) -> float:
    """Figure height (mm) of a bar chart: the categories, the x axis and (grouped) the legend."""
    fixed_pt = _x_axis_height(with_label=True) + 4 + (LEGEND_HEIGHT if n_groups > 1 else 6.0)
    return fixed_pt / 72 * 25.4 + n_categories * (BAR_PITCH_MM + GROUP_PITCH_MM * (n_groups - 1))


def _bar_margins(ax: Axes, labels: Sequence[str], bold: str | None, legend: bool) -> None:
    """Margins of a horizontal bar chart: as wide as its longest category label."""
    widest = max((text_width(lab, TICK_SIZE, lab == bold) for lab in labels), default=0.0)
    set_margins(
        ax,
        left=widest + TICK_PAD + 4,
        bottom=_x_axis_height(with_label=True) + 4,
        right=6.0,
        top=LEGEND_HEIGHT if legend else 6.0,
    )


def chart_bars(
    data: Any,
    *,
    title: str,
    lang: str,
    kind: str = "rate_per_1000",
    x_label: str | None = None,
    highlight: str | None = None,
    chart_id: str | None = None,
    alt: str | None = None,
    png: bool = False,
    style: NumberStyle | None = None,
) -> Chart:
    """A breakdown by category (sex, age class, household type, …) as horizontal bars.

    Rows: ``category`` (label), ``value``, ``flag``, and optionally ``series`` (e.g. the
    municipality and the region side by side: grouped bars with a legend). Categories keep the
    order of the rows. ``highlight`` names the series in the accent colour (default: the first).
    A hidden value has no bar, its symbol stands at zero.
    """
    rows = records(data)
    categories = list(dict.fromkeys(str(r["category"]) for r in rows))
    names = list(dict.fromkeys(str(r.get("series", "")) for r in rows))
    points: dict[tuple[str, str], _Point] = {}
    for r in rows:
        key = (str(r.get("series", "")), str(r["category"]))
        if key in points:
            raise ValueError(f"duplicate bar {key}")
        points[key] = point(r, *key)
    styles = _series_styles(names, highlight)

    with chart_style():
        fig, ax = chart_canvas(_bar_height(len(categories), len(names)))
        groups = [[points.get((n, c)) for c in categories] for n in names]
        colors = [[styles[n]["color"]] * len(categories) for n in names]
        plotted = _hbars(
            ax,
            categories,
            groups,
            colors,
            kind,
            lang,
            style,
        )
        _axis_label_below(ax, x_label if x_label is not None else unit_label(kind, lang))
        if len(names) > 1:
            # every series, even one whose values are all hidden
            _legend_row(ax, [(n, styles[n]) for n in names], bars=True)
        _bar_margins(ax, categories, None, legend=len(names) > 1)
        _ = gettext(lang)
        return finish(
            fig,
            family="bars",
            chart_id=chart_id,
            title=title,
            alt=alt or None,  # an empty alt text is written from the data, as a missing one
            describe=lambda: _alt_bars(title, lang, kind, style, names, categories, points),
            columns=(_("Category"), *(names if len(names) > 1 else [unit_label(kind, lang)])),
            rows=(
                (c, *(_cell(points.get((n, c)), kind, lang, style) for n in names))
                for c in categories
            ),
            png=png,
            flags=(p.flag for p in points.values()),
            plotted=plotted,
        )


def _alt_bars(
    title: str,
    lang: str,
    kind: str,
    style: NumberStyle | None,
    names: Sequence[str],
    categories: Sequence[str],
    points: Mapping[tuple[str, str], _Point],
) -> str:
    _ = gettext(lang)
    _n = ngettext(lang)
    n = len(categories)
    parts = [
        _n(
            "%(title)s. Bar chart of %(n)s category.",
            "%(title)s. Bar chart of %(n)s categories.",
            n,
        )
        % {"title": title, "n": str(n)}
    ]
    for name in names:
        shown = [
            points[(name, c)] for c in categories if (name, c) in points and points[(name, c)].shown
        ]
        if not shown:
            continue
        hi = max(shown, key=lambda p: p.value)  # type: ignore[arg-type, return-value]
        lo = min(shown, key=lambda p: p.value)  # type: ignore[arg-type, return-value]
        prefix = f"{name}: " if name else ""
        parts.append(
            prefix
            + _("highest %(high_category)s (%(high)s), lowest %(low_category)s (%(low)s).")
            % {
                "high_category": hi.key,
                "high": _label(hi, kind, lang, style),
                "low_category": lo.key,
                "low": _label(lo, kind, lang, style),
            }
        )
    return " ".join(parts) + _not_shown_note(lang, points.values())


# --------------------------------------------------------------------------- chart_comparison

#: Comparison levels that are aggregates (drawn dark), as against municipalities.
AGGREGATE_LEVELS = frozenset({"arrondissement", "province", "region", "country"})


def chart_comparison(
    data: Any,
    *,
    title: str,
    lang: str,
    highlight: str,
    kind: str = "rate_per_1000",
    x_label: str | None = None,
    chart_id: str | None = None,
    alt: str | None = None,
    png: bool = False,
    style: NumberStyle | None = None,
) -> Chart:
    """The municipality among its neighbours and the higher levels (horizontal bars).

    Rows: ``label``, ``value``, ``flag`` and optionally ``level`` (``municipality``,
    ``neighbour``, ``arrondissement``, ``province``, ``region``, ``country``); rows keep their
    order. ``highlight`` is the label of the report's municipality (accent colour, bold label);
    other municipalities are light, aggregates dark.
    """
    rows = records(data)
    labels = [str(r["label"]) for r in rows]
    if len(set(labels)) != len(labels):
        raise ValueError("duplicate labels in a comparison chart")
    if highlight not in labels:
        raise ValueError(f"highlight {highlight!r} is not among the labels")
    pts = [point(r, "", str(r["label"])) for r in rows]
    colors = [
        ACCENT
        if lab == highlight
        else GREY_DARK
        if str(r.get("level", "")) in AGGREGATE_LEVELS
        else GREY
        for lab, r in zip(labels, rows, strict=True)
    ]
    with chart_style():
        fig, ax = chart_canvas(_bar_height(len(labels)))
        plotted = _hbars(ax, labels, [pts], [colors], kind, lang, style, bold=highlight)
        me = pts[labels.index(highlight)]
        if me.shown:
            # A guide at the municipality's value, behind the bars: compare without a ruler.
            ax.axvline(me.value, color=ACCENT, linewidth=0.6, linestyle=(0, (3, 2)), zorder=0.5)
        first_aggregate = next(
            (i for i, r in enumerate(rows) if str(r.get("level", "")) in AGGREGATE_LEVELS), None
        )
        if first_aggregate:
            # municipalities above, the areas that contain them below
            ax.axhline(first_aggregate - 0.5, color=GREY_DARK, linewidth=0.5, zorder=0.5)
        _axis_label_below(ax, x_label if x_label is not None else unit_label(kind, lang))
        _bar_margins(ax, labels, highlight, legend=False)
        _ = gettext(lang)
        return finish(
            fig,
            family="comparison",
            chart_id=chart_id,
            title=title,
            alt=alt,
            describe=lambda: _alt_comparison(title, lang, kind, style, highlight, pts),
            columns=(_("Area"), unit_label(kind, lang)),
            rows=((p.key, _cell(p, kind, lang, style)) for p in pts),
            png=png,
            flags=(p.flag for p in pts),
            plotted=plotted,
        )


def _alt_comparison(
    title: str,
    lang: str,
    kind: str,
    style: NumberStyle | None,
    highlight: str,
    pts: Sequence[_Point],
) -> str:
    _ = gettext(lang)
    me = next(p for p in pts if p.key == highlight)
    others = [p for p in pts if p.key != highlight and p.shown]
    text = _("%(title)s. Bar chart comparing %(n)s areas.") % {
        "title": title,
        "n": str(len(pts)),
    }
    mine = _label(me, kind, lang, style) if me.shown else flag_symbol(me.flag)
    text += " " + _("%(name)s: %(value)s.") % {"name": highlight, "value": mine}
    if others:
        lo = min(others, key=lambda p: p.value)  # type: ignore[arg-type, return-value]
        hi = max(others, key=lambda p: p.value)  # type: ignore[arg-type, return-value]
        text += " " + _("Others from %(low)s (%(low_name)s) to %(high)s (%(high_name)s).") % {
            "low": _label(lo, kind, lang, style),
            "low_name": lo.key,
            "high": _label(hi, kind, lang, style),
            "high_name": hi.key,
        }
    return text + _not_shown_note(lang, pts)
