"""README's web server snippets ("Behind nginx or Caddy") as the tests behind nginx and
Caddy run them, and as bench/serving.py runs the nginx one. Nothing here imports the app or
the test settings, so the bench can import it as it is."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_block(language: str) -> str:
    """The one fenced ```language block of README.md: the snippet a test runs."""
    blocks = re.findall(rf"```{language}\n(.*?)```", README.read_text(), re.DOTALL)
    assert len(blocks) == 1, f"README.md should hold exactly one {language} block"
    return blocks[0]


def substituted(text: str, replacements: dict[str, str]) -> str:
    """`text` with each key replaced by its value; every key must be there."""
    for old, new in replacements.items():
        assert old in text, f"README's snippet no longer has {old!r}"
        text = text.replace(old, new)
    return text


def readme_nginx_site(upstream: str, bucket: Path, port: int) -> str:
    """README's nginx block with Pixhaven at `upstream` (host:port), the bucket folder
    `bucket` and nginx listening on `port` of the loopback address."""
    return substituted(
        readme_block("nginx"),
        {
            "server 127.0.0.1:8787;": f"server {upstream};",
            "/srv/pixhaven/.pixhaven/bucket/plain/": f"{bucket}/plain/",
            "server {\n": f"server {{\n    listen 127.0.0.1:{port};\n",
        },
    )
