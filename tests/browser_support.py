"""What the browser tests share: finding a Chromium (or skipping), a loopback HTTP server
that records every request it gets, and reading rendered pixels.

Browser tests skip where no Chromium is found, unless PIXHAVEN_REQUIRE_BROWSER=1 (CI sets
it in .ci/run, after installing one), where that is a failure.
"""

from __future__ import annotations

import io
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from pixhaven.local.bindings.browser import find_executable


def require_browser() -> None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing = (
            "Playwright is not installed "
            "(pip install -e '.[local,test]' -c constraints/production.txt)"
        )
    else:
        if find_executable() is not None or playwright_download():
            return
        missing = "no Chromium on PATH (apt-get install chromium) or from playwright install"
    if os.environ.get("PIXHAVEN_REQUIRE_BROWSER") == "1":
        pytest.fail(missing)
    pytest.skip(missing)


def playwright_download() -> bool:
    """Whether `playwright install chromium` put a browser where Playwright looks (what
    LocalBrowser launches when no Chromium is on PATH)."""
    from pathlib import Path

    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache/ms-playwright")
    return any(root.glob("chromium*/chrome-linux*/chrome"))


PAGE = (
    "<html><body style='margin:0;background:#0000ff'>"
    "<div id='card' style='width:150px;height:60px;background:#00ff00'></div></body></html>"
)

# A bar sliding across a white page once every 2 s.
ANIMATED_PAGE = (
    "<html><style>@keyframes slide{from{left:0}to{left:150px}}"
    "#bar{position:absolute;top:0;left:0;width:50px;height:100px;background:#0000ff;"
    "animation:slide 2s linear infinite}</style>"
    "<body style='margin:0;background:#ffffff'><div id='bar'></div></body></html>"
)


class Recorder(BaseHTTPRequestHandler):
    """Serves a few fixed paths and records every request path it receives."""

    server: RecordingServer

    def do_GET(self):
        self.server.requests.append(self.path)
        if self.path == "/page":
            self._send(200, "text/html", PAGE.encode())
        elif self.path == "/animated":
            self._send(200, "text/html", ANIMATED_PAGE.encode())
        elif self.path.startswith("/redirect-to?"):
            self.send_response(302)
            self.send_header("Location", self.path.split("?", 1)[1])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/redirect-page":
            pixel = self.server.url + "/redirect-to?"
            targets = [
                "http://169.254.169.254/latest/meta-data/",
                "http://10.0.0.1/",
                self.server.url + "/after-redirect",
                *self.server.redirect_targets,
            ]
            html = "<body style='margin:0;background:#ffffff'>" + "".join(
                f"<img src='{pixel}{target}'>" for target in targets
            )
            self._send(200, "text/html", html.encode())
        else:
            self._send(200, "text/plain", b"secret")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output quiet
        pass


class RecordingServer(ThreadingHTTPServer):
    def __init__(self, host: str = "127.0.0.1"):
        if ":" in host:
            import socket

            self.address_family = socket.AF_INET6
        super().__init__((host, 0), Recorder)
        self.requests: list[str] = []
        self.redirect_targets: list[str] = []  # more hops for /redirect-page
        literal = f"[{host}]" if ":" in host else host
        self.url = f"http://{literal}:{self.server_address[1]}"
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class RawListener:
    """A loopback TCP listener and UDP socket that record anything arriving (WebRTC's STUN
    and TURN do not speak HTTP)."""

    def __init__(self):
        import socket

        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.tcp_port, self.udp_port = self.tcp.getsockname()[1], self.udp.getsockname()[1]
        self.received: list[str] = []
        for sock, kind in ((self.tcp, "tcp"), (self.udp, "udp")):
            threading.Thread(target=self._listen, args=(sock, kind), daemon=True).start()

    def _listen(self, sock, kind: str) -> None:
        while True:
            try:
                if kind == "tcp":
                    connection, _ = sock.accept()
                    connection.close()
                else:
                    sock.recvfrom(2048)
            except OSError:  # closed by stop()
                return
            self.received.append(kind)

    def stop(self) -> None:
        import socket

        for sock in (self.tcp, self.udp):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


def private_address() -> str | None:
    """This machine's own address on its network when that is a private one (as in most
    containers and LANs), for a listener a page must not reach even with the loopback
    allowance on; None when there is none."""
    import ipaddress
    import socket

    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))  # UDP: picks the outgoing interface, sends nothing
        address = ipaddress.ip_address(probe.getsockname()[0])
    except OSError:
        return None
    finally:
        probe.close()
    if address.is_loopback or address.is_global:
        return None
    return str(address)


def image(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


def near(colour, expected, tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=False))


def dark_pixels(picture: Image.Image, box=None) -> int:
    """How many pixels are nearly black (text drawn on a light background)."""
    grey = picture.convert("L")
    if box:
        grey = grey.crop(box)
    return sum(grey.histogram()[:40])
