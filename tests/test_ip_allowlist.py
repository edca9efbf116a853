"""ALLOWED_IPS: IPv4/IPv6 addresses and CIDRs; a plain-text 403 `Forbidden` outside it."""

import pytest

from pixhaven.security.ip_allowlist import is_allowed, parse_allowlist

ALLOWLIST = "203.0.113.7, 198.51.100.0/24, 2001:db8::/32, ::1, 127.0.0.1"


@pytest.fixture
def settings_overrides():
    return {"ALLOWED_IPS": ALLOWLIST}


@pytest.mark.parametrize(
    "ip",
    [
        "203.0.113.7",
        "198.51.100.1",
        "198.51.100.254",
        "2001:db8::1",
        "2001:db8:ffff::5",
        "::1",
        "127.0.0.1",
        "::ffff:198.51.100.9",
    ],
)
def test_inside(ip):
    assert is_allowed(ip, parse_allowlist(ALLOWLIST))


@pytest.mark.parametrize(
    "ip", ["203.0.113.8", "198.51.101.1", "2001:db9::1", "::2", "10.0.0.1", "", None, "not-an-ip"]
)
def test_outside(ip):
    assert not is_allowed(ip, parse_allowlist(ALLOWLIST))


def test_empty_allowlist_allows_everyone():
    assert is_allowed("192.0.2.1", parse_allowlist(""))


def test_bad_entry_is_a_configuration_error():
    with pytest.raises(ValueError, match="999.1.1.1"):
        parse_allowlist("10.0.0.0/8, 999.1.1.1")


@pytest.mark.parametrize("ip", ["198.51.100.20", "2001:db8::abcd"])
async def test_http_inside_is_served(client_from, ip):
    async with client_from(ip) as http:
        assert (await http.get("/health")).status_code == 200


@pytest.mark.parametrize("ip", ["192.0.2.1", "2001:db9::1"])
async def test_http_outside_is_plain_forbidden(client_from, ip):
    async with client_from(ip) as http:
        for method, path in (
            ("GET", "/health"),
            ("GET", "/v1/keys"),
            ("OPTIONS", "/v1/keys"),
            ("POST", "/api/validate-api-key"),
        ):
            response = await http.request(method, path)
            assert response.status_code == 403
            assert response.text == "Forbidden"
            assert response.headers["content-type"].startswith("text/plain")


async def test_cf_connecting_ip_is_ignored_by_the_local_server(client_from):
    async with client_from("192.0.2.1") as http:
        response = await http.get("/health", headers={"CF-Connecting-IP": "203.0.113.7"})
        assert response.status_code == 403
    async with client_from("203.0.113.7") as http:
        response = await http.get("/health", headers={"CF-Connecting-IP": "192.0.2.1"})
        assert response.status_code == 200


async def test_cloudflare_entry_uses_cf_connecting_ip(app, env):
    """The wrapper src/entry.py applies: on Cloudflare the header is the client address."""
    import httpx

    from pixhaven.local.runtime.server import with_env
    from pixhaven.middleware import cloudflare_client_address

    served = cloudflare_client_address(with_env(app, env))
    transport = httpx.ASGITransport(app=served, client=("192.0.2.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        assert (
            await http.get("/health", headers={"CF-Connecting-IP": "203.0.113.7"})
        ).status_code == 200
        assert (
            await http.get("/health", headers={"CF-Connecting-IP": "192.0.2.1"})
        ).status_code == 403
        assert (await http.get("/health")).status_code == 403
