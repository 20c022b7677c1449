"""Reading users' files as their systems export them: each awkward file is written here,
and read_table must give the right columns and values, or refuse in one line."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import re
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.data.reading import MAX_NAME_CHARS, RawTable, read_table
from core.errors import ImportProblemError

ROWS = [("渋谷店", "2025-01-06", "3"), ("梅田店", "2025-01-06", "5"), ("渋谷店", "2025-01-07", "4")]


def csv_text(sep: str = ",", rows=ROWS, header=("店舗", "日付", "販売数")) -> str:
    return "\r\n".join(sep.join(r) for r in [header, *rows]) + "\r\n"


def refusal(data: bytes, name: str, **options) -> str:
    """read_table's one-line refusal of a file."""
    with pytest.raises(ImportProblemError) as caught:
        read_table(data, name, **options)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400, message
    assert caught.value.__cause__ is None or "Traceback" not in message
    return message


def assert_sales(raw: RawTable) -> None:
    assert list(raw.frame.columns) == ["店舗", "日付", "販売数"]
    assert raw.frame.astype(str).values.tolist() == [list(r) for r in ROWS]


def written(path: Path, data: bytes) -> bytes:
    """Write the file as a user would have it, and read it back as an upload gives it."""
    path.write_bytes(data)
    return path.read_bytes()


# ---- encodings ---------------------------------------------------------------------
def test_utf16_with_bom_tab_separated_is_decoded(tmp_path):
    # Excel's "Unicode text": UTF-16 LE with a byte-order mark, tab-separated
    data = written(tmp_path / "sales.txt", csv_text("\t").encode("utf-16"))
    raw = read_table(data, "sales.txt")
    assert_sales(raw)
    assert raw.encoding == "utf-16" and raw.delimiter == "\t"
    assert not any("\x00" in c for c in raw.frame.columns)
    assert any("UTF-16" in note for note in raw.notes)


def test_utf16_big_endian_and_without_bom(tmp_path):
    for codec in ("utf-16-be", "utf-16-le"):
        raw = read_table(written(tmp_path / "s.txt", csv_text("\t").encode(codec)), "s.txt")
        assert_sales(raw)
        assert raw.encoding == "utf-16"
    assert_sales(read_table(b"\xfe\xff" + csv_text().encode("utf-16-be"), "s.csv"))  # big-endian mark


def test_utf8_with_bom_and_shift_jis(tmp_path):
    utf8 = read_table(written(tmp_path / "u.csv", csv_text().encode("utf-8-sig")), "u.csv")
    assert_sales(utf8)
    assert utf8.encoding == "utf-8" and utf8.notes == ()
    sjis = read_table(written(tmp_path / "s.csv", csv_text().encode("cp932")), "s.csv")
    assert_sales(sjis)
    assert sjis.encoding == "cp932" and any("Shift_JIS" in note for note in sjis.notes)


def test_a_byte_order_mark_wins_over_the_chosen_encoding():
    raw = read_table(csv_text().encode("utf-16"), "s.csv", encoding="cp932")
    assert_sales(raw)
    assert raw.encoding == "utf-16" and "byte-order mark" in raw.notes[0]


def test_text_with_nul_bytes_or_wrong_encoding_is_refused():
    assert "NUL" in refusal(b"a,b\n1,\x002\n", "s.csv")
    assert "not valid UTF-8" in refusal("店舗,数\n渋谷,1\n".encode("cp932"), "s.csv", encoding="utf-8")
    assert "not an encoding" in refusal(b"a,b\n1,2\n", "s.csv", encoding="klingon")


# ---- gzip --------------------------------------------------------------------------
def test_gzip_is_read_and_a_gzip_without_gz_in_its_name_too(tmp_path):
    packed = gzip.compress(csv_text().encode())
    assert_sales(read_table(written(tmp_path / "s.csv.gz", packed), "s.csv.gz"))
    renamed = read_table(packed, "s.csv")
    assert_sales(renamed)
    assert "gzip" in renamed.notes[0]


def test_truncated_and_corrupt_gzip_get_one_line(tmp_path):
    packed = gzip.compress(csv_text(rows=ROWS * 500).encode())
    assert "cut short" in refusal(written(tmp_path / "t.csv.gz", packed[: len(packed) // 2]), "t.csv.gz")
    damaged = bytearray(packed)
    damaged[40:60] = b"\xff" * 20
    assert "damaged gzip" in refusal(bytes(damaged), "d.csv.gz")
    assert "not gzip-compressed" in refusal(csv_text().encode(), "plain.csv.gz")


def gzip_bomb(path: Path, inflated_mb: int) -> bytes:
    """A gzip of one header line and `inflated_mb` MB of identical rows, written chunk by
    chunk so the test never holds the inflated data."""
    row = b"s1,2025-01-06,1\n" * 65536  # 1 MB
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(b"store,date,units\n")
        for _ in range(inflated_mb):
            out.write(row)
    return path.read_bytes()


def test_a_gzip_bomb_is_refused_by_what_it_inflates_to(tmp_path):
    data = gzip_bomb(tmp_path / "bomb.csv.gz", inflated_mb=64)
    assert len(data) < 1024 * 1024  # small on disk, far over the limit once inflated
    message = refusal(data, "bomb.csv.gz", max_mb=8)
    assert "more than 8 MB once decompressed" in message
    assert read_table(data, "bomb.csv.gz", max_mb=80).frame.shape == (64 * 65536, 3)


def test_a_gzip_that_starts_repetitive_but_fits_is_read_whole(tmp_path):
    # the start inflates as if the whole would pass the limit; the rest does not
    path = tmp_path / "mixed.csv.gz"
    with gzip.open(path, "wb") as out:
        out.write(b"store,units\n" + b"s1,1\n" * 600_000)
        out.write(b"".join(b"s%d,%d\n" % (i, i * 7919 % 1000) for i in range(200_000)))
    data = path.read_bytes()
    raw = read_table(data, "mixed.csv.gz", max_mb=8)
    assert len(raw.frame) == 800_000 and raw.frame["units"].iloc[-1] == str(199_999 * 7919 % 1000)
    assert "more than 5 MB" in refusal(data, "mixed.csv.gz", max_mb=5)


# ---- delimiters and long fields ----------------------------------------------------
def test_a_semicolon_inside_a_quoted_header_does_not_fool_the_sniffer():
    text = '"store; name",date,units\r\n"a; b",2025-01-06,3\r\nc,2025-01-07,4\r\n'
    raw = read_table(text.encode(), "s.csv")
    assert raw.delimiter == ","
    assert list(raw.frame.columns) == ["store; name", "date", "units"]
    assert raw.frame["store; name"].tolist() == ["a; b", "c"]


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_each_delimiter_is_found(sep):
    raw = read_table(csv_text(sep).encode(), "s.csv")
    assert raw.delimiter == sep
    assert_sales(raw)


def test_semicolons_with_decimal_commas_are_semicolon_separated():
    text = "store;date;units;price\nA;2025-01-06;1,5;2,25\nB;2025-01-06;3;1,75\n"
    raw = read_table(text.encode(), "s.csv")
    assert raw.delimiter == ";" and raw.decimal_comma
    assert raw.frame["units"].tolist() == ["1,5", "3"]  # the importer reads the decimal comma


def test_quoted_newlines_and_escaped_quotes_keep_the_fields():
    text = 'id,note,units\n1,"two\nlines, with ""quotes""",3\n2,plain,4\n'
    raw = read_table(text.encode(), "s.csv")
    assert raw.frame["note"].tolist() == ['two\nlines, with "quotes"', "plain"]


def test_rows_with_more_fields_than_the_header_are_refused_not_shifted():
    assert "more fields than its header" in refusal(b"a,b,c\n1,2,3,4\n5,6,7,8\n", "s.csv")
    assert "Expected 3 fields in line 3" in refusal(b"a,b,c\n1,2,3\n5,6,7,8\n", "s.csv")


def test_a_huge_header_field_is_left_out_with_a_note(tmp_path):
    huge = "x" * 200_000  # over Python csv's 131072-character field limit
    text = f"store,{huge},units\nA,1,3\nB,2,4\n"
    raw = read_table(written(tmp_path / "h.csv", text.encode()), "h.csv")
    assert list(raw.frame.columns) == ["store", "units"]
    assert raw.frame["units"].tolist() == ["3", "4"]
    assert "200,000 characters" in raw.notes[0] and f"at most {MAX_NAME_CHARS}" in raw.notes[0]


def test_a_huge_data_field_is_read():
    huge = "y" * 300_000
    raw = read_table(f"store,units\n{huge},3\n".encode(), "s.csv")
    assert len(raw.frame.loc[0, "store"]) == 300_000


def test_a_file_that_is_only_one_huge_header_is_refused():
    assert "no column" in refusal(("x" * 300_000 + "\n1\n").encode(), "s.csv")


def test_header_names_are_trimmed_and_blank_columns_dropped():
    raw = read_table(b" store ,\"unit\ns\",\nA,1,\n", "s.csv")
    assert list(raw.frame.columns) == ["store", "unit s"]


# ---- keys as text ------------------------------------------------------------------
MISSING_LIKE = ["NA", "N/A", "null", "None", "NaN", "-", "nan", "#N/A"]


def test_missing_like_words_stay_text_and_only_empty_cells_are_missing():
    rows = [f"{key},2025-01-06,{key}" for key in MISSING_LIKE] + ["   ,2025-01-06,", "\u3000,2025-01-06,1"]
    raw = read_table(("key,date,units\n" + "\n".join(rows) + "\n").encode(), "s.csv")
    assert raw.frame["key"].tolist()[: len(MISSING_LIKE)] == MISSING_LIKE
    assert raw.frame["units"].tolist()[: len(MISSING_LIKE)] == MISSING_LIKE
    assert raw.frame["key"].iloc[-2:].isna().all()  # spaces, ASCII or full-width, are empty
    assert pd.isna(raw.frame["units"].iloc[-2]) and raw.frame["units"].iloc[-1] == "1"


def test_completely_empty_rows_are_skipped_with_a_note():
    raw = read_table(b"a,b\n1,2\n,\n3,4\n", "s.csv")
    assert raw.frame.values.tolist() == [["1", "2"], ["3", "4"]]
    assert raw.notes == ("Skipped 1 completely empty row(s).",)


# ---- Excel -------------------------------------------------------------------------
def workbook(path: Path, sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path.read_bytes()


def test_two_sheet_workbook_reads_each_sheet_with_dates_numbers_and_na_keys(tmp_path):
    data = workbook(tmp_path / "book.xlsx", {
        "表紙": [["note"], ["cover"]],
        "売上": [["店舗", "日付", "販売数"], ["NA", dt.datetime(2025, 1, 6), 3],
                 ["None", dt.datetime(2025, 1, 7), 4.5], ["null", dt.datetime(2025, 1, 8), None]],
    })
    cover = read_table(data, "book.xlsx")
    assert cover.sheets == ("表紙", "売上") and list(cover.frame.columns) == ["note"]
    sales = read_table(data, "book.xlsx", sheet="売上").frame
    assert list(sales.columns) == ["店舗", "日付", "販売数"]
    assert sales["店舗"].tolist() == ["NA", "None", "null"]
    assert pd.api.types.is_datetime64_any_dtype(sales["日付"])
    assert sales["日付"].tolist() == [pd.Timestamp("2025-01-06"), pd.Timestamp("2025-01-07"),
                                     pd.Timestamp("2025-01-08")]
    assert pd.api.types.is_numeric_dtype(sales["販売数"])
    assert sales["販売数"].iloc[:2].tolist() == [3, 4.5] and pd.isna(sales["販売数"].iloc[2])
    assert "no sheet" in refusal(data, "book.xlsx", sheet="在庫")


def test_excel_header_below_empty_rows_is_found(tmp_path):
    data = workbook(tmp_path / "b.xlsx", {"s": [[None], [None], ["store", "units"], ["A", 1]]})
    raw = read_table(data, "b.xlsx")
    assert list(raw.frame.columns) == ["store", "units"] and raw.frame["units"].tolist() == [1]


def test_corrupt_and_truncated_xlsx_get_one_line(tmp_path):
    data = workbook(tmp_path / "b.xlsx", {"s": [["store", "units"], ["A", 1]] * 200})
    assert "not a readable Excel workbook" in refusal(data[: len(data) // 2], "b.xlsx")
    assert "not a readable Excel workbook" in refusal(b"PK\x03\x04" + b"\x00" * 200, "b.xlsx")
    damaged = bytearray(data)
    start = data.index(b"xl/worksheets/sheet1.xml") + 40
    damaged[start:start + 200] = b"\xff" * 200
    assert "not a readable Excel workbook" in refusal(bytes(damaged), "b.xlsx")


def test_an_xlsx_that_unzips_past_the_limit_is_refused_before_reading(tmp_path):
    data = workbook(tmp_path / "b.xlsx", {"s": [["store", "note"]] + [["A", "x" * 1000]] * 3000})
    assert len(data) < 200_000
    assert "once unzipped" in refusal(data, "b.xlsx", max_mb=1)


def test_a_lone_cell_far_away_is_refused_before_calamine_allocates_the_grid(tmp_path):
    # calamine reads a sheet as a dense grid: this 5 KB file would ask for 17 billion cells
    book = openpyxl.Workbook()
    book.active.append(["store", "units"])
    book.active.append(["A", 1])
    book.active["XFD1048576"] = "x"
    book.save(tmp_path / "far.xlsx")
    message = refusal((tmp_path / "far.xlsx").read_bytes(), "far.xlsx")
    assert "1,048,576 rows × 16,384 columns" in message


def test_formatted_empty_cells_far_away_do_not_count(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["store", "units"])
    book.active.append(["A", 1])
    book.active["XFD1048576"].font = openpyxl.styles.Font(bold=True)  # style only, no value
    book.save(tmp_path / "styled.xlsx")
    assert read_table((tmp_path / "styled.xlsx").read_bytes(), "styled.xlsx").frame.shape == (1, 2)


def test_cells_without_references_are_bounded_by_position(tmp_path):
    """Cells may omit their r="A1" reference; they then count as extra columns."""
    data = workbook(tmp_path / "b.xlsx", {"s": [["store", "units"], ["A", 1]]})
    rewritten = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(rewritten, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(rb' r="[A-Z]+[0-9]+"', b"", content)
            target.writestr(info, content)
    raw = read_table(rewritten.getvalue(), "b.xlsx")
    assert list(raw.frame.columns) == ["store", "units"] and raw.frame["units"].tolist() == [1]


# ---- Parquet -----------------------------------------------------------------------
def test_parquet_unsupported_columns_are_left_out_with_a_note(tmp_path):
    table = pa.table({
        "store": pa.array(["A", "B"]),
        "date": pa.array([dt.date(2025, 1, 6), dt.date(2025, 1, 7)], pa.date32()),
        "units": pa.array([3, 4], pa.int64()),
        "price": pa.array([1.5, None]),
        "promo": pa.array([True, False]),
        "region": pa.array(["east", "west"]).dictionary_encode(),
        "blob": pa.array([b"\x00\x01", b"\x02"], pa.binary()),
        "tags": pa.array([[1, 2], []], pa.list_(pa.int64())),
        "meta": pa.array([{"a": 1}, {"a": 2}]),
        "attrs": pa.array([[("k", "v")], []], pa.map_(pa.string(), pa.string())),
    })
    pq.write_table(table, tmp_path / "s.parquet")
    raw = read_table((tmp_path / "s.parquet").read_bytes(), "s.parquet")
    assert list(raw.frame.columns) == ["store", "date", "units", "price", "promo", "region"]
    assert raw.frame["date"].tolist() == [pd.Timestamp("2025-01-06"), pd.Timestamp("2025-01-07")]
    assert raw.frame["units"].tolist() == [3, 4] and raw.frame["region"].tolist() == ["east", "west"]
    assert not isinstance(raw.frame["region"].dtype, pd.CategoricalDtype)
    assert len(raw.notes) == 1 and "Left out 4 column(s)" in raw.notes[0]
    for name in ("'blob' (binary)", "'tags' (list", "'meta' (struct", "'attrs' (map"):
        assert name in raw.notes[0]


def test_parquet_keeps_a_named_pandas_index_as_a_column(tmp_path):
    frame = pd.DataFrame({"date": pd.to_datetime(["2025-01-06", "2025-01-07"]), "units": [1, 2]})
    frame.set_index("date").to_parquet(tmp_path / "i.parquet")
    raw = read_table((tmp_path / "i.parquet").read_bytes(), "i.parquet")
    assert sorted(raw.frame.columns) == ["date", "units"] and len(raw.frame) == 2
    frame.iloc[[1, 0]].to_parquet(tmp_path / "u.parquet")  # unnamed, non-default index: not data
    assert list(read_table((tmp_path / "u.parquet").read_bytes(), "u.parquet").frame.columns) == ["date", "units"]


def test_corrupt_and_truncated_parquet_get_one_line(tmp_path):
    pq.write_table(pa.table({"store": ["A"] * 1000, "units": list(range(1000))}), tmp_path / "s.parquet",
                   compression="none")
    data = (tmp_path / "s.parquet").read_bytes()
    assert "not a readable Parquet file" in refusal(data[: len(data) - 100], "s.parquet")
    damaged = bytearray(data)
    damaged[8:600] = b"\xff" * 592  # inside the first column's pages; the footer is intact
    assert "not a readable Parquet file" in refusal(bytes(damaged), "s.parquet")


def test_parquet_with_more_rows_than_the_limit_is_refused_from_its_metadata(tmp_path):
    # a constant column compresses to almost nothing but costs 8 bytes a row once read
    pq.write_table(pa.table({"units": pa.array([1] * 2_000_000, pa.int64())}), tmp_path / "r.parquet")
    data = (tmp_path / "r.parquet").read_bytes()
    assert len(data) < 100_000
    assert "2,000,000 rows × 1 columns" in refusal(data, "r.parquet", max_mb=8)


# ---- everything else ---------------------------------------------------------------
def test_a_workbook_uploaded_as_csv_is_refused(tmp_path):
    data = workbook(tmp_path / "b.xlsx", {"s": [["a"], [1]]})
    assert "zip archive" in refusal(data, "b.csv")


def test_compressed_size_is_still_checked():
    assert "the limit is" in refusal(b"x" * 4096, "big.csv", max_mb=0.001)


def test_gzip_stream_damage_is_refused_not_half_read():
    """A deflate stream that breaks midway must not give the rows before the break."""
    text = csv_text(rows=ROWS * 2000).encode()
    body = zlib.compress(text, 9)[2:-4]  # raw deflate
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    broken = header + body[: len(body) // 2] + b"\x00\x00\xff\xff" * 4
    assert len(refusal(broken, "s.csv.gz")) > 0


# ---- the Import page ---------------------------------------------------------------
def test_import_page_gives_each_sheet_its_own_mapping(tmp_path, warehouse_env):
    """Choosing another sheet of the same workbook starts from that sheet's suggestion,
    not from the key columns chosen on the first sheet."""
    from tests.conftest import new_session

    def month(start: str) -> list[list]:
        days = pd.date_range(start, periods=40)
        return [["店舗", "商品", "日付", "販売数"]] + [
            [store, item, day.to_pydatetime(), (n + k) % 7]
            for k, (store, item) in enumerate([("渋谷", "弁当"), ("渋谷", "牛乳"), ("梅田", "弁当")])
            for n, day in enumerate(days)
        ]

    data = workbook(tmp_path / "売上.xlsx", {"1月": month("2025-01-01"), "2月": month("2025-02-10")})
    at = new_session("pages/import.py")
    at.file_uploader(key="upload").set_value(("売上.xlsx", data, "application/octet-stream")).run()
    assert not at.exception

    def keys_widget():
        return next(m for m in at.multiselect if m.label == "Series key (one or more)")

    assert sorted(keys_widget().value) == ["商品", "店舗"]
    keys_widget().set_value(["店舗"]).run()  # a choice that is right for neither sheet
    assert keys_widget().value == ["店舗"]
    at.selectbox(key="sheet").set_value("2月").run()
    assert not at.exception
    assert sorted(keys_widget().value) == ["商品", "店舗"]
    assert "_2月" in keys_widget().key


def test_western_european_windows_1252_is_not_read_as_shift_jis():
    # "Crème" and "Bäckerei" in Windows-1252 are also valid Shift_JIS bytes ("Cr鑪e")
    text = "store,date,units\r\nBäckerei,2025-01-06,3\r\nCrème,2025-01-06,4\r\nGröße,2025-01-07,5\r\n"
    raw = read_table(text.encode("cp1252"), "eu.csv")
    assert raw.encoding == "cp1252" and raw.frame["store"].tolist() == ["Bäckerei", "Crème", "Größe"]
    assert "Windows-1252" in raw.notes[0]
    japanese = "店舗,商品名,数量\r\n渋谷店,iPhone用ケース,3\r\nA店,ｺｰﾋｰ豆,4\r\n".encode("cp932")
    assert read_table(japanese, "jp.csv").frame["商品名"].tolist() == ["iPhone用ケース", "ｺｰﾋｰ豆"]


def test_excel_separator_hint_line_is_used_and_skipped():
    raw = read_table(("sep=;\r\n" + csv_text(";")).encode(), "hint.csv")
    assert raw.delimiter == ";" and "separator hint" in raw.notes[0]
    assert_sales(raw)
