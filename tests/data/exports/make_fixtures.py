"""Write the small good export fixtures of this folder (run from anywhere; outputs committed).

    python tests/data/exports/make_fixtures.py

One file per shipped dialect in exactly the format of docs/dialects.md, and in ``variants/`` the
SPEC §4 variants the reader must also accept (other separators and encodings, French headers in
odd case and spacing, codes instead of labels, names instead of NIS codes, quarter-end dates).
The expected canonical content is asserted in tests/test_exports.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

HERE = Path(__file__).resolve().parent
VARIANTS = HERE / "variants"

LONG_HEADER = (
    "Indicator;Referentiedatum;NIS-code;Gemeente;Geslacht;Leeftijdsklasse;"
    "Positie in het huishouden;Herkomst;Nationaliteit;Aantal"
)
# (indicator label nl, date, nis, name, sex, age, household, origin, nationality, value)
LONG_ROWS = [
    (
        "Pensioentrekkenden",
        "31/12/2021",
        "11001",
        "Aartselaar",
        "Totaal",
        "Totaal",
        "Totaal",
        "Totaal",
        "Totaal",
        "3.456",
    ),
    (
        "Pensioentrekkenden",
        "31/12/2021",
        "11001",
        "Aartselaar",
        "Man",
        "Totaal",
        "Totaal",
        "Totaal",
        "Totaal",
        "1.600",
    ),
    (
        "Pensioentrekkenden",
        "31/12/2021",
        "11001",
        "Aartselaar",
        "Vrouw",
        "Totaal",
        "Totaal",
        "Totaal",
        "Totaal",
        "1.856",
    ),
    (
        "Pensioentrekkenden",
        "31/12/2021",
        "11001",
        "Aartselaar",
        "Man",
        "80 jaar en ouder",
        "Alleenstaande",
        "Belgische herkomst",
        "Belg",
        "x",
    ),
    (
        "Pensioentrekkenden",
        "31/12/2021",
        "11001",
        "Aartselaar",
        "Vrouw",
        "80 jaar en ouder",
        "Alleenstaande",
        "Belgische herkomst",
        "Belg",
        "7",
    ),
    (
        "Pensioentrekkenden",
        "31/12/2020",
        "11001",
        "Aartselaar",
        "Totaal",
        "Totaal",
        "Totaal",
        "Totaal",
        "Totaal",
        "3.401",
    ),
    (
        "Personen met leefloon of financiële hulp",
        "31/12/2021",
        "62063",
        "Luik",
        "Totaal",
        "Totaal",
        "Totaal",
        "Totaal",
        "Totaal",
        "12.345",
    ),
    (
        "Personen met leefloon of financiële hulp",
        "31/12/2021",
        "62063",
        "Luik",
        "Vrouw",
        "18-24 jaar",
        "Hoofd eenoudergezin",
        "Niet-EU-herkomst",
        "Niet-EU-burger",
        "0",
    ),
    (
        "Arbeidsongeschikten, primaire ongeschiktheid",
        "31/12/2021",
        "44021",
        "Gent",
        "Totaal",
        "Totaal",
        "Totaal",
        "Totaal",
        "Totaal",
        "4.321",
    ),
]


def _long_lines(rows: list[tuple], sep: str = ";") -> list[str]:
    out = []
    for r in rows:
        cells = [f'"{c}"' if sep in c else c for c in r]
        out.append(sep.join(cells))
    return out


def write_long() -> None:
    """ksz_dwh_long as shipped (cp1252, ';', CRLF) and its variants."""
    text = "\r\n".join([LONG_HEADER, *_long_lines(LONG_ROWS)]) + "\r\n"
    (HERE / "ksz_dwh_long_2023-06-30.csv").write_bytes(text.encode("cp1252"))
    # UTF-8 without and with BOM, LF
    utf8 = "\n".join([LONG_HEADER, *_long_lines(LONG_ROWS)]) + "\n"
    (VARIANTS / "ksz_dwh_long_utf8_2023-06-30.csv").write_bytes(utf8.encode("utf-8"))
    (VARIANTS / "ksz_dwh_long_bom_2023-06-30.csv").write_bytes(utf8.encode("utf-8-sig"))
    # ',' separator: the label with a comma is quoted
    comma = "\r\n".join([LONG_HEADER.replace(";", ","), *_long_lines(LONG_ROWS, ",")]) + "\r\n"
    (VARIANTS / "ksz_dwh_long_comma_2023-06-30.csv").write_bytes(comma.encode("cp1252"))
    # French headers in odd case and spacing, French labels as values (cp1252)
    fr_header = (
        " INDICATEUR ;Date de Référence;code  ins;COMMUNE;sexe;CLASSE D'ÂGE;"
        "position dans le ménage ;Origine;NATIONALITÉ;nombre"
    )
    fr_rows = [
        "Bénéficiaires d'une pension;31/12/2021;11001;Aartselaar;Total;Total;Total;Total;Total;"
        "3.456",
        "Bénéficiaires d'une pension;31/12/2021;11001;Aartselaar;Homme;80 ans et plus;Isolé;"
        "Origine belge;Belge;x",
        "Bénéficiaires d'une pension;31/12/2021;11001;Aartselaar;Femme;80 ans et plus;Isolé;"
        "Origine belge;Belge;7",
    ]
    fr = "\r\n".join([fr_header, *fr_rows]) + "\r\n"
    (VARIANTS / "ksz_dwh_long_fr_2023-06-30.csv").write_bytes(fr.encode("cp1252"))
    # canonical codes and ids as values; quarter-end and ISO dates
    codes_rows = [
        "pension;31/12/2021;11001;Aartselaar;total;total;total;total;total;3456",
        "pension;31/12/2021;11001;Aartselaar;M;80+;SING;BE;BE;x",
        "pension;31/12/2021;11001;Aartselaar;F;80+;SING;BE;BE;7",
        "pension;30/06/2021;11001;Aartselaar;total;total;total;total;total;3420",
        "pension;2020-12-31;11001;Aartselaar;total;total;total;total;total;3401",
    ]
    codes = "\n".join([LONG_HEADER, *codes_rows]) + "\n"
    (VARIANTS / "ksz_dwh_long_codes_2023-06-30.csv").write_bytes(codes.encode("utf-8"))
    # municipality names (nl or fr, any case/accents) in the NIS column; a region row (dropped)
    names_rows = [
        "Pensioentrekkenden;31/12/2021;Gent;;Totaal;Totaal;Totaal;Totaal;Totaal;50.123",
        "Pensioentrekkenden;31/12/2021;liège;;Totaal;Totaal;Totaal;Totaal;Totaal;40.456",
        "Pensioentrekkenden;31/12/2021;SINT-NIKLAAS;;Totaal;Totaal;Totaal;Totaal;Totaal;17.000",
        "Pensioentrekkenden;31/12/2021;;Aartselaar;Totaal;Totaal;Totaal;Totaal;Totaal;3.456",
        "Pensioentrekkenden;31/12/2021;2000;Vlaams Gewest;Totaal;Totaal;Totaal;Totaal;Totaal;"
        "1.500.000",
    ]
    names = "\n".join([LONG_HEADER, *names_rows]) + "\n"
    (VARIANTS / "ksz_dwh_long_names_2023-06-30.csv").write_bytes(names.encode("utf-8"))


WIDE_HEADER = [
    "Code INS",
    "Commune",
    "Indicateur",
    "Sexe",
    "Classe d'âge",
    "Position socio-économique",
    "2017",
    "2018",
    "2019",
    "2020",
    "2021",
]
SES_FR = "Population selon la position socio-économique"


def write_wide() -> None:
    """ksz_dwh_wide as shipped (UTF-8 with BOM, ',', every field quoted, LF)."""
    rows = [
        [
            "11002",
            "Anvers",
            SES_FR,
            "total",
            "total",
            "total",
            "523 248",
            "525 935",
            "529\u00a0247",
            "530\u202f504",
            "530 630",
        ],
        ["11002", "Anvers", SES_FR, "M", "18-24", "01", "12 345", "-", "c", "1 002", "999"],
        ["44021", "Gand", SES_FR, "F", "65-79", "13", "4", "c", "-", "7", "1 000"],
        [
            "44021",
            "Gand",
            SES_FR,
            "total",
            "total",
            "20",
            "1 234",
            "1 240",
            "1 251",
            "1 260",
            "1 270",
        ],
    ]
    lines = [",".join(f'"{c}"' for c in r) for r in [WIDE_HEADER, *rows]]
    text = "\n".join(lines) + "\n"
    (HERE / "ksz_dwh_wide_2023-06-30.csv").write_bytes(text.encode("utf-8-sig"))


PODMI_HEADER = "Maand;NIS;OCMW;Maatregel;Categorie;Geslacht;Leeftijdsklasse;Nationaliteit;Aantal"


def write_podmi() -> None:
    """Two vintages of podmi_monthly (UTF-8, ';', LF); the later one revises and adds months."""
    first = [
        "2022-10;44021;Gent;LL;Totaal;Totaal;Totaal;Totaal;2345",
        "2022-10;44021;Gent;LL;Alleenstaande;Totaal;Totaal;Totaal;1200",
        "2022-10;44021;Gent;ll;Samenwonende;Man;18-24 jaar;Belg;<5",
        "2022-10;;Liège;RMI;Totaal;Totaal;Totaal;Totaal;5678",
        "2022-10;;sint-niklaas;GPMI;Totaal;Totaal;Totaal;Totaal;321",
        "2022-11;44021;Gent;LL;Totaal;Totaal;Totaal;Totaal;2360",
    ]
    second = [
        "2022-10;44021;Gent;LL;Totaal;Totaal;Totaal;Totaal;2350",
        "2022-10;44021;Gent;LL;Alleenstaande;Totaal;Totaal;Totaal;1201",
        "2022-10;44021;Gent;ll;Samenwonende;Man;18-24 jaar;Belg;<5",
        "2022-10;;Liège;RMI;Totaal;Totaal;Totaal;Totaal;5680",
        "2022-10;;sint-niklaas;GPMI;Totaal;Totaal;Totaal;Totaal;321",
        "2022-11;44021;Gent;LL;Totaal;Totaal;Totaal;Totaal;2371",
        "2022-12;44021;Gent;LL;Totaal;Totaal;Totaal;Totaal;2380",
    ]
    for vintage, rows in (("2023-03-31", first), ("2023-06-30", second)):
        text = "\n".join([PODMI_HEADER, *rows]) + "\n"
        (HERE / f"podmi_monthly_{vintage}.csv").write_bytes(text.encode("utf-8"))


def write_barometer(path: Path, rows: list[list], extraction: str = "15/03/2023") -> None:
    """podmi_barometer_xlsx: title rows 1-3, empty row 4, header row 5, data, footnotes."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Barometer"
    ws.append(["Barometer maatschappelijke integratie"])
    ws.append(["Leefloon: aantal unieke personen per jaar"])
    ws.append([f"Extractiedatum: {extraction}"])
    ws.append([])
    ws.append(["NIS-code", "Gemeente", "Categorie", 2017, 2018, 2019, 2020, 2021, 2022])
    for r in rows:
        ws.append(r)
    ws.append([])
    ws.append(["Bron: POD Maatschappelijke Integratie"])
    ws.append(["<5: afgeschermd (minder dan 5 personen)"])
    wb.save(path)


BAROMETER_ROWS = [
    [44021, "Gent", "Totaal", 4100, 4210, 4302, 4420, 4398, 4410],
    [44021, "Gent", "Alleenstaande", 2000, 2050, 2101, "<5", 2150, 2160],
    [11001, "Aartselaar", "Totaal", 30, 31, -99997, 33, -99999, 35],
    [62063, "Luik", "Met gezin ten laste", 1500, 1510, 1520, 1530, 1540, 0],
]


def write_parquet() -> None:
    """canonical_parquet: the canonical table itself (a masked cell is a null value)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ksz_reports.core.schema import CANONICAL_SCHEMA, DIMENSIONS

    n = 4
    cols = {
        "indicator": ["pension", "pension", "ll", "ll"],
        "period": ["2021", "2021", "2022-10", "2022-11"],
        "geo": ["11002", "11002", "44021", "44021"],
        **{d: ["total"] * n for d in DIMENSIONS},
        "value": [3456, None, 2345, 2360],
        "source": ["ksz_dwh_long_2023-06-30.csv"] * 2 + ["podmi_monthly_2023-03-31.csv"] * 2,
        "vintage": [dt.date(2023, 6, 30)] * 2 + [dt.date(2023, 3, 31)] * 2,
    }
    cols["sex"] = ["total", "M", "total", "total"]
    arrays = []
    for f in CANONICAL_SCHEMA:
        arr = pa.array(
            cols[f.name], f.type.value_type if pa.types.is_dictionary(f.type) else f.type
        )
        arrays.append(arr.dictionary_encode() if pa.types.is_dictionary(f.type) else arr)
    table = pa.Table.from_arrays(arrays, schema=CANONICAL_SCHEMA)
    pq.write_table(table, HERE / "canonical_2023-06-30.parquet")


def main() -> None:
    """Write every fixture."""
    VARIANTS.mkdir(exist_ok=True)
    write_long()
    write_wide()
    write_podmi()
    write_barometer(HERE / "podmi_barometer.xlsx", BAROMETER_ROWS)
    write_parquet()


if __name__ == "__main__":
    main()
