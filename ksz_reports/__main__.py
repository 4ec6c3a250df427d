"""``python -m ksz_reports``: the same as the ``ksz-reports`` command."""

from ksz_reports.cli import run

if __name__ == "__main__":
    run()
