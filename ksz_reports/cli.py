"""Command line: a thin layer over the library (see README)."""

import click


@click.group()
def main() -> None:
    """ksz-reports."""


if __name__ == "__main__":
    main()
