"""Geography and population: ONE :class:`Geography` per span of dates (1983–2018, 2019–2024 and
today's, 2025–), with the hierarchy (municipality → arrondissement → province → region → Belgium),
names in nl/fr/en, neighbours, the mergers of 2019 and 2025, and the population on 1 January.

Modules: :mod:`~ksz_reports.geo.codes` (NIS codes, folding of names),
:mod:`~ksz_reports.geo.geography` (the class), :mod:`~ksz_reports.geo.registry` (the geographies
built from the shipped files and the questions asked of them), :mod:`~ksz_reports.geo.denominators`
(denominators), :mod:`~ksz_reports.geo.aggregate` (counts summed onto a geography and up its
hierarchy), :mod:`~ksz_reports.geo.statbel` (importing Statbel's population files).

>>> from ksz_reports import geo
>>> geo.lookup("Gent").nis
'44021'
>>> geo.resolve("Melle").note
'Melle (44040) is part of Merelbeke-Melle (44088) since 1 January 2025'
"""

from ksz_reports.geo.codes import (
    BRUSSELS,
    COUNTRY,
    FLANDERS,
    REGIONS,
    UNKNOWN_LOCATIONS,
    WALLONIA,
    is_unknown_location,
    normalise_code,
)
from ksz_reports.geo.denominators import (
    AgeClassError,
    PopulationFigure,
    PopulationNotAvailableError,
    imported_population_dir,
    population,
    population_bands,
    population_sources,
    population_table,
    population_with_fallback,
    population_years,
    reload_population,
    storage_geography,
)
from ksz_reports.geo.geography import (
    AmbiguousNameError,
    Geography,
    Hierarchy,
    Municipality,
    Resolved,
    successor_map,
)
from ksz_reports.geo.registry import (
    At,
    as_record,
    borders,
    find,
    geographies,
    geography,
    hierarchy,
    level_of,
    lookup,
    members,
    municipalities,
    municipalities_frame,
    name,
    neighbours,
    not_found,
    predecessors,
    resolve,
    search,
    shipped_geography,
    successor,
)


def reload() -> None:
    """Forget every cached table (geographies, borders, population); the next call reads the
    files again."""
    from ksz_reports.geo import denominators as _population
    from ksz_reports.geo import registry as _registry

    _registry.reload()
    _population.reload()


__all__ = [
    "BRUSSELS",
    "COUNTRY",
    "FLANDERS",
    "REGIONS",
    "UNKNOWN_LOCATIONS",
    "WALLONIA",
    "is_unknown_location",
    "AgeClassError",
    "AmbiguousNameError",
    "At",
    "Geography",
    "Hierarchy",
    "Municipality",
    "PopulationFigure",
    "PopulationNotAvailableError",
    "Resolved",
    "as_record",
    "borders",
    "find",
    "geographies",
    "geography",
    "hierarchy",
    "imported_population_dir",
    "level_of",
    "lookup",
    "members",
    "municipalities",
    "municipalities_frame",
    "name",
    "neighbours",
    "normalise_code",
    "not_found",
    "population",
    "population_bands",
    "population_sources",
    "population_table",
    "population_with_fallback",
    "population_years",
    "predecessors",
    "reload",
    "reload_population",
    "resolve",
    "search",
    "shipped_geography",
    "storage_geography",
    "successor",
    "successor_map",
]
