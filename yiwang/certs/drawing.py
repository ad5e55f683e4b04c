"""What the certificate page draws, as inline SVG (no images, no CDN): the red round seal of the
issuing department and the QR code of the public verification URL (segno, made locally)."""

from __future__ import annotations

import math

import segno
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from yiwang.certs.models import Seal

SEAL_RED = "#d0021b"


def _star(cx: float, cy: float, outer: float) -> str:
    inner = outer * 0.382
    points = []
    for index in range(10):
        radius = outer if index % 2 == 0 else inner
        angle = math.radians(-90 + index * 36)
        points.append(f"{cx + radius * math.cos(angle):.2f},{cy + radius * math.sin(angle):.2f}")
    return " ".join(points)


def seal_svg(seal: Seal, *, size: int = 160) -> SafeString:
    """The round red seal: the department's name along the top arc, a star in the middle, the
    caption (电子证照专用章) below it and the key fingerprint in small type."""
    identifier = f"seal-arc-{escape(seal.key_id)}"
    radius = 66.0
    # The arc runs from 210° (lower left) over the top to -30° (lower right): 240° of circle.
    start = (100 - radius * math.cos(math.radians(30)), 100 + radius * math.sin(math.radians(30)))
    end = (100 + radius * math.cos(math.radians(30)), start[1])
    arc_length = radius * math.radians(240)
    font_size = min(21.0, arc_length / max(len(seal.text), 1) * 0.85)
    text_length = min(arc_length * 0.94, font_size * len(seal.text) * 1.25)
    svg = (
        f'<svg class="seal" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200" width="{size}" '
        f'height="{size}" role="img" aria-label="{escape(seal.text)} {escape(seal.caption)}">'
        f'<defs><path id="{identifier}" d="M {start[0]:.2f},{start[1]:.2f} '
        f'A {radius},{radius} 0 1,1 {end[0]:.2f},{end[1]:.2f}"/></defs>'
        f'<circle cx="100" cy="100" r="94" fill="none" stroke="{SEAL_RED}" stroke-width="6"/>'
        f'<text fill="{SEAL_RED}" font-size="{font_size:.1f}" font-weight="700" '
        f"font-family=\"SimSun, 'Noto Serif CJK SC', 'Noto Sans CJK SC', serif\">"
        f'<textPath href="#{identifier}" startOffset="50%" text-anchor="middle" '
        f'textLength="{text_length:.1f}" lengthAdjust="spacing">{escape(seal.text)}</textPath></text>'
        f'<polygon points="{_star(100, 100, 28)}" fill="{SEAL_RED}"/>'
        f'<text x="100" y="150" fill="{SEAL_RED}" font-size="15" font-weight="700" text-anchor="middle" '
        f"font-family=\"'Noto Sans CJK SC', sans-serif\">{escape(seal.caption)}</text>"
        f'<text x="100" y="170" fill="{SEAL_RED}" font-size="9" text-anchor="middle" '
        f'font-family="monospace">{escape(seal.key_id)}</text>'
        "</svg>"
    )
    return mark_safe(svg)  # noqa: S308 - every text inside is escaped above


def qr_svg(url: str, *, scale: int = 4) -> SafeString:
    """The QR code of `url` as inline SVG (error correction M: survives a smudged print)."""
    code = segno.make(url, error="m")
    return mark_safe(  # noqa: S308 - segno writes only path data and the given attributes
        code.svg_inline(scale=scale, border=2, title=None, svgclass="qr", lineclass=None)
    )
