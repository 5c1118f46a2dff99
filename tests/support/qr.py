"""Reading the QR codes our pages and images draw, the way a phone's camera app would."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image

QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def read_qr(image: bytes | Image.Image) -> str:
    """The text of the one QR code in `image`. Like a camera app, only QR codes are looked for, and
    one code reported twice (the decoder tries several scales and inversions) counts once: a
    screenshot once gave two readings of one offer's code in CI."""
    picture = Image.open(io.BytesIO(image)) if isinstance(image, bytes) else image
    found = zxingcpp.read_barcodes(picture, formats=QR_ONLY)
    texts = {code.text for code in found}
    assert len(texts) == 1, f"expected one QR code, read {len(found)}: {sorted(texts)}"
    return texts.pop()
