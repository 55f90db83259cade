"""A box label for Chromium's fake camera: a Code 128 barcode of a MAC, as a .y4m video."""

from __future__ import annotations

from pathlib import Path

import barcode

WIDTH, HEIGHT = 640, 360


def code128_modules(text: str) -> str:
    """The bars of ``text`` in Code 128, one character per module ("1" black)."""
    modules: list[str] = barcode.get_barcode_class("code128")(text).build()
    return modules[0]


def label_picture(text: str, module_pixels: int = 3, bar_height: int = 140) -> bytearray:
    """A white picture (8-bit luma, WIDTH x HEIGHT) with the barcode in its middle."""
    modules = code128_modules(text)
    picture = bytearray([255]) * (WIDTH * HEIGHT)
    left = (WIDTH - len(modules) * module_pixels) // 2
    top = (HEIGHT - bar_height) // 2
    assert left > 10 * module_pixels, "the label needs its quiet zone"
    for row in range(top, top + bar_height):
        for index, module in enumerate(modules):
            if module == "1":
                start = row * WIDTH + left + index * module_pixels
                picture[start : start + module_pixels] = bytes(module_pixels)
    return picture


def write_y4m(path: Path, text: str, frames: int = 10) -> Path:
    """A short grey video of the label (4:2:0, neutral chroma), which Chromium loops."""
    luma = bytes(label_picture(text))
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + luma + chroma + chroma)
    return path
