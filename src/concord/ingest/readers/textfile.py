"""Text files of unknown origin: refusing binaries, finding the encoding, making a UTF-8 copy.

Partner files come from Excel on Windows (cp1252, "Unicode text" = UTF-16), from LibreOffice
(UTF-8), from case-management exports with a byte-order mark, and sometimes are not text at all
(an .xlsx renamed .csv, a screenshot uploaded by mistake). Everything here works on bytes in
1 MiB chunks so a multi-gigabyte file never sits in memory.

Why the whole file is checked, not a sample: a French export is often plain ASCII for thousands
of rows until the first "é" — a sample would call it UTF-8 and the parser would fail (or, with a
lossy decoder, silently mangle the name of a platform or an offence) far into the file. The scan
costs about a tenth of the CSV parse (``chunk.isascii()`` skips the decoder for ASCII chunks).

Why cp1252 is preferred among legacy encodings: on short French/Spanish/Portuguese samples
``charset_normalizer`` ranks Baltic or Central-European code pages first (they decode "é" the
same way); Windows-1252 is what Excel writes in Western Europe, Latin America and francophone
Africa, so it wins whenever it decodes the sample about as cleanly as the detector's favourite.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from charset_normalizer import from_bytes

from concord.errors import InputError, MalformedFileError, UnreadableFileError

HEAD_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024
#: No line of a table of records is this long; a longer one is a file without line breaks (a
#: whole export joined into one line, a binary blob) and would make parsers buffer all of it.
MAX_LINE_BYTES = 8 * 1024 * 1024
#: How much worse (charset_normalizer "chaos", 0..1) cp1252 may decode than the favourite.
_CP1252_TOLERANCE = 0.1

UTF8 = "utf-8"
UTF8_SIG = "utf-8-sig"

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook or a zipped export?)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/Office document (.xls)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
# UTF-32 first: its little-endian mark begins with UTF-16's.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, UTF8_SIG),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError as exc:
        raise UnreadableFileError(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def refuse_binary(head: bytes, source: str, *, hint: str = "") -> None:
    """UnreadableFileError for a known binary format, or NUL bytes outside UTF-16/32 text.

    ``hint`` is added when the file is a ZIP or old Office file (it may be a workbook).
    """
    for magic, what in _MAGIC:
        if head.startswith(magic):
            # The hint ("use format 'xlsx'") only helps when the file may be a workbook.
            extra = hint if what.startswith(("a ZIP", "an old Excel")) else ""
            raise UnreadableFileError(f"{source}: is {what}, not a text file{extra}")
    if bom_codec(head) in ("utf-16", "utf-32"):
        return
    nul = head.find(b"\x00")
    if nul >= 0:
        line = head.count(b"\n", 0, nul) + 1
        raise UnreadableFileError(
            f"{source}: contains NUL bytes (line {line}, byte {nul}): "
            "a binary file, not text (if it is UTF-16 without a byte-order mark, set the "
            "reader's encoding to utf-16-le)"
        )


def bom_codec(head: bytes) -> str | None:
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec
    return None


def codec_name(requested: str, source: str) -> str:
    """The Python codec for an encoding named in a mapping spec, or an InputError."""
    try:
        name = codecs.lookup(requested).name
        "".encode(name)  # bytes-to-bytes codecs (zlib, base64) are not text encodings
    except LookupError as exc:
        raise InputError(
            f"{source}: unknown text encoding {requested!r}; use 'auto' or a name such as "
            "utf-8, cp1252, latin-1 or utf-16"
        ) from exc
    return name


def resolve_encoding(
    path: Path, requested: str, head: bytes, source: str, *, max_line: int | None
) -> str:
    """The codec to read ``path`` with: the requested one, or the detected one for 'auto'.

    A byte-order mark always wins (it is never data). For UTF-8 the whole file is scanned —
    NUL bytes and (when ``max_line`` is set) over-long lines are refused on the way — so that
    a file called UTF-8 here is UTF-8 to its last byte.
    """
    bom = bom_codec(head)
    if requested != "auto":
        codec = codec_name(requested, source)
        if bom == UTF8_SIG and codec == UTF8:
            codec = UTF8_SIG
        if codec in (UTF8, UTF8_SIG):
            bad = scan_utf8(path, source, max_line=max_line)
            if bad is not None:
                raise UnreadableFileError(
                    f"{source}: is not valid UTF-8 at line {line_at(path, bad)} (byte {bad}); "
                    "set the reader's encoding to the one the file was saved in (often cp1252) "
                    "or to 'auto'"
                )
        return codec
    if bom is not None:
        if bom == UTF8_SIG:
            return resolve_encoding(path, UTF8_SIG, head, source, max_line=max_line)
        return bom
    bad = scan_utf8(path, source, max_line=max_line)
    if bad is None:
        return UTF8
    return guess_legacy(path, bad, head, source)


def scan_utf8(path: Path, source: str, *, max_line: int | None) -> int | None:
    """Byte offset of the first invalid UTF-8 sequence, or None; NUL/long lines are refused."""
    decoder = codecs.getincrementaldecoder(UTF8)()
    offset = 0
    last_newline = -1
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            pending = decoder.getstate()[0]
            if not (chunk.isascii() and not pending):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    return offset - len(pending) + exc.start
            nul = chunk.find(b"\x00")
            if nul >= 0:
                at = offset + nul
                raise UnreadableFileError(
                    f"{source}: contains a NUL byte at line {line_at(path, at)} (byte {at}): "
                    "a binary file or a corrupted export, not text"
                )
            if max_line is not None:
                last_newline = _check_lines(path, source, chunk, offset, last_newline, max_line)
            offset += len(chunk)
        pending = decoder.getstate()[0]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return offset - len(pending)
    return None


def _check_lines(
    path: Path, source: str, chunk: bytes, offset: int, last_newline: int, max_line: int
) -> int:
    """Refuse a line longer than ``max_line``; returns the offset of the chunk's last newline.

    Only lines that cross a chunk boundary can be longer than a chunk, so two finds per chunk
    are enough; the line number is counted only when there is an error to report.
    """
    first = chunk.find(b"\n")
    end = offset + (len(chunk) if first < 0 else first)
    if end - last_newline - 1 > max_line:
        _long_line(path, source, last_newline + 1, max_line)
    return last_newline if first < 0 else offset + chunk.rfind(b"\n")


def _long_line(path: Path, source: str, start: int, max_line: int) -> None:
    raise MalformedFileError(
        f"{source}: line {line_at(path, start)} is longer than {max_line // (1024 * 1024)} MiB; "
        "a table of records has no such line (is this a file without line breaks, or not a "
        "table?)"
    )


def line_at(path: Path, offset: int) -> int:
    """1-based line holding byte ``offset`` (counted on demand, for error messages)."""
    lines = 1
    with path.open("rb") as handle:
        while offset > 0 and (chunk := handle.read(min(CHUNK_BYTES, offset))):
            lines += chunk.count(b"\n")
            offset -= len(chunk)
    return lines


def guess_legacy(path: Path, bad: int, head: bytes, source: str) -> str:
    """The legacy encoding of a file that is not UTF-8 (see the module docstring on cp1252).

    The sample is the file's start plus the bytes around the first non-UTF-8 byte: the start
    alone may be all ASCII and say nothing.
    """
    with path.open("rb") as handle:
        handle.seek(max(0, bad - 16 * 1024))
        around = handle.read(64 * 1024)
    sample = head[: 16 * 1024] + b"\n" + around
    best = from_bytes(sample).best()
    western = from_bytes(sample, cp_isolation=["cp1252"]).best()
    if western is not None and (best is None or western.chaos <= best.chaos + _CP1252_TOLERANCE):
        return "cp1252"
    if best is None:
        raise UnreadableFileError(
            f"{source}: is not UTF-8 (line {line_at(path, bad)}, byte {bad}) and does not look "
            "like text in any encoding Concord recognises; if it is text, set the reader's "
            "encoding (for example cp1252 or latin-1)"
        )
    return codec_name(best.encoding, source)


def transcode(
    path: Path,
    codec: str,
    out: BinaryIO,
    source: str,
    *,
    max_line: int | None,
    cr_newlines: bool = False,
) -> None:
    """Write ``path`` decoded from ``codec`` to ``out`` as UTF-8, chunk by chunk.

    ``cr_newlines`` turns classic-Mac line ends (a lone CR, still written by Excel's "CSV
    (Macintosh)") into LF. NUL characters and over-long lines are refused as in
    :func:`scan_utf8`; a byte the codec cannot decode is reported with its line.
    """
    lines = 1
    run = 0  # characters since the last newline
    for chunk in iter_text(path, codec, source):
        text = chunk.replace("\r", "\n") if cr_newlines else chunk
        nul = text.find("\x00")
        if nul >= 0:
            line = lines + text.count("\n", 0, nul)
            raise UnreadableFileError(
                f"{source}: contains a NUL character at line {line}: "
                "a binary file or a corrupted export, not text"
            )
        if max_line is not None:
            first = text.find("\n")
            if run + (len(text) if first < 0 else first) > max_line:
                raise MalformedFileError(
                    f"{source}: line {lines} is longer than {max_line // (1024 * 1024)} Mi "
                    "characters; a table of records has no such line (is this a file without "
                    "line breaks, or not a table?)"
                )
            run = run + len(text) if first < 0 else len(text) - text.rfind("\n") - 1
        lines += text.count("\n")
        out.write(text.encode(UTF8))


def iter_text(path: Path, codec: str, source: str) -> Iterator[str]:
    """Decoded text of ``path`` in chunks; undecodable bytes → UnreadableFileError with line."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    offset = 0
    lines = 1
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(CHUNK_BYTES)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                at = offset + exc.start
                before = chunk[: max(0, exc.start)].decode(codec, errors="replace")
                raise UnreadableFileError(
                    f"{source}: is not valid {codec} at line {lines + before.count(chr(10))} "
                    f"(byte {at}); set the reader's encoding to the one the file was saved in, "
                    "or to 'auto'"
                ) from exc
            if text:
                lines += text.count("\n")
                yield text
            if not chunk:
                return
            offset += len(chunk)
