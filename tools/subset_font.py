"""Rebuild the CJK font shipped in src/officemine/base/fonts/ (run by a developer, not at install).

Source: DroidSansFallbackFull.ttf from Debian's `fonts-droid-fallback` 1:6.0.1r16-1.1
(Android Open Source Project, Apache-2.0). Kept: ASCII and Latin-1, general punctuation, CJK
symbols and punctuation, all CJK Unified Ideographs (U+4E00–U+9FFF) and Extension A, CJK
compatibility ideographs, full-width forms. Dropped: Hangul and kana (not needed for Chinese
OA logs), which roughly halves the file. TrueType outlines are kept (matplotlib embeds them
in PDF as Type 42).

    apt-get download fonts-droid-fallback && dpkg-deb -x fonts-droid-fallback_*.deb droid
    python tools/subset_font.py droid/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf
"""

import sys
from pathlib import Path

from fontTools import subset

RANGES = [(0x20, 0x7E), (0xA0, 0xFF), (0x2000, 0x206F), (0x2100, 0x218F), (0x2190, 0x21FF),
          (0x2460, 0x24FF), (0x25A0, 0x25FF), (0x3000, 0x303F), (0x3200, 0x32FF),
          (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F),
          (0xFF00, 0xFFEF)]
OUT = Path(__file__).resolve().parents[1] / "src" / "officemine" / "base" / "fonts" / "DroidSansFallback-CJK.ttf"


def main(source: str) -> None:
    options = subset.Options()
    options.name_IDs = ["*"]           # keep the names (and so the licence notice)
    options.notdef_outline = True
    options.glyph_names = False
    font = subset.load_font(source, options)
    sub = subset.Subsetter(options)
    sub.populate(unicodes=[c for lo, hi in RANGES for c in range(lo, hi + 1)])
    sub.subset(font)
    subset.save_font(font, str(OUT), options)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main(sys.argv[1])
