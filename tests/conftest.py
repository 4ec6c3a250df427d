"""Shared fixtures.

The realistic sample (``ksz-reports sample``, seed 1) and its canonical dataset are built once per
test session (and so once per xdist worker: ``make test`` runs ``-n 2 --dist loadfile``). They
cost about 10 s together, so only a few test files should use them; today that is
``tests/test_acceptance.py``. Both folders are read-only for the tests: a test that needs to
change files copies them into its own ``tmp_path`` first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

#: Seed of the session sample (the one ``make demo`` and the README use).
SAMPLE_SEED = 1


@pytest.fixture(scope="session", autouse=True)
def asset_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The asset cache (font subsets, map outlines: :mod:`ksz_reports.core.cache`) of this test
    session, so tests neither read nor fill the user's ``~/.cache``; inherited by subprocesses."""
    import os

    folder = tmp_path_factory.mktemp("asset-cache")
    os.environ["KSZ_REPORTS_CACHE"] = str(folder)
    return folder


@pytest.fixture(scope="session")
def sample_exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder with the full sample exports of seed 1, in every shipped dialect (≈ 5 s, 210 MB).

    Same files as ``ksz-reports sample --out DIR --seed 1``. Do not modify.
    """
    from ksz_reports.sample import generate_sample

    out = tmp_path_factory.mktemp("sample") / "exports"
    generate_sample(out, seed=SAMPLE_SEED)
    return out


@pytest.fixture(scope="session")
def sample_data(sample_exports: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Dataset folder (``canonical.parquet`` + ``ingest.json``) ingested from every file of
    :func:`sample_exports` (≈ 5 s), as ``ksz-reports ingest exports/* --out DATA`` writes it.
    Do not modify.
    """
    from ksz_reports.ingest.dataset import ingest

    out = tmp_path_factory.mktemp("sample_data") / "data"
    ingest(sorted(p for p in sample_exports.iterdir() if p.is_file()), out)
    return out


@pytest.fixture(scope="session")
def limburg_data(sample_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample dataset cut to province Limburg (70000, 42 municipalities): its publication is
    prepared in seconds instead of minutes. Aggregates above the province are incomplete there and
    are shown as such. Do not modify."""
    import shutil

    import pandas as pd
    import pyarrow.parquet as pq

    from ksz_reports.geo import geography

    members = set(geography(2019).members("70000"))
    out = tmp_path_factory.mktemp("limburg") / "data"
    out.mkdir()
    table = pq.read_table(sample_data / "canonical.parquet")
    keep = pd.Series(table.column("geo").to_pylist()).isin(members).to_numpy()
    pq.write_table(table.filter(keep), out / "canonical.parquet")
    shutil.copy(sample_data / "ingest.json", out / "ingest.json")
    return out


@pytest.fixture(scope="session")
def oost_vlaanderen_data(sample_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample dataset cut to province Oost-Vlaanderen (40000) of today's geography: the
    2019–2024 codes of its 55 municipalities (61 codes, Zwijndrecht 11056 of province Antwerpen
    included, since it is part of Beveren-Kruibeke-Zwijndrecht), and those of the neighbours of
    Gent and Merelbeke-Melle (all inside the province today). Its publication is prepared in
    about 10 s. Aggregates above the province are incomplete there. Do not modify."""
    import shutil

    import pandas as pd
    import pyarrow.parquet as pq

    from ksz_reports.geo import geography

    today = geography()
    wanted = set(today.members("40000"))
    for nis in ("44021", "44088"):  # Gent, Merelbeke-Melle
        wanted |= set(today.neighbours(nis))
    members = {old for new in wanted for old in today.predecessors(new)}
    out = tmp_path_factory.mktemp("oost_vlaanderen") / "data"
    out.mkdir()
    table = pq.read_table(sample_data / "canonical.parquet")
    keep = pd.Series(table.column("geo").to_pylist()).isin(members).to_numpy()
    pq.write_table(table.filter(keep), out / "canonical.parquet")
    shutil.copy(sample_data / "ingest.json", out / "ingest.json")
    return out
