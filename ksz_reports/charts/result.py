"""What every chart family returns: a :class:`Chart` with its :class:`DataTable`, and the end
that every family shares (:func:`finish`: alt text, data table, rendering, the Chart)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from matplotlib.figure import Figure

from ksz_reports.charts.svg import render_figure


@dataclass(frozen=True)
class DataTable:
    """The data behind a chart, preformatted: ``columns`` headers, ``rows`` of strings."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Chart:
    """A rendered chart, ready for ``components/chart.html.j2``.

    ``svg`` is inline-ready markup (no XML prolog, ids prefixed with ``id``, ``<title>`` = alt text,
    ``role="img"``). ``flags`` are the flags of the values in the data (for
    :func:`~ksz_reports.l10n.flags.flag_footnotes`); ``plotted`` the ``(series, key)`` pairs that
    were drawn.
    """

    id: str
    title: str
    alt: str
    svg: str
    table: DataTable
    width_pt: float
    height_pt: float
    png: bytes | None = None
    flags: frozenset[str] = frozenset()
    plotted: tuple[tuple[str, str], ...] = field(default=())

    @property
    def png_data_url(self) -> str:
        """The PNG as a ``data:`` URL (for ``<img src>``); empty when rendered without PNG."""
        if self.png is None:
            return ""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    @property
    def width_px(self) -> str:
        """Width in CSS px (text, for the ``<img width>`` attribute)."""
        return str(round(self.width_pt * 96 / 72))

    @property
    def height_px(self) -> str:
        """Height in CSS px (text, for the ``<img height>`` attribute)."""
        return str(round(self.height_pt * 96 / 72))


def make_chart(
    fig: Figure,
    *,
    chart_id: str,
    title: str,
    alt: str,
    table: DataTable,
    png: bool,
    flags: Iterable[str | None],
    plotted: Iterable[tuple[str, str]],
) -> Chart:
    """Render ``fig`` and wrap it with its metadata into a :class:`Chart`."""
    svg, png_bytes = render_figure(fig, chart_id, alt, png)
    width_in, height_in = fig.get_size_inches()
    return Chart(
        id=chart_id,
        title=title,
        alt=alt,
        svg=svg,
        png=png_bytes,
        table=table,
        width_pt=round(float(width_in) * 72, 2),
        height_pt=round(float(height_in) * 72, 2),
        flags=frozenset(f for f in flags if f),
        plotted=tuple(plotted),
    )


def default_chart_id(family: str, title: str) -> str:
    """A stable, valid HTML id for a chart: ``<family>-<hash of the title>``."""
    return f"{family}-" + hashlib.sha256(title.encode()).hexdigest()[:10]


def finish(
    fig: Figure,
    *,
    family: str,
    chart_id: str | None,
    title: str,
    alt: str | None,
    describe: Callable[[], str],
    columns: Sequence[str],
    rows: Iterable[tuple[str, ...]],
    png: bool,
    flags: Iterable[str | None],
    plotted: Iterable[tuple[str, str]],
    render: Callable[..., Chart] | None = None,
) -> Chart:
    """The end of every chart family: its drawn ``fig`` as a :class:`Chart` (call inside
    :func:`~ksz_reports.charts.style.chart_style`).

    ``chart_id`` defaults to :func:`default_chart_id` of ``family`` and ``title``; ``alt``, when
    None, is written by ``describe()`` from the data; the data table is ``columns`` and ``rows``
    under the caption ``title``; ``flags`` are those of the values in the data, ``plotted`` the
    ``(series, key)`` pairs that were drawn. ``render`` (default :func:`make_chart`) renders and
    wraps the figure, for a family that writes part of its SVG itself (the maps).
    """
    return (render or make_chart)(
        fig,
        chart_id=chart_id or default_chart_id(family, title),
        title=title,
        alt=describe() if alt is None else alt,
        table=DataTable(title, tuple(columns), tuple(rows)),
        png=png,
        flags=flags,
        plotted=plotted,
    )
