"""Where the package's own files are: config, templates, reference data.

They are package data (``ksz_reports.configdata``, ``ksz_reports.templates``, ``ksz_reports.data``), so
an installed ``ksz-reports`` finds them from any folder; the current directory is never used.
"""

from __future__ import annotations

import os
from functools import cache
from importlib.resources import as_file, files
from pathlib import Path


@cache
def _package_dir(package: str) -> Path:
    traversable = files(package)
    # Regular installs and editable installs both give real folders; as_file covers zip imports.
    with as_file(traversable) as path:
        return Path(path)


def config_dir() -> Path:
    """The shipped default configuration folder (``config/`` in the source tree)."""
    return _package_dir("ksz_reports.configdata")


def dialects_dir() -> Path:
    """The shipped export dialects (``config/dialects/``)."""
    return _package_dir("ksz_reports.configdata.dialects")


def templates_dir() -> Path:
    """The shipped Jinja templates, CSS, fonts and message catalogs (``templates/``)."""
    return _package_dir("ksz_reports.templates")


def data_path(name: str) -> Path:
    """A shipped reference data file (``ksz_reports/data/<name>``)."""
    return _package_dir("ksz_reports.data") / name


def user_data_dir() -> Path:
    """The user's data folder (imported population files, …).

    ``$KSZ_REPORTS_HOME`` if set, else ``$XDG_DATA_HOME/ksz_reports``, else ``~/.local/share/ksz_reports``.
    """
    env = os.environ.get("KSZ_REPORTS_HOME")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "ksz_reports"
