"""The image-format engine: bytes in, bytes out. Magic-byte types, headers read without
decoding (dimensions, frames), bounded decode checks, lossless metadata stripping and
ThumbHash placeholders. No bindings, no database: the upload pipeline, the renderer and
remote fetches all check image bytes here."""
