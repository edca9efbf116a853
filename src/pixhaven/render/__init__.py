"""The rendering engine: component documents (Craftr, Pictify) to SVG and raster images.

`document` (pydantic, cheap to import) validates; `engine.render` computes one layout
(`layout`, from `text` and `fonts`) and draws it with `svg` or `raster`. Import `engine`
inside request handlers: it pulls in fontTools and Pillow, which cold starts do not need.
"""
