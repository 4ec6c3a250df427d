"""Charts and maps of the reports: matplotlib (Agg, no pyplot), deterministic SVG, optional PNG.

One function per chart family, all with the same contract:

- input: tidy rows (a sequence of mappings, or a pandas DataFrame) with a ``value`` and a
  ``flag`` (docs/domain.md#flags-and-symbols). A value whose flag hides it (``suppressed``, ``secondary``,
  ``not_available``, ``unstable``, ``incomplete``) is **never plotted**, whatever the row's
  ``value`` holds: a gap in a line, no bar, no point — with the flag's symbol in its place. A value
  that is None/NaN without a flag counts as ``not_available`` (:mod:`~ksz_reports.charts.points`).
  ``unreliable`` values are plotted (hollow marker, hatched bar) and written between parentheses,
  as in the tables;
- output: a :class:`Chart` — title, alt text (generated from the data, translated; or given),
  the SVG to inline in HTML, optionally PNG bytes, the data table as preformatted rows, the flags
  used (for the symbol footnotes) and the list of what was plotted
  (:mod:`~ksz_reports.charts.result`).

Numbers on axes and labels come from :mod:`ksz_reports.l10n.numbers` (the tick formatter is built
from the same functions as the table cells). The modules:

- :mod:`~ksz_reports.charts.style`: sizes, colours, rcParams, the shipped fonts;
- :mod:`~ksz_reports.charts.svg`: rendering to deterministic, inline-ready SVG;
- :mod:`~ksz_reports.charts.result`: :class:`Chart`, :class:`DataTable`, the end every family
  shares;
- :mod:`~ksz_reports.charts.points`: the input rows as points, their cells and labels;
- :mod:`~ksz_reports.charts.axes`: the reused figure and the axes drawn by hand;
- the families: :mod:`~ksz_reports.charts.series`, :mod:`~ksz_reports.charts.bars` (bars and
  comparison), :mod:`~ksz_reports.charts.scatter`, :mod:`~ksz_reports.charts.maps` (on
  :mod:`~ksz_reports.charts.geometry` and :mod:`~ksz_reports.charts.layer`; the areas and their
  names are those of the report's :class:`~ksz_reports.geo.Geography`).

matplotlib's rcParams are process-global: render one chart at a time per process (a batch uses
processes, not threads).
"""

from __future__ import annotations

from ksz_reports.core.lazy import lazy_attributes

#: where each name lives; imported on first use, so importing the package (the report writer
#: does) costs nothing until the first chart is drawn — matplotlib loads in the charts stage
_HOME = {
    "chart_bars": "bars",
    "chart_comparison": "bars",
    "simplified_polygons": "geometry",
    "map_merges": "layer",
    "prepare": "layer",
    "map_choropleth": "maps",
    "quantile_classes": "maps",
    "unit_label": "points",
    "Chart": "result",
    "DataTable": "result",
    "chart_scatter": "scatter",
    "chart_series": "series",
    "RC": "style",
    "chart_style": "style",
    "new_figure": "style",
    "register_fonts": "style",
    "render_figure": "svg",
    "svg_text": "svg",
}


__getattr__, __dir__ = lazy_attributes(__name__, globals(), _HOME)


__all__ = [
    "RC",
    "Chart",
    "DataTable",
    "chart_bars",
    "chart_comparison",
    "chart_scatter",
    "chart_series",
    "chart_style",
    "map_choropleth",
    "map_merges",
    "new_figure",
    "prepare",
    "quantile_classes",
    "register_fonts",
    "render_figure",
    "simplified_polygons",
    "svg_text",
    "unit_label",
]
