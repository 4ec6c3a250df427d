"""PDF (WeasyPrint) and self-contained HTML from a rendered report.

The templates (:mod:`ksz_reports.report.templates`) give the report's HTML *without* its
stylesheet; this module adds the package stylesheets: ``templates/report.css`` (screen and print)
to both, and the paged media of ``templates/print.css`` plus the translated page counter to the
PDF only, so that the self-contained HTML is valid CSS for a browser:

- :func:`render_pdf` → A4 PDF/UA-1: tagged, ``/Lang`` and title from ``<html lang>`` and
  ``<title>``, fonts embedded (a Latin subset of the shipped DejaVu Sans, made once per process).
  The stylesheet is parsed once per process and applied as a user stylesheet; the
  ``FontConfiguration`` is shared, so fonts load once for a whole batch (one process renders one
  document at a time: WeasyPrint objects are not shared across threads). Inline chart SVGs are
  handed to WeasyPrint as ``<img>`` with an SVG ``data:`` URL (same vectors and alt text, faster),
  and the charts' data tables, hidden in print, are left out before WeasyPrint parses the page.

  Where the time goes (a 33-page report, 37 charts): about half in drawing the charts' SVG, most
  of it their text (WeasyPrint lays out SVG text letter by letter) and the map outlines; the rest
  is HTML layout (tables), drawing and writing the PDF. The charts keep WeasyPrint's cost low on
  their side (:mod:`ksz_reports.charts`: real text rather than glyph outlines, no empty groups,
  one path per map class and per scatter colour); PNG charts were not faster overall (rendering
  them costs more than WeasyPrint saves) and lose the selectable text.
- :func:`html_to_self_contained` → one HTML file that opens offline: the stylesheet inlined in a
  ``<style>`` element, fonts as ``data:`` URLs (WOFF2 subsets), package images as ``data:`` URLs;
  charts stay inline SVG.

**Nothing outside the package is ever read.** Every resource goes through
:class:`StrictURLFetcher`: ``data:`` URLs and files inside ``templates/`` only. Anything else
(``file:///etc/passwd``, ``http://…``, a symlink out of the folder) is refused, logged on the
``ksz_reports.report.pdf`` logger and listed in :attr:`StrictURLFetcher.blocked`; the document renders
without it.

**Reproducible bytes.** No date is written unless asked: ``created=`` or the ``SOURCE_DATE_EPOCH``
environment variable (reproducible-builds.org) set ``/CreationDate`` and ``/ModDate`` (and the
XMP dates); the file identifier is a hash of the HTML and that date. The same HTML gives the same
PDF bytes with the same WeasyPrint and fonts.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import io
import logging
import mimetypes
import os
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlparse

from ksz_reports.core.cache import cached_bytes
from ksz_reports.core.fingerprints import file_sha256
from ksz_reports.core.resources import templates_dir
from ksz_reports.core.vocabulary import LANGUAGES
from ksz_reports.l10n import gettext

LOGGER = logging.getLogger(__name__)

#: The stylesheet of the report, screen and print (the self-contained HTML carries it).
DEFAULT_STYLESHEETS = ("report.css",)
#: Paged media (page size, margins, running footer): only the PDF renderer applies it.
PRINT_STYLESHEETS = ("print.css",)
PDF_VARIANT = "pdf/ua-1"

#: Characters of the font subsets embedded in the PDF (TrueType) and the self-contained HTML
#: (WOFF2): Latin-1, Latin Extended-A/B (every Belgian name), general punctuation (‰, narrow
#: no-break space, …), €, arrows, −, ≤ ≥, geometric shapes. Text outside falls back to system fonts.
SUBSET_UNICODES: tuple[range, ...] = (
    range(0x20, 0x7F),
    range(0xA0, 0x250),
    range(0x2000, 0x2070),
    range(0x20AC, 0x20AD),
    range(0x2190, 0x2200),
    range(0x2212, 0x2213),
    range(0x2264, 0x2266),
    range(0x25A0, 0x25D0),
)


class BlockedURLError(ValueError):
    """A resource outside ``data:`` and the package templates was requested."""


def _weasyprint():
    import weasyprint

    return weasyprint


def _is_inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except OSError:
        return False


def _data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def _file_url_path(url: str) -> Path | None:
    parsed = urlparse(url)
    if parsed.scheme.lower() != "file" or parsed.netloc not in ("", "localhost"):
        return None
    return Path(unquote(parsed.path))


@cache
def _url_fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StrictURLFetcher(URLFetcher):
        """A WeasyPrint URL fetcher that only serves ``data:`` URLs and package template files."""

        def __init__(self, root: Path | None = None) -> None:
            super().__init__(allowed_protocols=("data", "file"), allow_redirects=False)
            self.root = (root or templates_dir()).resolve()
            self.blocked: list[str] = []

        def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            path = _file_url_path(url)
            if path is not None and _is_inside(path, self.root) and path.is_file():
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(
                    url, body=path.read_bytes(), headers={"Content-Type": content_type}
                )
            self.blocked.append(url)
            LOGGER.warning("blocked a resource outside the report package: %s", url[:200])
            raise BlockedURLError(f"resource not allowed: {url[:200]}")

    return StrictURLFetcher


def strict_url_fetcher(root: Path | None = None):
    """A new :class:`StrictURLFetcher` (``data:`` and files under ``root``, default templates/)."""
    return _url_fetcher_class()(root)


@cache
def font_configuration():
    """The process-wide WeasyPrint ``FontConfiguration`` (fonts of the stylesheets load once).
    Dropped at exit, while the modules its finaliser needs are still there (at interpreter
    shutdown it printed "Exception ignored in FontConfiguration.__del__")."""
    import atexit

    from weasyprint.text.fonts import FontConfiguration

    atexit.register(font_configuration.cache_clear)
    return FontConfiguration()


@cache
def stylesheet(name: str):
    """The parsed package stylesheet ``templates/<name>`` for PDF (once per process).

    Its fonts are the :data:`SUBSET_UNICODES` subsets (TrueType, 70–75 kB instead of 700–750 kB,
    as ``data:`` URLs), embedded whole in every PDF (see :func:`render_pdf`).
    """
    return _weasyprint().CSS(
        string=inline_stylesheet(name, "ttf"),
        base_url=templates_dir().as_uri() + "/",
        font_config=font_configuration(),
        url_fetcher=strict_url_fetcher(),
    )


def _w3c(moment: _dt.datetime) -> str:
    moment = moment.astimezone(_dt.UTC) if moment.tzinfo else moment.replace(tzinfo=_dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def source_date() -> str | None:
    """``SOURCE_DATE_EPOCH`` as a W3C date (UTC), or None when unset."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return None
    try:
        return _w3c(_dt.datetime.fromtimestamp(int(epoch), tz=_dt.UTC))
    except (ValueError, OverflowError):
        LOGGER.warning("ignored an invalid SOURCE_DATE_EPOCH: %r", epoch)
        return None


def render_pdf(
    html: str,
    base_url: str | None = None,
    *,
    stylesheets: Sequence[str] = DEFAULT_STYLESHEETS + PRINT_STYLESHEETS,
    pdf_variant: str | None = PDF_VARIANT,
    created: _dt.datetime | None = None,
    fetcher=None,
) -> bytes:
    """The PDF of a rendered report (HTML from the templates), with the package stylesheet(s).

    ``base_url`` resolves relative URLs (default: the templates folder); whatever it is, only
    ``data:`` URLs and files inside the templates folder are fetched (pass ``fetcher`` — a
    :func:`strict_url_fetcher` — to inspect what was blocked). ``created`` (or
    ``SOURCE_DATE_EPOCH``) sets the document dates; without either no date is written.
    """
    weasyprint = _weasyprint()
    fetcher = fetcher or strict_url_fetcher()
    base = base_url or templates_dir().as_uri() + "/"
    sheets = [stylesheet(name) for name in stylesheets]
    lang = _HTML_LANG.search(html)
    if lang and lang[1] in LANGUAGES:
        sheets.append(page_footer(lang[1]))
    digest = hashlib.sha256(html.encode("utf-8"))
    html = charts_as_images(without_screen_only(html))
    document = weasyprint.HTML(string=html, base_url=base, url_fetcher=fetcher).render(
        font_config=font_configuration(), stylesheets=sheets, pdf_variant=pdf_variant
    )
    date = _w3c(created) if created is not None else source_date()
    if date is not None:
        document.metadata.created = date
        document.metadata.modified = date
    digest.update((date or "").encode())
    # full_fonts: embed the stylesheet's fonts as they are — they are already our deterministic
    # Latin subsets. WeasyPrint's own subsetting (fontTools, without HarfBuzz-Subset) stamps the
    # current time into each font and would make every PDF different.
    return document.write_pdf(
        pdf_variant=pdf_variant,
        pdf_identifier=digest.hexdigest()[:32].encode("ascii"),
        full_fonts=True,
    )


_HTML_LANG = re.compile(r'<html\b[^>]*\blang="([a-z]{2})"')


def css_string(text: str) -> str:
    """``text`` as a CSS string literal, safe inside a ``<style>`` element."""
    escaped = "".join(
        ch if ch.isalnum() or ch in " .,:;-_()'/" else f"\\{ord(ch):x} " for ch in text
    )
    return f'"{escaped}"'


def page_counter_css(lang: str) -> str:
    """The CSS ``content`` value of the page footer: ``"Pagina " counter(page) " van " …``."""
    _ = gettext(lang)
    text = _("Page %(page)s of %(pages)s")
    marker = "\x00"
    parts = (text % {"page": marker + "page" + marker, "pages": marker + "pages" + marker}).split(
        marker
    )
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f"counter({part})")
        elif part:
            out.append(css_string(part))
    return " ".join(out)


@cache
def page_footer(lang: str):
    """The translated page counter of the running footer ("Pagina 3 van 33"), as a stylesheet."""
    weasyprint = _weasyprint()
    return weasyprint.CSS(
        string=f"@page {{ @bottom-right {{ content: {page_counter_css(lang)}; }} }}"
    )


_SCREEN_ONLY = re.compile(r'<details class="chart-data">.*?</details>\s*', re.S)


def without_screen_only(html: str) -> str:
    """``html`` without the charts' data tables (``<details class="chart-data">``).

    report.css hides them in print (the PDF carries each chart's alt text, and cells.csv every
    number); WeasyPrint would still parse them and compute the style of every cell — a map of
    Belgium has 581 rows.
    """
    return _SCREEN_ONLY.sub("", html)


_CHART_SVG = re.compile(r'<svg\b[^>]*\bclass="chart-svg"[^>]*>.*?</svg>', re.S)
_SVG_SIZE = re.compile(r'\b(width|height)="([\d.]+)pt"')
_SVG_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title>", re.S)


def charts_as_images(html: str) -> str:
    """Inline chart SVGs (``<svg class="chart-svg">``) as ``<img>`` with an SVG ``data:`` URL.

    Same vector drawing and the same alt text (the SVG ``<title>``), but WeasyPrint then reads
    the chart with its SVG parser instead of computing HTML styles for every path: about a third
    faster per PDF.
    """

    def replace(match: re.Match[str]) -> str:
        svg = match[0]
        size = dict(_SVG_SIZE.findall(svg[: svg.index(">")]))
        title = _SVG_TITLE.search(svg)
        alt = title[1].replace('"', "&quot;") if title else ""
        standalone = svg.replace(
            "<svg ",
            '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ',
            1,
        )
        attrs = "".join(
            f' {name}="{round(float(size[name]) * 96 / 72)}"'
            for name in ("width", "height")
            if name in size
        )
        url = _data_url(standalone.encode("utf-8"), "image/svg+xml")
        return f'<img class="chart-svg" src="{url}" alt="{alt}"{attrs}>'

    return _CHART_SVG.sub(replace, html)


# --------------------------------------------------------------------------- self-contained HTML


@cache
def subset_font(path: str) -> bytes:
    """A TrueType subset (:data:`SUBSET_UNICODES`) of the font file ``path`` (once per machine
    and version: :mod:`ksz_reports.core.cache`).

    Deterministic: the ``head`` timestamp is kept, not set to the current time.
    """
    return _font_asset(path, "ttf")


def _font_key(path: str, flavor: str) -> dict:
    import fontTools

    return {
        "font": file_sha256(path),
        "flavor": flavor,
        "unicodes": [[r.start, r.stop] for r in SUBSET_UNICODES],
        "fonttools": fontTools.version,
    }


def _font_asset(path: str, flavor: str) -> bytes:
    return cached_bytes("fonts", _font_key(path, flavor), lambda: _make_font(path, flavor))


def _make_font(path: str, flavor: str) -> bytes:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    if flavor != "ttf":
        font = TTFont(io.BytesIO(subset_font(path)), recalcTimestamp=False)
        font.flavor = flavor
        buffer = io.BytesIO()
        font.save(buffer, reorderTables=False)
        return buffer.getvalue()
    options = subset.Options()
    options.hinting = False
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.drop_tables = [*options.drop_tables, "FFTM"]
    font = TTFont(path, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[cp for r in SUBSET_UNICODES for cp in r])
    subsetter.subset(font)
    buffer = io.BytesIO()
    subset.save_font(font, buffer, options)
    return buffer.getvalue()


@cache
def font_data_url(path: str, flavor: str = "woff2") -> str:
    """:func:`subset_font` of ``path`` as a ``data:`` URL: ``woff2`` (HTML) or ``ttf`` (PDF)."""
    data = _font_asset(path, flavor)
    return _data_url(data, "font/ttf" if flavor == "ttf" else f"font/{flavor}")


_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")


_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")


def _package_file(url: str, base: Path, root: Path) -> Path | None:
    """The file ``url`` (relative to ``base``, or a ``file:`` URL) names, if it is inside ``root``."""
    if _SCHEME.match(url):
        path = _file_url_path(url)
    elif url.startswith("/"):
        path = None
    else:
        path = base / unquote(url.split("#")[0].split("?")[0])
    if path is None or not _is_inside(path, root) or not path.is_file():
        return None
    return path.resolve()


def _inline_resource(url: str, base: Path, root: Path, font_flavor: str = "woff2") -> str | None:
    """``url`` as a ``data:`` URL when it is a package file (fonts as subsets), else None."""
    if url.startswith("data:"):
        return url
    path = _package_file(url, base, root)
    if path is None:
        LOGGER.warning("left out a resource outside the report package: %s", url[:200])
        return None
    if path.suffix.lower() in (".ttf", ".otf"):
        return font_data_url(str(path), font_flavor)
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return _data_url(path.read_bytes(), mime)


@cache
def inline_stylesheet(name: str, font_flavor: str = "woff2") -> str:
    """The package stylesheet ``name`` with every ``url()`` as a ``data:`` URL (once per process).

    Fonts become subsets of ``font_flavor`` (``woff2`` for HTML, ``ttf`` for WeasyPrint).
    """
    root = templates_dir().resolve()
    path = _package_file(name, root, root)
    if path is None:
        raise FileNotFoundError(f"no stylesheet {name!r} in the package templates")
    css = path.read_text(encoding="utf-8")

    def replace(match: re.Match[str]) -> str:
        inlined = _inline_resource(match[2].strip(), path.parent, root, font_flavor)
        if inlined is None:
            return "none"
        fmt = ' format("woff2")' if inlined.startswith("data:font/woff2") else ""
        return f'url("{inlined}"){fmt}'

    return _CSS_URL.sub(replace, css)


_TAG = re.compile(r"<(img|link|script|iframe|embed|object|source|audio|video|track)\b[^>]*>", re.I)
_SCRIPT_SRC = re.compile(r'<script\b[^>]*\ssrc="([^"]*)"[^>]*>\s*</script>', re.I)
_ATTR = re.compile(r'\s(src|href|srcset|data|poster)="([^"]*)"', re.I)


def html_to_self_contained(html: str, *, stylesheets: Sequence[str] = DEFAULT_STYLESHEETS) -> str:
    """``html`` as one file that opens offline, with no external URL.

    The package stylesheets go in a ``<style>`` at the top of ``<head>`` (fonts and images as
    ``data:`` URLs); ``<link rel=stylesheet>`` and ``<img>`` pointing at package files are inlined;
    any other resource reference (``http:``, ``file:``, absolute paths, ``<script src>``) is removed
    and logged. Ordinary links (``<a href>``) are left as they are.
    """
    root = templates_dir().resolve()
    css = "\n".join(inline_stylesheet(name) for name in stylesheets)
    style = f"<style>\n{css}</style>\n"

    def rewrite(match: re.Match[str]) -> str:
        tag = match[0]
        name = match[1].lower()
        if name == "link":
            href = re.search(r'\shref="([^"]*)"', tag)
            if href is None or href[1].startswith("data:"):
                return tag
            path = _package_file(href[1].replace("&amp;", "&"), root, root)
            if path is not None and re.search(r'\srel="stylesheet"', tag, re.I):
                name = path.relative_to(root).as_posix()
                return f"<style>\n{inline_stylesheet(name)}</style>"
            LOGGER.warning("removed a <link> to a resource outside the package: %s", href[1][:200])
            return ""

        def attr(m: re.Match[str]) -> str:
            value = m[2].replace("&amp;", "&")
            if value.startswith("data:") or value.startswith("#"):
                return m[0]
            inlined = _inline_resource(value, root, root)
            return f' {m[1]}="{inlined}"' if inlined is not None else ""

        return _ATTR.sub(attr, tag)

    def drop_script(match: re.Match[str]) -> str:
        LOGGER.warning("removed a <script> with an external source: %s", match[1][:200])
        return ""

    out = _SCRIPT_SRC.sub(drop_script, html)
    out = _TAG.sub(rewrite, out)
    head = re.search(r"<head\b[^>]*>\s*(<meta charset=[^>]*>\s*)?", out, re.I)
    if head:
        return out[: head.end()] + style + out[head.end() :]
    return style + out


__all__ = [
    "BlockedURLError",
    "font_configuration",
    "html_to_self_contained",
    "render_pdf",
    "strict_url_fetcher",
    "charts_as_images",
    "stylesheet",
    "subset_font",
]
