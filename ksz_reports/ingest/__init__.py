"""ingest: raw exports → the canonical dataset (dialects, detection, one reader per column role,
validation, the dataset on disk).

``ksz_reports.ingest`` is both this package and the public function
:func:`ksz_reports.ingest.dataset.ingest`: importing any module of the package makes the package
an attribute of ``ksz_reports`` under the function's name, so the package itself is callable and
calls that function. ``ksz_reports.ingest(paths, out)`` therefore works whatever was imported
before.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from ksz_reports.ingest.dataset import ingest

        return ingest(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
