"""The code version in a publication's inputs (:func:`ksz_reports.core.fingerprints.code_hash`):
a publication made by other code of the stages up to the disclosure gate — another suppression
method, another cutoff rule — is never reused, even under the same version number."""

from __future__ import annotations

from pathlib import Path

import ksz_reports
from ksz_reports.core.fingerprints import PUBLICATION_STAGES, code_hash, source_hash


def package(root: Path) -> Path:
    for name, text in {
        "disclosure/protection.py": "THRESHOLD = 5\n",
        "disclosure/__init__.py": "",
        "report/write.py": "print('a report')\n",
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_source_hash_follows_the_sources_of_the_stages_only(tmp_path):
    root = package(tmp_path / "pkg")
    first = source_hash(root, ("disclosure",))
    (root / "report" / "write.py").write_text("print('another report')\n")  # not a stage
    (root / "disclosure" / "__pycache__").mkdir()
    (root / "disclosure" / "__pycache__" / "protection.cpython-311.pyc").write_bytes(b"\0")
    (root / "disclosure" / "notes.txt").write_text("not a source")
    assert source_hash(root, ("disclosure",)) == first
    (root / "disclosure" / "protection.py").write_text("THRESHOLD = 3\n")
    assert source_hash(root, ("disclosure",)) != first
    (root / "disclosure" / "protection.py").write_text("THRESHOLD = 5\n")
    assert source_hash(root, ("disclosure",)) == first
    (root / "disclosure" / "secondary.py").write_text("")  # a new module is new code
    assert source_hash(root, ("disclosure",)) != first


def test_the_code_hash_covers_every_stage_up_to_the_disclosure_gate():
    root = Path(ksz_reports.__file__).resolve().parent
    assert set(PUBLICATION_STAGES) == {"core", "ingest", "geo", "measures", "disclosure"}
    assert all((root / stage / "__init__.py").is_file() for stage in PUBLICATION_STAGES)
    assert code_hash() == source_hash(root, PUBLICATION_STAGES)


def test_a_publication_made_by_other_code_is_made_again(limburg_data, monkeypatch):
    from ksz_reports.disclosure import publication

    ks = ksz_reports.open(limburg_data)
    made = ks.published()
    assert made.inputs["code"] == code_hash()
    calls = []
    compute = publication.compute_publication

    def counted(*args, **kwargs):
        calls.append(1)
        return compute(*args, **kwargs)

    monkeypatch.setattr(publication, "compute_publication", counted)
    assert ksz_reports.open(limburg_data).published().hash == made.hash
    assert calls == []  # the same code: the cached publication
    monkeypatch.setattr(publication, "code_hash", lambda: "other code")  # the name it calls
    again = ksz_reports.open(limburg_data).published()
    assert calls == [1] and again.inputs["code"] == "other code"
