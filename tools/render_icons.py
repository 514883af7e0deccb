"""Render isogrip's application icon from its SVG: PNGs, a Windows .ico and a macOS .icns.

The SVG (``isogrip/resources/icons/isogrip.svg``) is the icon's only source; every
other file beside it is written by this script and committed, so neither the app nor
the bundles need an SVG renderer or Pillow to have their icon::

    .venv/bin/pip install -e '.[icons]'    # Pillow, for the .ico and the .icns
    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/render_icons.py

Qt draws every PNG from the SVG at its own size (no down-scaling of a big render), and
the .ico and .icns hold those same PNGs. Without Pillow the PNGs are still written and
the script says that the .ico and .icns were not.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

ICON_DIR = Path(__file__).resolve().parent.parent / "isogrip" / "resources" / "icons"
#: Pixel sizes of the PNG renders (the freedesktop hicolor sizes the menus use).
PNG_SIZES = (16, 32, 48, 64, 128, 256)
#: Sizes in the Windows .ico (Windows picks 16-48 for lists and 256 for tiles).
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: Sizes in the macOS .icns: every slot, the Retina (@2x) ones included, so that none
#: is a scaled copy of another.
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)


def png_path(icon_dir: Path, size: int) -> Path:
    """Where the PNG render of ``size`` pixels is kept."""
    return icon_dir / f"isogrip-{size}.png"


def render_png(svg: Path, size: int) -> bytes:
    """The SVG drawn by Qt on a transparent square of ``size`` pixels, as PNG bytes."""
    from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, QRectF
    from PyQt6.QtGui import QImage, QPainter
    from PyQt6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG for Qt")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise SystemExit(f"Qt could not encode the {size} px render as PNG")
    buffer.close()
    return bytes(data.data())


def main(argv: list[str] | None = None) -> int:
    """Write the PNG, ICO and ICNS renders next to the SVG."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--icon-dir", type=Path, default=ICON_DIR,
                        help="folder holding isogrip.svg, where the renders go")
    args = parser.parse_args(argv)
    icon_dir: Path = args.icon_dir
    svg = icon_dir / "isogrip.svg"

    from PyQt6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renders = {size: render_png(svg, size)
               for size in sorted({*PNG_SIZES, *ICO_SIZES, *ICNS_SIZES})}
    for size in PNG_SIZES:
        png_path(icon_dir, size).write_bytes(renders[size])
        print(f"wrote {png_path(icon_dir, size)}")

    try:
        from PIL import Image
    except ImportError:
        print("Pillow is not installed (pip install -e '.[icons]'): "
              "isogrip.ico and isogrip.icns were not written", file=sys.stderr)
        return 1
    images = {size: Image.open(io.BytesIO(data)).convert("RGBA")
              for size, data in renders.items()}
    ico = images[max(ICO_SIZES)]
    ico.save(icon_dir / "isogrip.ico", format="ICO",
             sizes=[(s, s) for s in ICO_SIZES],
             append_images=[images[s] for s in ICO_SIZES if s != max(ICO_SIZES)])
    print(f"wrote {icon_dir / 'isogrip.ico'}")
    icns = images[max(ICNS_SIZES)]
    icns.save(icon_dir / "isogrip.icns", format="ICNS",
              append_images=[images[s] for s in ICNS_SIZES if s != max(ICNS_SIZES)])
    print(f"wrote {icon_dir / 'isogrip.icns'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
