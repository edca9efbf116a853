"""Remote fetches (services/remote_fetch): the address rules as pure functions, the fetch
loop against a faked network (httpx.MockTransport plus a fake resolver: the network is
faked, our code is not), and Craftr image components over HTTP.
"""

import io
import ipaddress

import httpx
import pytest
from PIL import Image

from pixhaven.net import fetch as remote_fetch
from pixhaven.net.addresses import address_refusal, host_refusal, parse_ipv4_legacy
from pixhaven.net.fetch import (
    BlockedDestination,
    RemoteFetchError,
    TooLarge,
    fetch,
    fetch_image,
)
from tests.conftest import assert_error_envelope

PUBLIC = "93.184.215.14"


def png_bytes(size=(8, 8), color=(0, 200, 80)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def fake_dns(table: dict[str, list[str]]):
    """A resolver over a fixed table; names not in it resolve to a public address."""
    seen = []

    async def resolve(host, port):
        seen.append(host)
        return table.get(host, [PUBLIC])

    resolve.seen = seen
    return resolve


# -- pure checks -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.1.2",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "169.254.1.1",
        "100.64.0.1",
        "100.127.255.254",
        "100.100.100.200",
        "0.0.0.0",
        "224.0.0.1",
        "239.255.255.250",
        "255.255.255.255",
        "192.0.2.1",
        "198.18.0.1",
        "168.63.129.16",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a00:1",
        "2002:7f00:1::",
        "2001:db8::1",
    ],
)
def test_refused_addresses(address):
    assert address_refusal(address) is not None
    assert host_refusal(f"[{address}]" if ":" in address else address) is not None


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", PUBLIC, "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"],
)
def test_public_addresses_pass(address):
    assert address_refusal(address) is None


@pytest.mark.parametrize(
    "host",
    ["127.1", "0x7f.0.0.1", "2130706433", "0177.0.0.1", "017700000001", "0x7f000001", "10.1", "0"],
)
def test_legacy_ipv4_forms_are_read_as_addresses(host):
    assert isinstance(parse_ipv4_legacy(host), ipaddress.IPv4Address)
    assert host_refusal(host) is not None


def test_legacy_ipv4_parser():
    assert str(parse_ipv4_legacy("127.1")) == "127.0.0.1"
    assert str(parse_ipv4_legacy("0x7f.0.0.1")) == "127.0.0.1"
    assert str(parse_ipv4_legacy("2130706433")) == "127.0.0.1"
    assert str(parse_ipv4_legacy("8.8.8.8.")) == "8.8.8.8"
    assert parse_ipv4_legacy("example.com") is None
    assert parse_ipv4_legacy("1.2.example") is None
    with pytest.raises(ValueError):
        parse_ipv4_legacy("1.2.3.256")
    with pytest.raises(ValueError):
        parse_ipv4_legacy("x.1")


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST",
        "api.localhost",
        "localhost.",
        "metadata.google.internal",
        "db.internal",
        "printer.local",
        "metadata",
        "intranet",
        "router.home.arpa",
    ],
)
def test_local_names_are_refused(host):
    assert host_refusal(host) is not None


def test_public_names_pass():
    assert host_refusal("images.example.com") is None
    assert host_refusal("cdn.example.org.") is None


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/a.png",
        "gopher://example.com/",
        "data:image/png;base64,AAAA",
        "http://user:pw@example.com/a.png",
        "http://example.com\\@127.0.0.1/",
        "http://exa mple.com/",
        "http://[::1%25eth0]/",
        "",
    ],
)
async def test_unacceptable_urls(url):
    with pytest.raises(RemoteFetchError):
        await fetch(
            url, max_bytes=100, transport=httpx.MockTransport(lambda r: None), resolver=fake_dns({})
        )


# -- the fetch loop over a faked network ---------------------------------------------------------


def network(routes: dict):
    requested = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        route = routes.get(str(request.url))
        if route is None:
            return httpx.Response(404)
        return route(request) if callable(route) else route

    transport = httpx.MockTransport(handler)
    transport.requested = requested
    return transport


async def test_fetches_a_public_url_and_follows_checked_redirects():
    transport = network(
        {
            "https://a.example.com/start": httpx.Response(302, headers={"Location": "/next"}),
            "https://a.example.com/next": httpx.Response(
                301, headers={"Location": "https://b.example.com/img.png"}
            ),
            "https://b.example.com/img.png": httpx.Response(
                200, content=b"hello", headers={"Content-Type": "text/plain"}
            ),
        }
    )
    dns = fake_dns({})
    fetched = await fetch(
        "https://a.example.com/start", max_bytes=100, transport=transport, resolver=dns
    )
    assert fetched.body == b"hello" and fetched.redirects == 2
    assert fetched.url == "https://b.example.com/img.png"
    assert dns.seen == ["a.example.com", "a.example.com", "b.example.com"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a.png",
        "http://[::1]/a.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/a.png",
        "http://[::ffff:7f00:1]/",
        "http://localhost:8787/",
        "http://metadata.google.internal/",
    ],
)
async def test_private_destinations_are_never_requested(url):
    transport = network({url: httpx.Response(200, content=b"secret")})
    with pytest.raises(BlockedDestination):
        await fetch(url, max_bytes=100, transport=transport, resolver=fake_dns({}))
    assert transport.requested == []


async def test_a_name_resolving_to_a_private_address_is_refused():
    transport = network({"https://sneaky.example.com/": httpx.Response(200)})
    dns = fake_dns({"sneaky.example.com": [PUBLIC, "10.0.0.5"]})
    with pytest.raises(BlockedDestination, match="10.0.0.5"):
        await fetch("https://sneaky.example.com/", max_bytes=100, transport=transport, resolver=dns)
    assert transport.requested == []


@pytest.mark.parametrize(
    "target",
    [
        "http://10.0.0.5/internal",
        "http://127.0.0.1:8787/",
        "http://[::1]/",
        "http://169.254.169.254/",
        "https://rebind.example.com/x",
        "file:///etc/passwd",
    ],
)
async def test_a_redirect_from_public_to_private_is_refused(target):
    transport = network(
        {
            "https://public.example.com/a.png": httpx.Response(302, headers={"Location": target}),
            target: httpx.Response(200, content=b"secret"),
        }
    )
    dns = fake_dns({"rebind.example.com": ["192.168.0.10"]})
    with pytest.raises(RemoteFetchError):
        await fetch(
            "https://public.example.com/a.png", max_bytes=100, transport=transport, resolver=dns
        )
    assert transport.requested == ["https://public.example.com/a.png"]


async def test_redirects_are_limited():
    routes = {
        f"https://r.example.com/{i}": httpx.Response(302, headers={"Location": f"/{i + 1}"})
        for i in range(10)
    }
    transport = network(routes)
    with pytest.raises(RemoteFetchError, match="more than 5 redirects"):
        await fetch(
            "https://r.example.com/0", max_bytes=100, transport=transport, resolver=fake_dns({})
        )
    assert len(transport.requested) == 6


async def test_oversize_bodies_stop_at_the_limit():
    produced = []

    async def endless():
        for _ in range(1000):
            produced.append(1)
            yield b"x" * 1024

    transport = network(
        {
            "https://big.example.com/declared": httpx.Response(
                200, content=b"x" * 5000, headers={"Content-Length": "5000"}
            ),
            "https://big.example.com/stream": lambda request: httpx.Response(
                200, content=endless()
            ),
        }
    )
    with pytest.raises(TooLarge):
        await fetch(
            "https://big.example.com/declared",
            max_bytes=1000,
            transport=transport,
            resolver=fake_dns({}),
        )
    with pytest.raises(TooLarge):
        await fetch(
            "https://big.example.com/stream",
            max_bytes=4096,
            transport=transport,
            resolver=fake_dns({}),
        )
    assert len(produced) < 10  # stopped reading, did not drain the stream


async def test_time_limit():
    import asyncio

    async def slow(request):
        await asyncio.sleep(5)
        return httpx.Response(200)

    class Slow(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            return await slow(request)

    with pytest.raises(remote_fetch.FetchTimeout):
        await fetch(
            "https://slow.example.com/",
            max_bytes=10,
            timeout=0.2,
            transport=Slow(),
            resolver=fake_dns({}),
        )


async def test_http_errors_and_unresolvable_hosts():
    transport = network({"https://e.example.com/gone": httpx.Response(404)})
    with pytest.raises(RemoteFetchError, match="404"):
        await fetch(
            "https://e.example.com/gone", max_bytes=10, transport=transport, resolver=fake_dns({})
        )

    async def nxdomain(host, port):
        raise RemoteFetchError(f"the host {host} does not resolve")

    with pytest.raises(RemoteFetchError, match="does not resolve"):
        await fetch(
            "https://nope.example.com/", max_bytes=10, transport=transport, resolver=nxdomain
        )


async def test_without_a_resolver_only_literals_are_checked():
    async def no_dns(host, port):
        return None

    transport = network({"https://ok.example.com/": httpx.Response(200, content=b"ok")})
    assert (
        await fetch("https://ok.example.com/", max_bytes=10, transport=transport, resolver=no_dns)
    ).body == b"ok"
    with pytest.raises(BlockedDestination):
        await fetch("https://127.0.0.1/", max_bytes=10, transport=transport, resolver=no_dns)


async def test_system_resolver_refuses_localhost_addresses():
    # The real resolver (where this machine has one): "localhost" is refused by name, and
    # a dotted name that resolves to loopback is refused by address.
    if not await remote_fetch._dns_works():
        pytest.skip("no real resolver here")
    assert await remote_fetch.system_resolver("127.0.0.1", 80) == ["127.0.0.1"]
    with pytest.raises(BlockedDestination):
        await remote_fetch.check_destination("http://localhost/")


async def test_fetch_image_checks_bytes_like_an_upload():
    from pixhaven.errors import ApiError

    transport = network(
        {
            "https://i.example.com/ok.png": httpx.Response(200, content=png_bytes()),
            "https://i.example.com/evil.svg": httpx.Response(
                200,
                content=b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>",
                headers={"Content-Type": "image/png"},
            ),
            "https://i.example.com/huge.png": httpx.Response(200, content=png_bytes((300, 300))),
        }
    )
    dns = fake_dns({})
    data = await fetch_image(
        "https://i.example.com/ok.png",
        max_bytes=10_000,
        max_pixels=1000,
        transport=transport,
        resolver=dns,
    )
    assert data.startswith(b"\x89PNG")
    with pytest.raises(ApiError) as svg:
        await fetch_image(
            "https://i.example.com/evil.svg",
            max_bytes=10_000,
            max_pixels=1000,
            transport=transport,
            resolver=dns,
        )
    assert svg.value.status == 415
    with pytest.raises(ApiError) as huge:
        await fetch_image(
            "https://i.example.com/huge.png",
            max_bytes=100_000,
            max_pixels=1000,
            transport=transport,
            resolver=dns,
        )
    assert huge.value.status == 413


# -- through HTTP: Craftr image components ------------------------------------------------------


@pytest.fixture
def fake_network(monkeypatch):
    routes: dict = {}
    transport = network(routes)
    monkeypatch.setattr(remote_fetch, "default_transport", lambda: transport)
    monkeypatch.setattr(
        remote_fetch, "default_resolver", fake_dns({"intranet.example.com": ["10.0.0.9"]})
    )
    transport.routes = routes
    return transport


def image_doc(src):
    return {
        "width": 60,
        "height": 60,
        "background": "#ffffff",
        "components": [{"type": "image", "src": src, "width": 40, "height": 40, "x": 10, "y": 10}],
    }


async def test_craftr_draws_a_remote_image(client, admin, fake_network):
    fake_network.routes["https://img.example.com/red.png"] = httpx.Response(
        200, content=png_bytes((4, 4), (255, 0, 0)), headers={"Content-Type": "image/png"}
    )
    response = await client.post(
        "/api/v1/image",
        json=image_doc("https://img.example.com/red.png"),
        headers={**admin, "Accept": "image/png"},
    )
    assert response.status_code == 200, response.text
    rgb = Image.open(io.BytesIO(response.content)).convert("RGB")
    assert rgb.getpixel((30, 30)) == (255, 0, 0) and rgb.getpixel((5, 5)) == (255, 255, 255)


@pytest.mark.parametrize(
    "src,status",
    [
        ("http://127.0.0.1/a.png", 422),
        ("http://[::1]/a.png", 422),
        ("http://169.254.169.254/latest/meta-data/", 422),
        ("http://10.1.2.3/a.png", 422),
        ("https://intranet.example.com/a.png", 422),
        ("https://img.example.com/to-private", 422),
        ("https://img.example.com/page.html", 422),
        ("https://img.example.com/missing.png", 422),
        ("ftp://img.example.com/a.png", 400),
        ("file:///etc/passwd", 400),
    ],
)
async def test_craftr_refuses_unsafe_remote_images(client, admin, fake_network, src, status):
    fake_network.routes["https://img.example.com/to-private"] = httpx.Response(
        302, headers={"Location": "http://192.168.1.1/admin.png"}
    )
    fake_network.routes["https://img.example.com/page.html"] = httpx.Response(
        200, content=b"<html><body>not an image</body></html>"
    )
    fake_network.routes["http://192.168.1.1/admin.png"] = httpx.Response(200, content=b"no")
    body = assert_error_envelope(
        await client.post(
            "/api/v1/image", json=image_doc(src), headers={**admin, "Accept": "image/png"}
        ),
        status,
    )
    assert body["error"].startswith("Invalid component 0 (image): src:")
    assert body["details"]["errors"][0] == {
        **body["details"]["errors"][0],
        "component": 0,
        "field": "src",
    }
    assert "http://192.168.1.1/admin.png" not in fake_network.requested


@pytest.mark.parametrize("settings_overrides", [{"MAX_UPLOAD_BYTES": "1000"}])
async def test_remote_image_byte_limit_is_the_upload_limit(
    client, admin, fake_network, settings_overrides
):
    fake_network.routes["https://img.example.com/big.png"] = httpx.Response(
        200, content=png_bytes((400, 400), (1, 2, 3)) + b"\0" * 1000
    )
    body = assert_error_envelope(
        await client.post(
            "/api/v1/image",
            json=image_doc("https://img.example.com/big.png"),
            headers={**admin, "Accept": "image/png"},
        ),
        413,
    )
    assert "1000 bytes" in body["error"]


# -- post_json (webhook deliveries) -------------------------------------------------------------


async def test_post_json_sends_the_body_and_never_follows_redirects():
    seen = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/moved":
            return httpx.Response(302, headers={"Location": "http://127.0.0.1/admin"})
        return httpx.Response(200, content=b"ok" * 5000)

    transport = httpx.MockTransport(handle)
    dns = fake_dns({})
    posted = await remote_fetch.post_json(
        "https://hooks.example.com/in",
        b'{"a":1}',
        headers={"X-Test": "1"},
        transport=transport,
        resolver=dns,
        max_response_bytes=100,
    )
    assert posted.status == 200 and len(posted.body) == 100
    request = seen[-1]
    assert request.method == "POST" and request.content == b'{"a":1}'
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-test"] == "1"
    posted = await remote_fetch.post_json(
        "https://hooks.example.com/moved", b"{}", transport=transport, resolver=dns
    )
    assert posted.status == 302 and len(seen) == 2  # answered as is, not followed


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://169.254.169.254/latest",
        "http://localhost:8080/",
        "ftp://hooks.example.com/",
        "https://rebound.example.com/hook",
    ],
)
async def test_post_json_refuses_before_sending(url):
    def handle(request):
        raise AssertionError("no request may be sent")

    with pytest.raises(RemoteFetchError):
        await remote_fetch.post_json(
            url,
            b"{}",
            transport=httpx.MockTransport(handle),
            resolver=fake_dns({"rebound.example.com": ["10.0.0.1"]}),
        )


async def test_post_json_network_errors_and_timeouts():
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(RemoteFetchError) as failed:
        await remote_fetch.post_json(
            "https://hooks.example.com/",
            b"{}",
            transport=httpx.MockTransport(refuse),
            resolver=fake_dns({}),
        )
    assert failed.value.reason == "FETCH_FAILED"

    def slow(request):
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(remote_fetch.FetchTimeout):
        await remote_fetch.post_json(
            "https://hooks.example.com/",
            b"{}",
            transport=httpx.MockTransport(slow),
            resolver=fake_dns({}),
        )
