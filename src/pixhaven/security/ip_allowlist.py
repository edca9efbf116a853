"""`ALLOWED_IPS`: a comma-separated list of IPv4/IPv6 addresses and CIDR ranges.

An empty list allows everyone. The client address comes from the ASGI scope's `client`,
which uvicorn fills from the socket locally and which the Worker entry fills from
`CF-Connecting-IP` (see `pixhaven.middleware.cloudflare_client_address`); a request header
is never consulted here, so the header cannot be forged against the local server.
"""

import ipaddress
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=32)
def parse_allowlist(raw: str) -> tuple[Network, ...]:
    """Parse once per distinct setting value; a bad entry is a configuration error."""
    networks = []
    for entry in raw.replace(";", ",").split(","):
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"ALLOWED_IPS: {entry!r} is not an IP address or CIDR range") from None
    return tuple(networks)


def is_allowed(client_ip: str | None, allowlist: tuple[Network, ...]) -> bool:
    if not allowlist:
        return True
    if not client_ip:
        return False
    try:
        address = ipaddress.ip_address(client_ip.strip().split("%")[0])
    except ValueError:
        return False
    # An IPv4 client seen through an IPv6 socket (::ffff:a.b.c.d) matches IPv4 entries.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == net.version and address in net for net in allowlist)
