"""Barcode (Code 128, python-barcode) and QR (segno) labels as SVG for parts and serialised units.

Scanners type the code and press Enter: the keeper's search box on /parts takes it.
"""

from __future__ import annotations

import io
import re

import barcode
import segno
from barcode.writer import SVGWriter
from markupsafe import Markup

_XML_HEAD = re.compile(r"^<\?xml[^>]*>\s*(<!DOCTYPE[^>]*>\s*)?", re.S)


def code128_svg(data: str, *, height_mm: float = 10, text: bool = True) -> str:
    out = io.BytesIO()
    code = barcode.get("code128", data, writer=SVGWriter())
    code.write(out, options={"module_height": height_mm, "module_width": 0.25, "font_size": 7 if text else 0,
                             "text_distance": 3, "quiet_zone": 2, "write_text": text})
    return out.getvalue().decode("utf-8")


def qr_svg(data: str, *, scale: int = 3) -> str:
    """QR code as an inline <svg> fragment (for pages)."""
    return segno.make(data, error="m").svg_inline(scale=scale, border=2)


def qr_svg_document(data: str, *, scale: int = 4) -> str:
    """QR code as a standalone SVG document (xmlns set), served as image/svg+xml."""
    out = io.BytesIO()
    segno.make(data, error="m").save(out, kind="svg", scale=scale, border=2, xmldecl=True)
    return out.getvalue().decode("utf-8")


def inline(svg: str) -> Markup:
    """An SVG document as markup to embed in a page (XML prolog and doctype dropped)."""
    return Markup(_XML_HEAD.sub("", svg))
