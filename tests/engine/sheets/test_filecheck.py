"""File-level refusals before parsing: type by magic bytes, size, zip bombs, XML entity tricks."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from engine.errors import SheetError
from engine.models import SheetLimits
from engine.sheets.filecheck import FileKind, check_file, check_zip, sniff_kind
from tests.bench.sheets import add_member, patch_member, xlsx_bytes

LIMITS = SheetLimits(max_rows=100, max_file_bytes=1 << 20, max_unzipped_bytes=4 << 20)
GOOD = xlsx_bytes([["Title"], ["a"]])


def test_real_xlsx_is_recognised_whatever_its_name() -> None:
    assert check_file(GOOD, "data.xlsx", LIMITS) is FileKind.XLSX
    assert sniff_kind(GOOD, "upload.bin") is FileKind.XLSX


def test_plain_text_csv_is_csv() -> None:
    assert sniff_kind(b"a,b\n1,2\n", "x.csv") is FileKind.CSV


@pytest.mark.parametrize(
    ("data", "name", "says"),
    [
        (b"", "x.xlsx", "empty"),
        (b"%PDF-1.7 ...", "report.xlsx", "PDF"),
        (b"\x89PNG\r\n\x1a\n....", "photo.xlsx", "PNG"),
        (b"title,lang\nhello,en\n", "fake.xlsx", "plain text"),
        (b"<html><body><table></table></body></html>", "export.xls", "web page"),
        (b"\x00\x01\x02\x03binary", "blob.csv", "not a spreadsheet"),
        (b"a,b\n", "notes.docx", ".docx files are not supported"),
        (b"PK\x03\x04garbage-not-a-zip", "broken.xlsx", "damaged"),
    ],
)
def test_not_a_workbook_is_refused_with_a_reason(data: bytes, name: str, says: str) -> None:
    with pytest.raises(SheetError, match=says):
        check_file(data, name, LIMITS)


def test_other_zip_documents_are_named() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", '<Types xmlns="x"><Override ContentType="word"/></Types>')
        z.writestr("word/document.xml", "<w/>")
    with pytest.raises(SheetError, match="Word document"):
        check_file(buf.getvalue(), "letter.xlsx", LIMITS)
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as z:
        z.writestr("a.txt", "hi")
    with pytest.raises(SheetError, match="zip archive"):
        check_file(plain.getvalue(), "a.xlsx", LIMITS)


def test_too_big_file_is_refused() -> None:
    with pytest.raises(SheetError, match=r"limit is 0\.0 MB"):
        check_file(GOOD, "big.xlsx", SheetLimits(max_file_bytes=1000))


def test_zip_declaring_more_than_the_cap_is_refused_unread() -> None:
    bomb = add_member(GOOD, "xl/padding.xml", b" " * (5 << 20))
    assert len(bomb) < 100_000
    with pytest.raises(SheetError, match="would unpack to"):
        check_file(bomb, "bomb.xlsx", LIMITS)


def test_high_ratio_part_is_refused_even_under_the_cap() -> None:
    bomb = add_member(GOOD, "xl/worksheets/sheet2.xml", b" " * (3 << 20))
    with pytest.raises(SheetError, match="expands"):
        check_file(bomb, "bomb.xlsx", LIMITS)


def _lie_about_size(data: bytes, name: str, size: int) -> bytes:
    """Rewrite a member's declared uncompressed size in both the local and central headers."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    buf = bytearray(data)
    struct.pack_into("<I", buf, info.header_offset + 22, size)
    central = buf.find(b"PK\x01\x02")
    while central != -1:
        name_len = struct.unpack_from("<H", buf, central + 28)[0]
        if bytes(buf[central + 46 : central + 46 + name_len]) == name.encode():
            struct.pack_into("<I", buf, central + 24, size)
            break
        central = buf.find(b"PK\x01\x02", central + 4)
    return bytes(buf)


def test_zip_headers_that_understate_the_size_are_caught() -> None:
    padded = add_member(GOOD, "xl/padding.xml", b"<a>" + b"x" * (900 << 10) + b"</a>")
    liar = _lie_about_size(padded, "xl/padding.xml", 100)
    assert sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(liar)).infolist()) < 100_000
    with pytest.raises(SheetError):
        check_zip(liar, "liar.xlsx", 4 << 20)


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)


def test_entity_declarations_in_a_sheet_part_are_refused() -> None:
    def inject(xml: bytes) -> bytes:
        body = xml.split(b"?>", 1)[-1]
        return BILLION_LAUGHS + body.replace(b"<t>a</t>", b"<t>&lol3;</t>")

    evil = patch_member(GOOD, "xl/worksheets/sheet1.xml", inject)
    with pytest.raises(SheetError, match="entity"):
        check_file(evil, "laughs.xlsx", LIMITS)


def test_entity_declarations_in_content_types_are_refused_by_defusedxml() -> None:
    evil = patch_member(GOOD, "[Content_Types].xml", lambda xml: BILLION_LAUGHS + xml.split(b"?>", 1)[-1])
    with pytest.raises(SheetError, match="entity"):
        check_file(evil, "laughs.xlsx", LIMITS)


def test_password_protected_workbook_is_named() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64 + "EncryptedPackage".encode("utf-16-le")
    with pytest.raises(SheetError, match="password"):
        check_file(ole, "secret.xlsx", LIMITS)
