"""Uploaded images (issue #11.10): what every domain stores for a photo or a signature.

A file is accepted only when its extension and first bytes agree, no markup a browser would render appears
anywhere in it, and it parses as an image: PNGs are rebuilt from their picture chunks (CRCs checked, text and
private chunks dropped, nothing after IEND), JPEGs segment by segment up to their end marker (comments dropped).
So a PNG/HTML or JPEG/HTML polyglot never reaches the disk. (No imaging library is installed to re-encode.)
"""

from __future__ import annotations

import re
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# the chunks that draw the picture (and its colour); text, EXIF and private chunks are dropped
PNG_KEEP = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"pHYs", b"bKGD"}
# Markup a browser would render, looked for in the WHOLE file (tags of five letters or more: a chance match in
# binary data is negligible).
MARKUP = re.compile(rb"<\s*(?:script|html|svg|!doctype|iframe|body|object|embed|frameset|x-script)\b", re.IGNORECASE)
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg"}


def rebuild_png(data: bytes) -> bytes | None:
    """The PNG again with only its image chunks, CRCs checked, ending at IEND; None when malformed."""
    if not data.startswith(PNG_SIGNATURE):
        return None
    out, pos, first = [PNG_SIGNATURE], len(PNG_SIGNATURE), True
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > len(data) or (first and kind != b"IHDR"):
            return None
        (crc,) = struct.unpack(">I", data[end - 4:end])
        if zlib.crc32(data[pos + 4:end - 4]) & 0xFFFFFFFF != crc:
            return None
        if kind in PNG_KEEP:
            out.append(data[pos:end])
        first, pos = False, end
        if kind == b"IEND":
            return b"".join(out)
    return None


def rebuild_jpeg(data: bytes) -> bytes | None:
    """The JPEG again segment by segment up to its end marker (comments and trailing bytes dropped);
    None when malformed."""
    if not data.startswith(b"\xff\xd8"):
        return None
    out, pos, size = [b"\xff\xd8"], 2, len(data)
    while pos < size:
        if data[pos] != 0xFF:
            return None
        while pos < size and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= size:
            return None
        marker = data[pos]
        pos += 1
        if marker == 0xD9:
            out.append(b"\xff\xd9")
            return b"".join(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out.append(bytes((0xFF, marker)))
            continue
        if pos + 2 > size:
            return None
        length = int.from_bytes(data[pos:pos + 2], "big")
        if length < 2 or pos + length > size:
            return None
        if marker != 0xFE:  # COM: free text, dropped
            out.append(bytes((0xFF, marker)) + data[pos:pos + length])
        pos += length
        if marker == 0xDA:  # start of scan: entropy-coded bytes up to the next real marker
            start = pos
            while True:
                index = data.find(b"\xff", pos)
                if index < 0 or index + 1 >= size:
                    return None
                following = data[index + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    pos = index + 2
                elif following == 0xFF:
                    pos = index + 1
                else:
                    out.append(data[start:index])
                    pos = index
                    break
    return None


def clean_image(ext: str, data: bytes) -> bytes | None:
    """The bytes to store for a JPEG/PNG upload, or None when it is not one (or carries markup anywhere)."""
    ext = (ext or "").lower()
    if ext not in IMAGE_TYPES or MARKUP.search(data):
        return None
    return rebuild_png(data) if ext == "png" else rebuild_jpeg(data)
