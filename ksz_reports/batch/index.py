"""``OUT/index.html``: one offline page with the batch's summary (counts, suppressed cells, the
periods left out) and a relative link to every report file."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from ksz_reports import __version__
from ksz_reports.batch.manifest import _status_counts
from ksz_reports.batch.record import PublicationRecord
from ksz_reports.core.vocabulary import LANGUAGES
from ksz_reports.geo import Geography
from ksz_reports.l10n import N_, fmt_count, fmt_geography, gettext
from ksz_reports.report.templates import render_template

INDEX = "index.html"

#: The page's labels: English msgids, translated by the catalogs (``templates/locale``).
_LABELS = {
    "title": N_("Reports per municipality"),
    "summary": N_("Summary"),
    "in_scope": N_("municipalities in the publication"),
    "ok": N_("rendered"),
    "skipped": N_("unchanged (not re-rendered)"),
    "failed": N_("failed"),
    "outdated": N_("outdated (another publication)"),
    "missing": N_("not rendered yet"),
    "primary": N_("suppressed cells (primary)"),
    "secondary": N_("suppressed cells (secondary)"),
    "not_available": N_("masked at source"),
    "geography": N_("geography"),
    "cutoffs": N_("Periods left out"),
    "no_cutoffs": N_("none"),
    "generated": N_("generated"),
    "version": N_("version"),
    "publication": N_("publication"),
    "reports": N_("Reports"),
    "name": N_("municipality"),
    "status": N_("status"),
    "files": N_("files"),
}

_FILE_LABELS = {
    "report.html": "HTML",
    "report.pdf": "PDF",
    "cells.csv": "cells.csv",
    "tables.xlsx": "tables.xlsx",
}


def _safe_name(name: Any) -> str | None:
    """A file name of a manifest entry that may become a relative link, else None."""
    if not isinstance(name, str) or not name or name.startswith(("/", "\\")):
        return None
    parts = name.replace("\\", "/").split("/")
    if any(p in ("", ".", "..") for p in parts) or ":" in parts[0]:
        return None
    return "/".join(parts)


def render_index(
    entries: dict[str, dict],
    *,
    publication: PublicationRecord | None,
    lang: str = "nl",
    names: dict[str, str] | None = None,
    geography: Geography | None = None,
) -> str:
    """The text of ``index.html``: a summary and a relative link to every report (offline).

    ``geography``: the geography of the publication (said on the page), when known."""
    lang = lang if lang in LANGUAGES else "nl"
    _ = gettext(lang)
    pub_hash = publication.hash if publication is not None else None
    counts = _status_counts(entries.values(), pub_hash)
    in_scope = publication.municipalities if publication is not None else sorted(entries)
    rows = []
    for nis in sorted(entries):
        e = entries[nis]
        state = e.get("status", "failed")
        state = state if state in ("ok", "skipped", "failed") else "failed"
        if (
            state != "failed"
            and pub_hash
            and (e.get("inputs") or {}).get("publication") != pub_hash
        ):
            state = "outdated"
        files = []
        for f in e.get("files") or []:
            name = _safe_name(f.get("name") if isinstance(f, dict) else None)
            if name is not None:
                files.append(
                    {"href": quote(f"{nis}/{name}"), "label": _FILE_LABELS.get(name, name)}
                )
        main = next((f["href"] for f in files if f["label"] == "HTML"), None) or (
            files[0]["href"] if files else None
        )
        if state == "failed":
            main = None
        rows.append(
            {
                "nis": nis,
                "name": (names or {}).get(nis) or e.get("name") or nis,
                "state": state,
                "error": e.get("error") if state == "failed" else None,
                "files": [] if state == "failed" else files,
                "main": main,
            }
        )
    disclosure = []
    if publication is not None:
        for key in ("primary", "secondary", "not_available"):
            if key in publication.disclosure:
                disclosure.append((key, publication.disclosure[key]))
    counts = {**counts, "in_scope": len(in_scope), "missing": len(set(in_scope) - set(entries))}
    return render_template(
        "index.html.j2",
        {
            "t": {key: _(label) for key, label in _LABELS.items()},
            "s": {key: fmt_count(n, lang) for key, n in counts.items()},
            "has": {key: bool(n) for key, n in counts.items()},
            "disclosure": [(key, fmt_count(n, lang)) for key, n in disclosure],
            "geography": fmt_geography(geography, lang) if geography is not None else None,
            "cutoffs": publication.cutoffs if publication is not None else [],
            "generated": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "version": __version__,
            "publication": pub_hash,
            "rows": rows,
        },
        lang,
    )


__all__ = ["INDEX", "render_index"]
