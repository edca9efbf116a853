"""Which destinations an outbound request may reach: URL shape, host names and address
literals (IPv4 in every legacy spelling, IPv6 with the IPv4 it may carry). Pure checks, no
I/O: net/fetch.py applies them before every request and redirect hop."""

from __future__ import annotations

import ipaddress
import re

from pixhaven.net.errors import BlockedDestination, InvalidURL

NAT64 = ipaddress.ip_network("64:ff9b::/96")

BLOCKED_NAMES = frozenset(
    {
        "localhost",
        "metadata",
        "metadata.goog",
        "metadata.google.internal",
        "instance-data",
        "ip6-localhost",
        "ip6-loopback",
    }
)
BLOCKED_SUFFIXES = (
    ".localhost",
    ".local",
    ".localdomain",
    ".internal",
    ".home.arpa",
    ".intranet",
    ".lan",
)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "100.100.100.200",
        "168.63.129.16",
        "fd00:ec2::254",
        "192.0.0.192",
    )
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
_BAD_URL_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_NUMERIC_LABEL = re.compile(r"(0[xX][0-9a-fA-F]*|[0-9]+)")


def parse_ipv4_legacy(host: str) -> ipaddress.IPv4Address | None:
    """A host read as IPv4 the way WHATWG URL parsers (and `inet_aton`) read it: 1–4 parts,
    each decimal, octal (leading 0) or hex (0x); the last part fills the remaining bytes.
    None when the host is not numeric; ValueError when it is numeric but invalid."""
    labels = host.split(".")
    if labels and labels[-1] == "":
        labels = labels[:-1]
    if not labels or not _NUMERIC_LABEL.fullmatch(labels[-1]):
        return None
    if len(labels) > 4:
        raise ValueError("too many parts")
    numbers = []
    for label in labels:
        if not _NUMERIC_LABEL.fullmatch(label):
            raise ValueError(f"invalid part {label!r}")
        if label[:2].lower() == "0x":
            numbers.append(int(label[2:] or "0", 16))
        elif len(label) > 1 and label.startswith("0"):
            numbers.append(int(label, 8))
        else:
            numbers.append(int(label))
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        raise ValueError("part out of range")
    value = last
    for position, number in enumerate(head):
        value += number << (8 * (3 - position))
    return ipaddress.IPv4Address(value)


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, NAT64, 6to4, Teredo, compatible)."""
    found = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address in NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if int(address) >> 32 == 0 and int(address) > 1:  # deprecated ::a.b.c.d
        found.append(ipaddress.IPv4Address(int(address)))
    return found


def address_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address | str) -> str | None:
    """Why this address may not be fetched from, or None when it may."""
    if isinstance(address, str):
        address = ipaddress.ip_address(address.split("%", 1)[0])
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for attribute, what in (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
    ):
        if getattr(address, attribute):
            return f"a {what} address"
    if isinstance(address, ipaddress.IPv4Address) and address in CGNAT:
        return "a shared (CGNAT) address"
    if isinstance(address, ipaddress.IPv6Address):
        for inner in embedded_ipv4(address):
            why = address_refusal(inner)
            if why:
                return f"{why} (inside {address})"
        if address.ipv4_mapped is not None or address in NAT64:
            return None  # the IPv4 inside it is global
    if address.is_private:
        return "a private address"
    if not address.is_global or address.is_reserved:
        return "not a public address"
    return None


def host_refusal(host: str) -> str | None:
    """Why a URL host (name or literal) is refused before any resolution, or None."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        return "the URL has no host"
    if ":" in host:
        if "%" in host:
            return "IPv6 zone identifiers are not allowed"
        try:
            return address_refusal(ipaddress.IPv6Address(host))
        except ValueError:
            return "invalid IPv6 address"
    try:
        literal = parse_ipv4_legacy(host)
    except ValueError:
        return "invalid IPv4 address"
    if literal is not None:
        return address_refusal(literal)
    name = host.rstrip(".")
    if name in BLOCKED_NAMES or name.endswith(BLOCKED_SUFFIXES) or "." not in name:
        return "a local or internal host name"
    return None


def split_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable URL, or InvalidURL/BlockedDestination."""
    import httpx

    if not isinstance(url, str) or not url or len(url) > 4096:
        raise InvalidURL("the URL must be a non-empty string of at most 4096 characters", "")
    if _BAD_URL_CHARS.search(url):
        raise InvalidURL("the URL contains whitespace, control characters or backslashes", url)
    try:
        parsed = httpx.URL(url)
    except Exception:
        raise InvalidURL("the URL cannot be parsed", url) from None
    scheme = parsed.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidURL(f"only http and https URLs are fetched, not {scheme or 'this'}:", url)
    if parsed.userinfo:
        raise InvalidURL("URLs with user information (user@host) are not fetched", url)
    host = parsed.raw_host.decode("ascii", "replace").lower()
    why = host_refusal(host)
    if why:
        raise BlockedDestination(f"refused to fetch {host}: {why}", url)
    port = parsed.port or (443 if scheme == "https" else 80)
    return scheme, host.strip("[]"), port
