"""Line charts: the evolution of a value over periods, the municipality against region and
Belgium (:func:`chart_series`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ksz_reports.charts.axes import (
    LEGEND_HEIGHT,
    _axis_label_left,
    _grid,
    _labels_below,
    _labels_left,
    _legend_row,
    _tick_width,
    _x_axis_height,
    _y_axis_width,
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
from ksz_reports.charts.style import GREY_DARK, TICK_SIZE, _series_styles, chart_style
from ksz_reports.l10n import UNRELIABLE, NumberStyle, flag_symbol, fmt_period, gettext


def chart_series(
    data: Any,
    *,
    title: str,
    lang: str,
    kind: str = "rate_per_1000",
    highlight: str | None = None,
    y_label: str | None = None,
    chart_id: str | None = None,
    alt: str | None = None,
    png: bool = False,
    style: NumberStyle | None = None,
    height_mm: float = 62.0,
) -> Chart:
    """Evolution over periods: the municipality against region and Belgium (lines).

    Rows: ``series`` (label, e.g. "Gent"), ``period`` (canonical: ``2021``, ``2021Q4``,
    ``2021-10``), ``value``, ``flag``. ``highlight`` is the series drawn in the accent colour
    (default: the first). A hidden value breaks the line and shows its symbol above the axis.
    """
    rows = records(data)
    series_names = list(dict.fromkeys(str(r["series"]) for r in rows))
    periods = sorted({str(r["period"]) for r in rows})
    if len({len(p) for p in periods}) > 1:
        raise ValueError(f"periods of different frequencies in one series chart: {periods}")
    pos = {p: i for i, p in enumerate(periods)}
    points: dict[tuple[str, str], _Point] = {}
    for r in rows:
        key = (str(r["series"]), str(r["period"]))
        if key in points:
            raise ValueError(f"duplicate point {key}")
        points[key] = point(r, *key)
    styles = _series_styles(series_names, highlight)
    period_labels = [fmt_period(p, lang) for p in periods]
    plotted: list[tuple[str, str]] = []

    with chart_style():
        fig, ax = chart_canvas(height_mm)
        for s_index, name in enumerate(series_names):
            line = styles[name]
            ys = [points[(name, p)].value if (name, p) in points else None for p in periods]
            y = [math.nan if v is None else v for v in ys]
            ax.plot(range(len(periods)), y, label=name, markerfacecolor=line["color"], **line)
            unreliable = [
                (pos[p], points[(name, p)].value)
                for p in periods
                if (name, p) in points and points[(name, p)].flag == UNRELIABLE
            ]
            if unreliable:
                xs, us = zip(*unreliable, strict=True)
                ax.plot(
                    xs,
                    us,
                    linestyle="none",
                    marker=line["marker"],
                    color=line["color"],
                    markerfacecolor="white",
                    zorder=5,
                )
            # the symbols of a series' gaps, one row per series just above the x axis
            symbol_at = shifted(ax, ax.get_xaxis_transform(), dy=3 + 8 * s_index)
            for p in periods:
                pt = points.get((name, p))
                if pt is not None and pt.shown:
                    plotted.append((name, p))
                else:
                    ax.text(
                        pos[p],
                        0.0,
                        flag_symbol(pt.flag if pt else "not_available"),
                        transform=symbol_at,
                        ha="center",
                        va="bottom",
                        color=line["color"],
                        fontsize=TICK_SIZE,
                        fontweight="bold",
                        label="symbol",
                    )
        ax.set_xlim(-0.5, len(periods) - 0.5)
        shown = [p.value for p in points.values() if p.shown]
        if shown and min(shown) >= 0:
            ax.set_ylim(bottom=0, top=max(shown) * 1.08 if max(shown) > 0 else 1)
        ax.set_ylim(*ax.get_ylim())  # fixed: the ticks are computed from these limits
        ticks = value_ticks(*ax.get_ylim(), kind, lang, style)
        _grid(ax, "y", (v for v, _t in ticks if v != 0))
        # the x axis line, or the zero line when values go below it
        ax.axhline(
            0 if shown and min(ax.get_ylim()) < 0 else ax.get_ylim()[0],
            color=GREY_DARK,
            linewidth=0.6,
            zorder=1,
        )
        _labels_below(ax, _axis_labels(periods, period_labels, lang))
        _labels_left(ax, ticks)
        _axis_label_left(
            ax, y_label if y_label is not None else unit_label(kind, lang), _tick_width(ticks)
        )
        legend = len(series_names) > 1
        if legend:
            _legend_row(ax, [(name, styles[name]) for name in series_names], bars=False)
        set_margins(
            ax,
            left=_y_axis_width(ticks, with_label=True) + 2,
            bottom=_x_axis_height(with_label=False) + 2,
            top=LEGEND_HEIGHT if legend else 6.0,
        )

        _ = gettext(lang)
        return finish(
            fig,
            family="series",
            chart_id=chart_id,
            title=title,
            alt=alt or None,  # an empty alt text is written from the data, as a missing one
            describe=lambda: _alt_series(title, lang, kind, style, series_names, periods, points),
            columns=(_("Period"), *series_names),
            rows=(
                (
                    period_labels[i],
                    *(_cell(points.get((name, p)), kind, lang, style) for name in series_names),
                )
                for i, p in enumerate(periods)
            ),
            png=png,
            flags=(p.flag for p in points.values()),
            plotted=plotted,
        )


def _axis_labels(periods: Sequence[str], labels: Sequence[str], lang: str) -> list:
    """The x-axis labels: at most about 12; a long run of months is labelled at January and
    July with the abbreviated month (``jan 2021``, ``jul 2021``)."""
    if periods and len(periods[0]) == 7 and len(periods) > 12:
        every = (1, 7) if len(periods) > 18 else (1, 4, 7, 10)
        return [
            (i, fmt_period(p, lang, short=True) if int(p[5:7]) in every else "")
            for i, p in enumerate(periods)
        ]
    step = max(1, math.ceil(len(periods) / 12))
    return [(i, lab if i % step == 0 else "") for i, lab in enumerate(labels)]


def _alt_series(
    title: str,
    lang: str,
    kind: str,
    style: NumberStyle | None,
    names: Sequence[str],
    periods: Sequence[str],
    points: Mapping[tuple[str, str], _Point],
) -> str:
    _ = gettext(lang)
    parts = [
        _("%(title)s. Line chart, %(first)s to %(last)s.")
        % {
            "title": title,
            "first": fmt_period(periods[0], lang),
            "last": fmt_period(periods[-1], lang),
        }
    ]
    for name in names:
        shown = [
            points[(name, p)] for p in periods if (name, p) in points and points[(name, p)].shown
        ]
        if not shown:
            parts.append(_("%(series)s: no published values.") % {"series": name})
            continue
        first, last = shown[0], shown[-1]
        parts.append(
            _("%(series)s: %(first_value)s in %(first_period)s, %(last_value)s in %(last_period)s.")
            % {
                "series": name,
                "first_value": _label(first, kind, lang, style),
                "first_period": fmt_period(first.key, lang),
                "last_value": _label(last, kind, lang, style),
                "last_period": fmt_period(last.key, lang),
            }
        )
    return " ".join(parts) + _not_shown_note(lang, points.values())
