"""Text normalisation for matching names, labels and headers as people type them."""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s_\-‐‑–—/.'’`]+")


def normalize(text: object) -> str:
    """Case-, accent-, hyphen- and space-insensitive key: ``"Sint-Niklaas "`` → ``"sint niklaas"``.

    ``"Écaussinnes"`` → ``"ecaussinnes"``; ``"Leeftijds_klasse"`` → ``"leeftijds klasse"``.
    """
    s = unicodedata.normalize("NFKD", str(text))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.casefold().replace("\ufeff", "")
    return _SEPARATORS.sub(" ", s).strip()
