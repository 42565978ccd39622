"""What an upload is before it is read: a workbook or text (from its bytes, not its name),
and, for text, its encoding and characters (a byte-order mark names it; else UTF-8, else the
Windows code page Excel writes)."""

from __future__ import annotations

from dashboard.ingest.spreadsheet_guard import UnreadableFile

# Longest first: UTF-32's little-endian mark begins with UTF-16's.
BYTE_ORDER_MARKS = ((b"\xef\xbb\xbf", "utf-8", "UTF-8"),
                    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"),
                    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32"),
                    (b"\xff\xfe", "utf-16-le", "UTF-16"),
                    (b"\xfe\xff", "utf-16-be", "UTF-16"))


def sniff_kind(file_name: str, data: bytes) -> str:
    """'xlsx' or 'csv' from the content (the file name is only a hint)."""
    name = file_name.lower()
    if not data:
        raise UnreadableFile(f"{file_name} is empty (0 bytes)",
                             "Export the data again and upload the saved file")
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        if b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00i\x00o\x00n\x00" in data[:1 << 20] or \
                name.endswith(".xlsx"):
            raise UnreadableFile(
                f"{file_name} is a password-protected (encrypted) workbook",
                "Open it in Excel, remove the password (File > Info > Protect Workbook), save "
                "and upload again")
        raise UnreadableFile(
            f"{file_name} is an old-style Excel 97-2003 (.xls) workbook",
            "Open it in Excel and save it as .xlsx or CSV, then upload that")
    for magic, what in ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
                        (b"GIF8", "a GIF image"), (b"%PDF", "a PDF document"),
                        (b"\x1f\x8b", "a gzip archive"), (b"Rar!", "a RAR archive")):
        if data.startswith(magic):
            raise UnreadableFile(f"{file_name} is {what}, not a spreadsheet",
                                 "Upload the tracker or Connect export as .xlsx or .csv")
    if any(data.startswith(mark) for mark, _, _ in BYTE_ORDER_MARKS):
        return "csv"  # UTF-16 and UTF-32 text is full of zero bytes
    if is_binary(data[:65536]):
        raise UnreadableFile(f"{file_name} is not a spreadsheet or a text (CSV) file",
                             "Upload the export as .xlsx or .csv")
    return "csv"


# Control bytes text never holds (tab, line ends and ESC aside): binary data is full of them.
CONTROL_BYTES = bytes([*range(0x01, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20)])


def is_binary(head: bytes) -> bool:
    """True if the file's first bytes hold zero bytes as binary data does, not one or two in a
    cell of a text export (a damaged or pasted cell: the checks of each cell then name it, as
    <U+0000>, in a column that is read)."""
    zeros = head.count(0)
    if not zeros:
        return False
    controls = len(head) - len(head.translate(None, CONTROL_BYTES))
    return zeros > max(8, len(head) // 100) or controls > zeros


def decode_text(file_name: str, data: bytes) -> tuple[str, bytes | None]:
    """The text (any byte-order mark removed), and its UTF-8 bytes if the file was UTF-8.

    A byte-order mark names the encoding (Excel's "Unicode text" is UTF-16); without one the
    text is UTF-8, else the Windows code page Excel writes (cp1252).
    """
    for mark, encoding, name in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            body = data[len(mark):]
            try:
                return body.decode(encoding), body if encoding == "utf-8" else None
            except UnicodeDecodeError as exc:
                raise UnreadableFile(
                    f"{file_name} starts with a {name} byte-order mark but is not {name} text "
                    f"(bad bytes at position {exc.start + len(mark):,}; the file may be cut "
                    "off or damaged)",
                    "Save it from Excel again as 'CSV UTF-8 (Comma delimited)' and upload "
                    "that") from exc
    try:
        return data.decode("utf-8"), data
    except UnicodeDecodeError as exc:
        not_utf8 = exc.start
    if mostly_utf8(data):
        # Mostly UTF-8, with a byte from elsewhere (a £ pasted from a Windows program): read as
        # cp1252, every accented letter of the file would be stored garbled ("ZoÃ«").
        line = data.count(b"\n", 0, not_utf8) + 1
        raise UnreadableFile(
            f"{file_name} mixes two text encodings: it is UTF-8 text, but byte "
            f"0x{data[not_utf8]:02X} on line {line:,} of the file is not UTF-8 (a character "
            "such as £ or an accented letter pasted in from another program)",
            f"Retype that character on line {line:,}, or open the file in Excel and save it "
            "as 'CSV UTF-8 (Comma delimited)', then upload again")
    try:
        return data.decode("cp1252"), None
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"{file_name} is not readable text in UTF-8 or Windows-1252 (byte "
            f"0x{data[exc.start]:02X} at position {exc.start:,})",
            "Save it from Excel as 'CSV UTF-8 (Comma delimited)' and upload again") from exc


def utf8_evidence(data: bytes) -> tuple[int, int]:
    """(characters written in UTF-8 beyond ASCII: a lead byte and its continuation bytes;
    bytes beyond ASCII that are part of none). Windows-1252 text has such pairs only where an
    accented capital meets a symbol ("É’"), so in it the second count is far the larger; in
    UTF-8 text with a stray byte pasted in, the first is."""
    import numpy as np  # only for text that is not UTF-8 throughout

    octets = np.frombuffer(data, dtype=np.uint8)
    if octets.size < 2:
        return 0, int(np.count_nonzero(octets >= 0x80))
    follows = (octets[1:] & 0xC0) == 0x80
    two = (octets[:-1] >= 0xC2) & (octets[:-1] <= 0xDF) & follows
    three = np.zeros_like(two)
    three[:-1] = (octets[:-2] >= 0xE0) & (octets[:-2] <= 0xEF) & follows[:-1] & follows[1:]
    covered = np.zeros(octets.size, dtype=bool)
    for width, starts in ((2, np.flatnonzero(two)), (3, np.flatnonzero(three))):
        for offset in range(width):
            covered[starts + offset] = True
    characters = int(np.count_nonzero(two) + np.count_nonzero(three))
    return characters, int(np.count_nonzero((octets >= 0x80) & ~covered))


def mostly_utf8(data: bytes) -> bool:
    """Whether text that is not UTF-8 throughout is UTF-8 but for a few stray bytes."""
    characters, stray = utf8_evidence(data)
    return characters > stray
