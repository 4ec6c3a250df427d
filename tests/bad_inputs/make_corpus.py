"""Write the bad-input corpus of this folder (run from anywhere; the outputs are committed).

    python tests/bad_inputs/make_corpus.py

Every file holds exactly one problem of SPEC §4; tests/test_bad_inputs.py maps each file to the
one-line message it must produce. Text files are written byte for byte (encodings, line ends);
the binary ones (xlsx, parquet, zip) are built with openpyxl / pyarrow / zipfile.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

LONG = (
    "Indicator;Referentiedatum;NIS-code;Gemeente;Geslacht;Leeftijdsklasse;"
    "Positie in het huishouden;Herkomst;Nationaliteit;Aantal"
)
ROW = "Pensioentrekkenden;31/12/2021;11001;Aartselaar;{sex};Totaal;Totaal;Totaal;Totaal;{value}"
GOOD = [ROW.format(sex="Totaal", value="3.456"), ROW.format(sex="Man", value="1.600")]
PODMI = "Maand;NIS;OCMW;Maatregel;Categorie;Geslacht;Leeftijdsklasse;Nationaliteit;Aantal"
WIDE = (
    '"Code INS","Commune","Indicateur","Sexe","Classe d\'âge","Position socio-économique",'
    '"2017","2018"'
)
SES = "Population selon la position socio-économique"


def _long(*rows: str, header: str = LONG) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode("cp1252")


def _podmi(*rows: str, encoding: str = "utf-8") -> bytes:
    return ("\n".join([PODMI, *rows]) + "\n").encode(encoding)


TEXT: dict[str, bytes] = {
    # columns
    "unknown_column_2023-06-30.csv": _long(
        "Pensioentrekkenden;31/12/2021;11001;Aartselaar;Totaal;Totaal;Totaal;Totaal;Totaal;3.456;ok",
        header=LONG + ";Opmerking",
    ),
    "missing_column_2023-06-30.csv": _long(
        "Pensioentrekkenden;31/12/2021;11001;Aartselaar;Totaal;Totaal;Totaal;Totaal;Totaal",
        header=LONG.rsplit(";", 1)[0],
    ),
    "no_dialect.csv": b"a;b;c\n1;2;3\n",
    "ambiguous_2023-06-30.csv": (
        b"Indicator;Referentiedatum;NIS-code;Maand;Maatregel;Aantal\n"
        b"Pensioentrekkenden;31/12/2021;11001;2021-12;LL;3\n"
    ),
    "ragged_row_2023-06-30.csv": _long(
        *GOOD, "Pensioentrekkenden;31/12/2021;11001;Aartselaar;Vrouw;Totaal;Totaal;Totaal;1.856"
    ),
    # codes
    "unknown_code_2023-06-30.csv": _long(*GOOD, ROW.format(sex="Mann", value="12")),
    "unknown_indicator_2023-06-30.csv": _long(
        *GOOD, "Pensioentrekkers;31/12/2021;11001;Aartselaar;Totaal;Totaal;Totaal;Totaal;Totaal;5"
    ),
    "unknown_nis_2023-06-30.csv": _long(
        *GOOD, "Pensioentrekkenden;31/12/2021;11999;Aartselaar;Vrouw;Totaal;Totaal;Totaal;Totaal;12"
    ),
    "unknown_municipality_2023-03-31.csv": _podmi(
        "2022-10;44021;Gent;LL;Totaal;Totaal;Totaal;Totaal;2345",
        "2022-10;;Gentt;LL;Totaal;Totaal;Totaal;Totaal;12",
    ),
    "no_breakdown_2023-03-31.csv": _podmi(
        "2022-10;44021;Gent;RMI;Totaal;Totaal;Totaal;Totaal;2345",
        "2022-10;44021;Gent;RMI;Alleenstaande;Totaal;Totaal;Totaal;1200",
    ),
    # counts
    "negative_count_2023-06-30.csv": _long(*GOOD, ROW.format(sex="Vrouw", value="-3")),
    "non_numeric_2023-06-30.csv": _long(*GOOD, ROW.format(sex="Vrouw", value="12,5")),
    "empty_count_2023-06-30.csv": _long(*GOOD, ROW.format(sex="Vrouw", value="")),
    "masked_not_allowed_2023-06-30.csv": _long(*GOOD, ROW.format(sex="Vrouw", value="<5")),
    "swing_not_allowed_2023-03-31.csv": _podmi(
        "2022-10;44021;Gent;LL;Totaal;Totaal;Totaal;Totaal;2345",
        "2022-10;44021;Gent;LL;Alleenstaande;Totaal;Totaal;Totaal;-99997",
    ),
    "duplicate_cell_2023-06-30.csv": _long(
        *GOOD, ROW.format(sex="Vrouw", value="1.856"), ROW.format(sex="Man", value="1.601")
    ),
    "cross_duplicate_a_2023-06-30.csv": _long(*GOOD),
    "cross_duplicate_b_2023-06-30.csv": _long(ROW.format(sex="Man", value="1.599")),
    # periods
    "bad_period_2023-06-30.csv": _long(
        *GOOD, "Pensioentrekkenden;31/13/2021;11001;Aartselaar;Vrouw;Totaal;Totaal;Totaal;Totaal;7"
    ),
    "period_not_stock_date_2023-06-30.csv": _long(
        *GOOD, "Pensioentrekkenden;15/06/2021;11001;Aartselaar;Vrouw;Totaal;Totaal;Totaal;Totaal;7"
    ),
    "wide_bad_period_2023-06-30.csv": (
        (
            WIDE + ',"20191"\n' + f'"11002","Anvers","{SES}","total","total","total","1","2","3"\n'
        ).encode("utf-8-sig")
    ),
    # dates (issue 16): no period after the extraction date, no extraction date in the future
    "future_period_2023-06-30.csv": _long(
        *GOOD, "Pensioentrekkenden;31/12/2030;11001;Aartselaar;Vrouw;Totaal;Totaal;Totaal;Totaal;7"
    ),
    "future_month_2023-03-31.csv": _podmi(
        "2022-10;44021;Gent;LL;Totaal;Totaal;Totaal;Totaal;2345",
        "2023-05;44021;Gent;LL;Totaal;Totaal;Totaal;Totaal;2350",
    ),
    "wide_future_period_2023-06-30.csv": (
        (
            WIDE + ',"2030"\n' + f'"11002","Anvers","{SES}","total","total","total","1","2","3"\n'
        ).encode("utf-8-sig")
    ),
    "vintage_before_data_2019-06-30.csv": _long(*GOOD),
    "future_vintage_2099-06-30.csv": _long(*GOOD),
    "year_9999_2023-06-30.csv": _long(
        *GOOD, "Pensioentrekkenden;31/12/9999;11001;Aartselaar;Vrouw;Totaal;Totaal;Totaal;Totaal;7"
    ),
    "year_0001_2023-06-30.csv": _long(
        *GOOD, "Pensioentrekkenden;31/12/0001;11001;Aartselaar;Vrouw;Totaal;Totaal;Totaal;Totaal;7"
    ),
    # plausibility (issue 16): no count above the population of its own group
    "implausible_count_2023-06-30.csv": _long(
        *GOOD, ROW.format(sex="Totaal", value="1.000.000.000").replace("2021", "2020")
    ),
    "implausible_group_2023-06-30.csv": _long(
        *GOOD,
        "Pensioentrekkenden;31/12/2021;11001;Aartselaar;Vrouw;65-79 jaar;Totaal;Totaal;Totaal;9.000",
    ),
    "implausible_month_2023-03-31.csv": _podmi(
        "2022-10;44021;Gent;LL;Totaal;Totaal;Totaal;Totaal;2345",
        "2022-10;;Melle;LL;Totaal;Man;Totaal;Totaal;23450",
    ),
    # old codes (issue 16): a code is valid only while its municipality exists
    "old_code_2023-06-30.csv": _long(
        "Pensioentrekkenden;31/12/2021;44083;Deinze;Totaal;Totaal;Totaal;Totaal;Totaal;10.207",
        "Pensioentrekkenden;31/12/2021;44011;Deinze;Totaal;Totaal;Totaal;Totaal;Totaal;10.207",
    ),
    "old_name_2023-03-31.csv": _podmi(
        "2022-10;44083;Deinze;LL;Totaal;Totaal;Totaal;Totaal;120",
        "2022-10;;Nevele;LL;Totaal;Totaal;Totaal;Totaal;12",
    ),
    "predecessor_duplicate_2023-06-30.csv": _long(
        "Pensioentrekkenden;31/12/2017;44011;Deinze;Totaal;Totaal;Totaal;Totaal;Totaal;5.100",
        "Pensioentrekkenden;31/12/2017;44083;Deinze;Totaal;Totaal;Totaal;Totaal;Totaal;10.207",
    ),
    "successor_duplicate_2023-06-30.csv": _long(
        "Pensioentrekkenden;31/12/2021;44088;Merelbeke-Melle;Totaal;Totaal;Totaal;Totaal;Totaal;6.000",
        "Pensioentrekkenden;31/12/2021;44043;Merelbeke;Totaal;Totaal;Totaal;Totaal;Totaal;4.000",
    ),
    # a file cut inside its last number (issue 16): no final line end where the dialect has one
    "cut_number_2023-06-30.csv": _long(*GOOD, ROW.format(sex="Vrouw", value="3.916"))[
        : -len(".916\r\n")
    ],
    "cut_month_2023-03-31.csv": _podmi(
        "2022-10;44021;Gent;LL;Totaal;Totaal;Totaal;Totaal;2345",
        "2022-11;44021;Gent;LL;Totaal;Totaal;Totaal;Totaal;2350",
    )[:-3],
    # line ends (issue 16)
    "cr_only_2023-06-30.csv": _long(*GOOD).replace(b"\r\n", b"\r"),
    # vintage
    "missing_vintage.csv": _long(*GOOD),
    "bad_vintage_2023-02-30.csv": _long(*GOOD),
    # encodings
    "wrong_encoding_2023-03-31.csv": _podmi(
        "2022-10;44021;Gent;LL;Totaal;Totaal;Totaal;Totaal;2345",
        "2022-10;;Liège;RMI;Totaal;Totaal;Totaal;Totaal;5678",
        encoding="cp1252",
    ),
    "mixed_encoding_2023-06-30.csv": (
        LONG
        + "\n"
        + "\n".join(GOOD)
        + "\n"
        + "Personen met leefloon of financiële hulp;31/12/2021;11001;Aartselaar;Totaal;Totaal;"
        "Totaal;Totaal;Totaal;5\n"
    ).encode("utf-8")
    + "Personen met leefloon of financiële hulp;31/12/2021;11001;Aartselaar;Man;Totaal;Totaal;"
    "Totaal;Totaal;3\n".encode("cp1252"),
    # what the file is
    "empty.csv": b"",
    "blank_lines.csv": b"\r\n\r\n  \r\n",
    "header_only_2023-06-30.csv": _long(),
    "not_really.xlsx": _long(*GOOD),
    "text.parquet": b"indicator,period,geo,value\npension,2021,11001,3456\n",
    # issue 16: a quote inside a field that is not quoted (what follows would be one field)
    "stray_quote_2023-06-30.csv": _long(GOOD[0].replace("Aartselaar", 'Aart"selaar'), GOOD[1]),
    # issue 16: a duplicated header column, reported against the dialect of the file
    "duplicate_column_2023-06-30.csv": _long(*(r + ";1" for r in GOOD), header=LONG + ";Aantal"),
    "wide_duplicate_period_2023-06-30.csv": (
        "\n".join(
            [
                WIDE + ',"2018"',
                f'"11002","Anvers","{SES}","total","total","total","523 248","525 935","525 936"',
            ]
        )
        + "\n"
    ).encode("utf-8-sig"),
    "garbage.xlsx": b"PK\x03\x04" + bytes(range(256)) * 4,
    "not_a_zip.xlsx": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    "unsupported.json": b'{"indicator": "pension"}\n',
}


def _barometer(
    rows: list[list], header: list | None = None, trailer: list[list] | None = None
) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Barometer"
    ws.append(["Barometer maatschappelijke integratie"])
    ws.append(["Leefloon: aantal unieke personen per jaar"])
    ws.append(["Extractiedatum: 15/03/2023"])
    ws.append([])
    ws.append(header or ["NIS-code", "Gemeente", "Categorie", 2017, 2018, 2019])
    for r in rows:
        ws.append(r)
    ws.append([])
    for r in trailer or [["Bron: POD Maatschappelijke Integratie"]]:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _parquet(drop: str | None = None, truncate: bool = False) -> bytes:
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    from ksz_reports.core.schema import CANONICAL_SCHEMA, DIMENSIONS

    cols = {
        "indicator": ["pension"],
        "period": ["2021"],
        "geo": ["11001"],
        **{d: ["total"] for d in DIMENSIONS},
        "value": [3456],
        "lower": [None],
        "upper": [None],
        "source": ["x.csv"],
        "vintage": [dt.date(2023, 6, 30)],
    }
    fields = [f for f in CANONICAL_SCHEMA if f.name != drop]
    arrays = []
    for f in fields:
        if pa.types.is_dictionary(f.type):
            arrays.append(pa.array(cols[f.name], pa.string()).dictionary_encode())
        else:
            arrays.append(pa.array(cols[f.name], f.type))
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, schema=pa.schema(fields)), buf)
    data = buf.getvalue()
    return data[: len(data) // 2] if truncate else data


def _parquet_int_geo() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = pq.read_table(io.BytesIO(_parquet()))
    i = data.schema.get_field_index("geo")
    data = data.set_column(i, "geo", pa.array([11001], pa.int64()))
    buf = io.BytesIO()
    pq.write_table(data, buf)
    return buf.getvalue()


def _zip_without_workbook() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "not a workbook")
    return buf.getvalue()


def _rewrite(data: bytes, change) -> bytes:
    """A workbook with its members passed through ``change(name, bytes)`` (None: left out)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            body = change(info.filename, src.read(info))
            if body is not None:
                zf.writestr(info.filename, body)
    return buf.getvalue()


SHEET = "xl/worksheets/sheet1.xml"


def binary() -> dict[str, bytes]:
    """The binary files of the corpus."""
    good = [[44021, "Gent", "Totaal", 4100, 4210, 4302]]
    return {
        "xlsx_bad_count.xlsx": _barometer([*good, [11001, "Aartselaar", "Totaal", 30, "abc", 33]]),
        "xlsx_no_header.xlsx": _barometer(good, header=["Code", "Naam", "Soort", 2017, 2018, 2019]),
        "xlsx_data_after_table.xlsx": _barometer(
            good, trailer=[[11001, "Aartselaar", "Totaal", 30, 31, 33]]
        ),
        "xlsx_unknown_category.xlsx": _barometer([*good, [44021, "Gent", "Gezinnen", 1, 2, 3]]),
        "workbook.csv": _barometer(good),
        "zip_without_workbook.xlsx": _zip_without_workbook(),
        # issue 16: a sheet cut in half, a sheet part left out, a decompression bomb (20 MiB of
        # spaces in the sheet, ~20 KiB compressed)
        "xlsx_bad_sheet_xml.xlsx": _rewrite(
            _barometer(good), lambda n, b: b[: len(b) // 2] if n == SHEET else b
        ),
        "xlsx_missing_sheet.xlsx": _rewrite(
            _barometer(good), lambda n, b: None if n == SHEET else b
        ),
        "xlsx_bomb.xlsx": _rewrite(
            _barometer(good),
            lambda n, b: (
                b.replace(b"<sheetData>", b"<sheetData>" + b" " * (20 << 20)) if n == SHEET else b
            ),
        ),
        "parquet_missing_column.parquet": _parquet(drop="value"),
        "truncated.parquet": _parquet(truncate=True),
        "parquet_int_geo.parquet": _parquet_int_geo(),
    }


def main() -> None:
    """Write every text file, and the binary files not written yet (the committed ones were
    built with the libraries and canonical schema of their day: rebuilt, their bytes and some
    of their messages would change)."""
    for name, data in TEXT.items():
        (HERE / name).write_bytes(data)
    for name, data in binary().items():
        if not (HERE / name).exists():
            (HERE / name).write_bytes(data)


if __name__ == "__main__":
    main()
