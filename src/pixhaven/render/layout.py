"""One layout per document, handed unchanged to every output (SVG, PNG, JPEG, WebP, AVIF).

Everything that decides where ink goes is computed here, in floating-point pixels:
glyph positions, pill sizes, divider rectangles, image boxes. The outputs only draw.

- text: the block's top-left is (x, y); lines follow at the font's line height.
- tag: a pill (radius = half its height) at (x, y) around one line of text, padded by
  0.75 × fontSize left and right and 0.3 × fontSize above and below.
- divider: a rectangle (x, y, length, thickness) or (x, y, thickness, length);
  thin 1 px, medium 2 px, thick 4 px.
- image: drawn into (x, y, width, height) like CSS `object-fit: cover` (scaled to fill,
  centred, cropped), corners clipped to `radius`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pixhaven.decode_budget import BUDGET
from pixhaven.render.document import (
    DividerComponent,
    Document,
    ImageComponent,
    TagComponent,
    TextComponent,
    parse_color,
)
from pixhaven.render.fonts import LIBRARY, FontLibrary
from pixhaven.render.text import TextBlock, choose_faces, layout_text

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env
    from pixhaven.decode_budget import Account
    from pixhaven.render.sources import OwnSource

TAG_PADDING_X = 0.75
TAG_PADDING_Y = 0.3

RGBA = tuple[int, int, int, int]


@dataclass
class Box:
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height


@dataclass
class RectItem:
    box: Box
    color: RGBA
    radius: float = 0.0


@dataclass
class TextItem:
    x: float
    y: float
    block: TextBlock
    color: RGBA

    @property
    def ink_box(self) -> Box:
        """Where the glyphs are: the lines' extent (not the whole frame)."""
        return Box(self.x, self.y, self.block.content_width, self.block.height)


@dataclass
class ImageItem:
    box: Box
    radius: float
    pixels: Any  # a PIL RGBA image, uncropped


@dataclass
class Layout:
    width: int
    height: int
    background: RGBA
    items: list = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)  # one per component, in order

    @property
    def opaque(self) -> bool:
        return self.background[3] == 255

    @property
    def flat(self) -> bool:
        """Solid fills and text only, no image component (raster.encode's fast PNG)."""
        return not any(isinstance(item, ImageItem) for item in self.items)


@dataclass(frozen=True)
class SourceRules:
    """What a document's image sources may cost, the same for every renderer: bytes and
    pixels of one source (the upload limits), the decode budget their decoded pixels lease
    from (pixhaven.decode_budget; 0: none) and how long to wait for it, and `own`, which
    reads URLs of this deployment's own images (render/sources.load_source)."""

    max_image_bytes: int = 70 * 1024 * 1024
    max_image_pixels: int = 100_000_000
    max_decoded_pixels: int = 0
    decode_wait_seconds: float = 0
    own: OwnSource | None = None


@asynccontextmanager
async def laid_out(
    env: Env, document: Document, sources: SourceRules, library: FontLibrary = LIBRARY
) -> AsyncIterator[Layout]:
    """The document's layout, its image sources' pixels leased from the decode budget until
    the block ends. Drop the layout (`del`) inside the block once it is drawn, so the pixels
    go back with the memory they stood for."""
    async with BUDGET.account(sources.max_decoded_pixels, sources.decode_wait_seconds) as pixels:
        yield await build_layout(
            env,
            document,
            max_image_bytes=sources.max_image_bytes,
            max_image_pixels=sources.max_image_pixels,
            library=library,
            pixels=pixels,
            own=sources.own,
        )


async def build_layout(
    env: Env,
    document: Document,
    *,
    max_image_bytes: int,
    max_image_pixels: int,
    library: FontLibrary = LIBRARY,
    pixels: Account | None = None,
    own: OwnSource | None = None,
) -> Layout:
    """`pixels`: the decode-budget account image sources lease from (released by the caller
    once the layout is drawn); `own`: reads URLs of this deployment's own images (see
    render/sources.load_source)."""
    layout = Layout(document.width, document.height, parse_color(document.background))
    for index, component in enumerate(document.components):
        if isinstance(component, TextComponent):
            choose = await choose_faces(
                env,
                library,
                component.fontFamily,
                int(component.fontWeight),
                component.fontStyle == "italic",
                component.text,
            )
            frame = None if component.frameWidth == "fit" else float(component.frameWidth)
            block = layout_text(component.text, component.fontSize, choose, frame)
            layout.items.append(
                TextItem(component.x, component.y, block, parse_color(component.color))
            )
            layout.boxes.append(Box(component.x, component.y, block.frame_width, block.height))
        elif isinstance(component, TagComponent):
            text = " ".join(component.text.split())
            choose = await choose_faces(
                env,
                library,
                component.fontFamily,
                int(component.fontWeight),
                component.fontStyle == "italic",
                text,
            )
            block = layout_text(text, component.fontSize, choose, None)
            pad_x = component.fontSize * TAG_PADDING_X
            pad_y = component.fontSize * TAG_PADDING_Y
            box = Box(
                component.x, component.y, block.content_width + 2 * pad_x, block.height + 2 * pad_y
            )
            layout.items.append(
                RectItem(box, parse_color(component.backgroundColor), box.height / 2)
            )
            layout.items.append(
                TextItem(
                    component.x + pad_x, component.y + pad_y, block, parse_color(component.color)
                )
            )
            layout.boxes.append(box)
        elif isinstance(component, DividerComponent):
            thickness = component.thickness
            if component.direction == "horizontal":
                box = Box(component.x, component.y, component.length, thickness)
            else:
                box = Box(component.x, component.y, thickness, component.length)
            layout.items.append(RectItem(box, parse_color(component.color)))
            layout.boxes.append(box)
        elif isinstance(component, ImageComponent):
            from pixhaven.render import sources

            image = await sources.load_source(
                component.src,
                index,
                max_image_bytes,
                max_image_pixels,
                box=(component.width, component.height),
                pixels=pixels,
                own=own,
            )
            box = Box(component.x, component.y, component.width, component.height)
            radius = min(component.radius, component.width / 2, component.height / 2)
            layout.items.append(ImageItem(box, radius, image))
            layout.boxes.append(box)
    return layout


def cover_crop(size: tuple[int, int], width: float, height: float) -> tuple[float, ...]:
    """The source rectangle (left, top, right, bottom) that `object-fit: cover` shows."""
    src_w, src_h = size
    scale = max(width / src_w, height / src_h)
    crop_w, crop_h = width / scale, height / scale
    left, top = (src_w - crop_w) / 2, (src_h - crop_h) / 2
    return (left, top, left + crop_w, top + crop_h)
