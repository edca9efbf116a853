"""Fetching a URL a client gave us (image `src` in components, webhook deliveries, binding
data sources) without letting the client point the server at places only the server can
reach (SSRF).

    fetched = await fetch(url, max_bytes=..., timeout=10.0)
    fetched = await fetch(url, max_bytes=..., method="POST", body=..., headers=...,
                          allow=settings.outbound_test_allow)          # binding data
    data = await fetch_image(url, max_bytes=..., max_pixels=...)
    posted = await post_json(url, body_bytes, headers=..., timeout=10.0)   # webhooks

Rules, all enforced before any byte is sent and again for every redirect hop:
- `http` and `https` only; no user info (`user@host`), no backslashes, whitespace or
  control characters in the URL (places where URL parsers disagree about the host);
- the host is not a name that means "this machine or its network": `localhost`,
  `*.localhost`, `*.local`, `*.localdomain`, `*.internal` (incl. `metadata.google.internal`),
  `*.home.arpa`, `metadata`, `metadata.goog`;
- an address literal (IPv4 in any legacy form such as `127.1`, `0x7f.0.0.1` or `2130706433`,
  as WHATWG URL parsers — and so `fetch` — read them; IPv6, incl. IPv4-mapped, NAT64,
  6to4 and Teredo forms checked through the IPv4 they carry) must be a global unicast
  address: private, loopback, link-local, CGNAT (100.64/10), multicast, unspecified,
  reserved, documentation and cloud metadata addresses (169.254.169.254, fd00:ec2::254,
  100.100.100.200, 168.63.129.16) are refused;
- a host name is resolved, and refused if *any* of its addresses is refused — where the
  runtime can resolve names. That is decided by capability, not by asking where we run:
  `loop.getaddrinfo` must work and must not answer for `pixhaven-probe.invalid` (RFC 6761
  reserves `.invalid`; Emscripten's `getaddrinfo`, as in Pyodide, invents a synthetic
  172.29.x.x address for every name instead of resolving it). Without a real resolver only
  the literal checks apply: that is the Cloudflare Worker, where `httpx` goes through
  `fetch` and Cloudflare's network does not route to private ranges anyway;
- redirects are followed by hand (at most `max_redirects`, default 5), each target
  checked as above; the body is streamed and the fetch stops as soon as it passes
  `max_bytes`; the whole fetch, redirects included, has one deadline (`timeout`).
  `post_json` checks its URL the same way and never follows a redirect.
`fetch` may send the caller's `headers` (a binding's credentials): they go to the first
URL's origin only, and are dropped on a redirect to another origin. With conditional
headers (`If-None-Match`, `If-Modified-Since`) a `304` is an answer, not an error.

`allow` (the test-only OUTBOUND_TEST_ALLOW, settings.py) names loopback `host:port` pairs
the test suite's own HTTP servers listen on; a URL on exactly such a pair skips the
destination check. It cannot name anything but a loopback address (settings refuses it),
and without it loopback stays refused.

`fetch_image` then checks the bytes exactly as an upload is checked (type from magic
bytes, byte and pixel limits from the header, a bounded decode: services/images/pipeline).

Residual risk, accepted: DNS rebinding between our resolution and httpx's own (locally
only; the connection is not pinned to the checked address). `trust_env=False`, so proxy
variables never route these requests.

`httpx` is imported inside the functions: the Worker's import graph stays small and
nothing here runs at import time. Tests inject `transport` (an `httpx.MockTransport`) and
`resolver`; HTTP-level tests set the module defaults `default_transport` and
`default_resolver`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field

from pixhaven.net.addresses import address_refusal, parse_ipv4_legacy, split_url
from pixhaven.net.errors import (
    BlockedDestination,
    FetchTimeout,
    RemoteFetchError,
    TooLarge,
)
from pixhaven.numerals import is_ascii_digits

Resolver = Callable[[str, int], Awaitable["list[str] | None"]]
MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = 10.0
REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = "Pixhaven/0.1 (+remote image fetch)"


# Set by HTTP-level tests (the network is faked, not our code); None = the real thing.
default_transport: Callable[[], object] | None = None
default_resolver: Resolver | None = None


@dataclass
class Fetched:
    url: str  # after redirects
    status: int
    content_type: str
    body: bytes
    redirects: int
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names


# (host, port) pairs a destination check lets through: OUTBOUND_TEST_ALLOW (tests only).
Allowlist = Collection[tuple[str, int]]
CONDITIONAL_HEADERS = ("if-none-match", "if-modified-since")


_real_dns: bool | None = None  # decided on first use, once per isolate/process


async def _dns_works() -> bool:
    """Capability probe: a real resolver answers "no such name" for a `.invalid` name."""
    global _real_dns
    if _real_dns is None:
        import socket

        try:
            loop = asyncio.get_running_loop()
            await loop.getaddrinfo("pixhaven-probe.invalid", 443, type=socket.SOCK_STREAM)
            _real_dns = False  # it "resolved" a name that cannot exist: synthetic
        except socket.gaierror:
            _real_dns = True
        except Exception:  # NotImplementedError, no threads, no socket support, ...
            _real_dns = False
    return _real_dns


async def system_resolver(host: str, port: int) -> list[str] | None:
    """The host's addresses, or None when this runtime cannot resolve names."""
    if not await _dns_works():
        return None
    import socket

    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise RemoteFetchError(f"the host {host} does not resolve") from None
    except Exception:
        return None
    return sorted({str(info[4][0]) for info in infos})  # the address (a str for IPv4/IPv6)


def allowed_for_tests(url: str, allow: Allowlist) -> bool:
    """Whether `url` is on one of the test-only allowlist's loopback (host, port) pairs."""
    if not allow:
        return False
    import httpx

    try:
        parsed = httpx.URL(url)
    except Exception:
        return False
    if parsed.scheme not in ("http", "https") or parsed.userinfo:
        return False
    host = parsed.raw_host.decode("ascii", "replace").lower().strip("[]")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return (host, port) in allow


async def check_destination(
    url: str, resolver: Resolver | None = None, allow: Allowlist = ()
) -> None:
    """Raise unless `url` may be fetched: syntax, scheme, host name, and every address the
    host resolves to (where names can be resolved). `allow`: see the module docstring."""
    if allowed_for_tests(url, allow):
        return
    _, host, port = split_url(url)
    if ":" in host or parse_ipv4_legacy(host) is not None:
        return  # a literal, already checked
    resolve = resolver or default_resolver or system_resolver
    addresses = await resolve(host, port)
    for address in addresses or ():
        try:
            why = address_refusal(address)
        except ValueError:
            why = "an unparseable address"
        if why:
            raise BlockedDestination(
                f"refused to fetch {host}: it resolves to {address}, {why}", url
            )


def _client(transport, timeout: float, headers: dict):
    """An httpx client that never follows redirects by itself (each hop is checked here) and
    ignores proxy settings from the environment."""
    import httpx

    if transport is None and default_transport is not None:
        transport = default_transport()
    return httpx.AsyncClient(
        transport=transport,
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": USER_AGENT, **headers},
    )


async def fetch(
    url: str,
    *,
    max_bytes: int,
    timeout: float = DEFAULT_TIMEOUT,
    max_redirects: int = MAX_REDIRECTS,
    transport=None,
    resolver: Resolver | None = None,
    accept: str = "*/*",
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    allow: Allowlist = (),
) -> Fetched:
    """GET (or `method`) `url` under the rules in the module docstring."""
    request = _Request(method, body, headers or {}, allow)
    try:
        return await asyncio.wait_for(
            _fetch(url, max_bytes, timeout, max_redirects, transport, resolver, accept, request),
            timeout,
        )
    except TimeoutError:
        raise FetchTimeout(f"fetching the URL took longer than {timeout:g} s", url) from None


@dataclass
class _Request:
    method: str
    body: bytes | None
    headers: dict[str, str]
    allow: Allowlist

    def conditional(self) -> bool:
        return any(name.lower() in CONDITIONAL_HEADERS for name in self.headers)


def _origin(url) -> tuple:
    return (url.scheme, url.host, url.port)


async def _fetch(url, max_bytes, timeout, max_redirects, transport, resolver, accept, request):
    import httpx

    client = _client(transport, timeout, {"Accept": accept})
    current = url
    method, content = request.method, request.body
    first_origin = _origin(httpx.URL(url))
    try:
        async with client:
            for hop in range(max_redirects + 1):
                await check_destination(current, resolver, request.allow)
                # The caller's headers (credentials) go to the origin it named, nowhere else.
                same_origin = _origin(httpx.URL(current)) == first_origin
                headers = request.headers if same_origin else {}
                try:
                    async with client.stream(
                        method, current, content=content, headers=headers
                    ) as response:
                        if response.status_code in REDIRECTS:
                            location = response.headers.get("location")
                            if not location:
                                raise RemoteFetchError("redirect without a Location", current)
                            current = str(response.url.join(location))
                            if response.status_code == 303 or (
                                response.status_code in (301, 302) and method == "POST"
                            ):
                                method, content = "GET", None  # what browsers do
                            continue
                        if response.status_code == 304 and request.conditional():
                            return Fetched(
                                str(response.url),
                                304,
                                response.headers.get("content-type", ""),
                                b"",
                                hop,
                                {k.lower(): v for k, v in response.headers.items()},
                            )
                        if not 200 <= response.status_code < 300:
                            raise RemoteFetchError(
                                f"the server answered HTTP {response.status_code}", current
                            )
                        declared = response.headers.get("content-length", "")
                        if is_ascii_digits(declared) and int(declared) > max_bytes:
                            raise TooLarge(f"larger than {max_bytes} bytes", current)
                        body = bytearray()
                        async for chunk in response.aiter_bytes():  # decoded: no gzip bombs
                            body += chunk
                            if len(body) > max_bytes:
                                raise TooLarge(f"larger than {max_bytes} bytes", current)
                        return Fetched(
                            str(response.url),
                            response.status_code,
                            response.headers.get("content-type", ""),
                            bytes(body),
                            hop,
                            {k.lower(): v for k, v in response.headers.items()},
                        )
                except httpx.TimeoutException:
                    raise FetchTimeout(
                        f"fetching the URL took longer than {timeout:g} s", current
                    ) from None
                except httpx.HTTPError as exc:
                    raise RemoteFetchError(
                        f"the fetch failed: {type(exc).__name__}", current
                    ) from None
            raise RemoteFetchError(f"more than {max_redirects} redirects", current)
    except RemoteFetchError as exc:
        exc.url = exc.url or current
        raise


async def fetch_image(
    url: str,
    *,
    max_bytes: int,
    max_pixels: int,
    timeout: float = DEFAULT_TIMEOUT,
    transport=None,
    resolver: Resolver | None = None,
) -> bytes:
    """The bytes of a remote image, checked like an upload (inspect.check_image_bytes:
    magic-byte type allowlist, no SVG, byte and pixel limits, bounded decode). Raises
    RemoteFetchError or the pipeline's ApiError."""
    from types import SimpleNamespace

    from pixhaven.imaging.inspect import check_image_bytes

    fetched = await fetch(
        url,
        max_bytes=max_bytes,
        timeout=timeout,
        transport=transport,
        resolver=resolver,
        accept="image/avif,image/webp,image/png,image/jpeg,image/gif",
    )
    check_image_bytes(
        fetched.body, SimpleNamespace(max_upload_bytes=max_bytes, max_upload_pixels=max_pixels)
    )
    return fetched.body


@dataclass
class Posted:
    status: int
    headers: dict
    body: bytes  # at most `max_response_bytes` of it


async def post_json(
    url: str,
    body: bytes,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_response_bytes: int = 4096,
    transport=None,
    resolver: Resolver | None = None,
) -> Posted:
    """POST a JSON body to `url` (webhook deliveries) under the same destination rules as
    `fetch`. Redirects are never followed: a 3xx is answered as it came. Any HTTP status is
    returned (the caller decides what to retry); the destination check, a network error or
    the deadline raise RemoteFetchError (BlockedDestination, InvalidURL, FetchTimeout)."""
    try:
        return await asyncio.wait_for(
            _post(url, body, headers or {}, timeout, max_response_bytes, transport, resolver),
            timeout,
        )
    except TimeoutError:
        raise FetchTimeout(f"the request took longer than {timeout:g} s", url) from None


async def _post(url, body, headers, timeout, max_response_bytes, transport, resolver):
    import httpx

    await check_destination(url, resolver)
    client = _client(transport, timeout, {"Content-Type": "application/json"})
    try:
        async with client, client.stream("POST", url, content=body, headers=headers) as response:
            received = bytearray()
            async for chunk in response.aiter_bytes():
                received += chunk
                if len(received) >= max_response_bytes:
                    break
            return Posted(
                response.status_code,
                dict(response.headers),
                bytes(received[:max_response_bytes]),
            )
    except httpx.TimeoutException:
        raise FetchTimeout(f"the request took longer than {timeout:g} s", url) from None
    except httpx.HTTPError as exc:
        raise RemoteFetchError(f"the request failed: {type(exc).__name__}", url) from None
