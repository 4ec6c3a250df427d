"""``OUT/index.html``: one offline page with the batch's summary (counts, suppressed cells, the
periods left out) and a relative link to every report file."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from ksz_reports import __version__
from ksz_reports.batch.manifest import _status_counts
from ksz_reports.batch.record import PublicationRecord

INDEX = "index.html"

_LABELS = {
    "nl": {
        "title": "Rapporten per gemeente",
        "summary": "Overzicht",
        "in_scope": "gemeenten in de publicatie",
        "ok": "gemaakt",
        "skipped": "ongewijzigd (niet opnieuw gemaakt)",
        "failed": "mislukt",
        "outdated": "verouderd (andere publicatie)",
        "missing": "nog niet gemaakt",
        "primary": "onderdrukte cellen (primair)",
        "secondary": "onderdrukte cellen (secundair)",
        "not_available": "bij de bron gemaskeerd",
        "cutoffs": "Weggelaten perioden",
        "no_cutoffs": "geen",
        "generated": "gemaakt op",
        "version": "versie",
        "publication": "publicatie",
        "reports": "Rapporten",
        "name": "gemeente",
        "status": "status",
        "files": "bestanden",
    },
    "fr": {
        "title": "Rapports par commune",
        "summary": "Résumé",
        "in_scope": "communes de la publication",
        "ok": "produits",
        "skipped": "inchangés (non régénérés)",
        "failed": "en échec",
        "outdated": "périmés (autre publication)",
        "missing": "pas encore produits",
        "primary": "cellules supprimées (primaire)",
        "secondary": "cellules supprimées (secondaire)",
        "not_available": "masquées à la source",
        "cutoffs": "Périodes écartées",
        "no_cutoffs": "aucune",
        "generated": "généré le",
        "version": "version",
        "publication": "publication",
        "reports": "Rapports",
        "name": "commune",
        "status": "statut",
        "files": "fichiers",
    },
    "en": {
        "title": "Reports per municipality",
        "summary": "Summary",
        "in_scope": "municipalities in the publication",
        "ok": "rendered",
        "skipped": "unchanged (not re-rendered)",
        "failed": "failed",
        "outdated": "outdated (another publication)",
        "missing": "not rendered yet",
        "primary": "suppressed cells (primary)",
        "secondary": "suppressed cells (secondary)",
        "not_available": "masked at source",
        "cutoffs": "Periods left out",
        "no_cutoffs": "none",
        "generated": "generated",
        "version": "version",
        "publication": "publication",
        "reports": "Reports",
        "name": "municipality",
        "status": "status",
        "files": "files",
    },
}

_FILE_LABELS = {
    "report.html": "HTML",
    "report.pdf": "PDF",
    "cells.csv": "cells.csv",
    "tables.xlsx": "tables.xlsx",
}

_INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ksz_reports {{ version }}">
<title>{{ t.title }}</title>
<style>
body { font-family: system-ui, "Segoe UI", Roboto, Arial, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5rem; }
th, td { padding: .25rem .7rem; border-bottom: 1px solid #ddd; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td { color: #a00; }
tr.outdated td { color: #8a6d00; }
a { color: #0b57a4; }
.small { color: #666; font-size: .9em; }
</style>
</head>
<body>
<h1>{{ t.title }}</h1>
<h2>{{ t.summary }}</h2>
<table class="summary">
<tr><th>{{ t.in_scope }}</th><td class="n">{{ s.in_scope }}</td></tr>
<tr><th>{{ t.ok }}</th><td class="n">{{ s.ok }}</td></tr>
<tr><th>{{ t.skipped }}</th><td class="n">{{ s.skipped }}</td></tr>
<tr><th>{{ t.failed }}</th><td class="n">{{ s.failed }}</td></tr>
{% if s.outdated %}<tr><th>{{ t.outdated }}</th><td class="n">{{ s.outdated }}</td></tr>
{% endif %}{% if s.missing %}<tr><th>{{ t.missing }}</th><td class="n">{{ s.missing }}</td></tr>
{% endif %}{% for key, value in disclosure %}<tr><th>{{ t[key] }}</th><td class="n">{{ value }}</td></tr>
{% endfor %}<tr><th>{{ t.generated }}</th><td>{{ generated }}</td></tr>
<tr><th>{{ t.version }}</th><td>ksz_reports {{ version }}</td></tr>
{% if publication %}<tr><th>{{ t.publication }}</th><td class="small">{{ publication }}</td></tr>
{% endif %}</table>
<h2>{{ t.cutoffs }}</h2>
{% if cutoffs %}<ul>
{% for line in cutoffs %}<li>{{ line }}</li>
{% endfor %}</ul>{% else %}<p>{{ t.no_cutoffs }}</p>{% endif %}
<h2>{{ t.reports }}</h2>
<table class="reports">
<thead><tr><th>NIS</th><th>{{ t.name }}</th><th>{{ t.status }}</th><th>{{ t.files }}</th></tr></thead>
<tbody>
{% for r in rows %}<tr class="{{ r.state }}"><td>{{ r.nis }}</td><td>{% if r.main %}<a href="{{ r.main }}">{{ r.name }}</a>{% else %}{{ r.name }}{% endif %}</td><td>{{ t[r.state] }}{% if r.error %}: {{ r.error }}{% endif %}</td><td>{% for f in r.files %}<a href="{{ f.href }}">{{ f.label }}</a>{% if not loop.last %} · {% endif %}{% endfor %}</td></tr>
{% endfor %}</tbody>
</table>
</body>
</html>
"""


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
) -> str:
    """The text of ``index.html``: a summary and a relative link to every report (offline)."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(_INDEX_TEMPLATE)
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
    return template.render(
        lang=lang if lang in _LABELS else "nl",
        t=_LABELS.get(lang, _LABELS["nl"]),
        s={**counts, "in_scope": len(in_scope), "missing": len(set(in_scope) - set(entries))},
        disclosure=disclosure,
        cutoffs=publication.cutoffs if publication is not None else [],
        generated=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        version=__version__,
        publication=pub_hash,
        rows=rows,
    )


__all__ = ["INDEX", "render_index"]
