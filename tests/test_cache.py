"""The asset cache (:mod:`ksz_reports.core.cache`): computed once, checked on read, never in
the way (disabled, unwritable, damaged), and the two assets that use it — font subsets and map
outlines — the same from the cache as computed."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from ksz_reports.charts import geometry
from ksz_reports.core import cache
from ksz_reports.report import pdf


@pytest.fixture()
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def counting(value: bytes):
    calls = []

    def compute() -> bytes:
        calls.append(1)
        return value

    return compute, calls


def test_an_entry_is_computed_once_and_then_read(folder):
    compute, calls = counting(b"subset")
    assert cache.cached_bytes("fonts", {"font": "a"}, compute) == b"subset"
    assert cache.cached_bytes("fonts", {"font": "a"}, compute) == b"subset"
    assert len(calls) == 1
    assert cache.cached_bytes("fonts", {"font": "b"}, compute) == b"subset"
    assert len(calls) == 2  # another key, another entry
    assert len(list((folder / "fonts").iterdir())) == 2


def test_a_damaged_entry_is_recomputed_never_used(folder):
    compute, calls = counting(b"the real bytes")
    cache.cached_bytes("outlines", "k", compute)
    path = cache.entry_path("outlines", "k")
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF
    path.write_bytes(bytes(raw))
    assert cache.cached_bytes("outlines", "k", compute) == b"the real bytes"
    assert len(calls) == 2
    path.write_bytes(b"short")
    assert cache.cached_bytes("outlines", "k", compute) == b"the real bytes"
    assert cache.cached_bytes("outlines", "k", compute) == b"the real bytes"
    assert len(calls) == 3  # repaired by the recomputation


def test_off_disables_it(monkeypatch, tmp_path):
    monkeypatch.setenv(cache.ENV, "off")
    assert cache.cache_dir() is None
    compute, calls = counting(b"x")
    cache.cached_bytes("fonts", "k", compute)
    cache.cached_bytes("fonts", "k", compute)
    assert len(calls) == 2


def test_the_default_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv(cache.ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "ksz_reports"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "ksz_reports"


def test_a_full_disk_only_costs_time(folder, monkeypatch):
    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    compute, calls = counting(b"x")
    assert cache.cached_bytes("fonts", "k", compute) == b"x"
    assert cache.cached_bytes("fonts", "k", compute) == b"x"
    assert len(calls) == 2
    assert [p.name for p in (folder / "fonts").iterdir()] == []  # no half-written entry


def test_a_cache_folder_that_is_a_file_only_costs_time(folder):
    folder.write_bytes(b"not a folder")
    compute, calls = counting(b"x")
    assert cache.cached_bytes("fonts", "k", compute) == b"x"
    assert len(calls) == 1


def test_simplified_outlines_from_the_cache_are_the_computed_ones(folder, monkeypatch):
    codes = tuple(sorted(geometry._polygons()))[:40]
    computed = geometry._simplify_now(codes, 0.003)
    first = geometry._simplify(codes, 0.003)
    calls = []
    monkeypatch.setattr(geometry, "_simplify_now", lambda *a: calls.append(a) or {})
    second = geometry._simplify(codes, 0.003)
    assert computed == first == second
    assert calls == []  # read, not computed again


def test_font_subsets_from_the_cache_are_the_computed_ones(folder, monkeypatch):
    font = next(p for p in pdf.templates_dir().rglob("*.ttf"))
    computed = pdf._make_font(str(font), "woff2")
    assert pdf._font_asset(str(font), "woff2") == computed
    monkeypatch.setattr(pdf, "_make_font", lambda *a: pytest.fail("computed again"))
    assert pdf._font_asset(str(font), "woff2") == computed
