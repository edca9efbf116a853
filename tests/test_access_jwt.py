"""Cloudflare Access tokens (`Cf-Access-Jwt-Assertion`, security/access_jwt.py).

The verifier is pure Python; `cryptography` (test-only) makes the RSA keys and signatures it is
checked against. Over HTTP, the team's JWKS is served by a faked network (httpx.MockTransport
through remote_fetch's hook: the network is faked, our code is not) and the clock is ours.
"""

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from pixhaven.net import fetch as remote_fetch
from pixhaven.security import access_jwt
from pixhaven.security.access_jwt import (
    AccessDenied,
    RsaPublicKey,
    b64url_decode,
    check_claims,
    emsa_pkcs1_v15_sha256,
    parse_jwks,
    rsa_pkcs1_sha256_verify,
)
from pixhaven.settings import Settings, team_domain

from .conftest import assert_error_envelope, bearer
from .imagegen import unique_jpeg

TEAM = "myteam.cloudflareaccess.com"
AUD = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2"
CERTS = f"https://{TEAM}/cdn-cgi/access/certs"
EMAIL = "alice@example.com"
ENABLED = {"ACCESS_TEAM_DOMAIN": TEAM, "ACCESS_AUD": AUD}
KID = "1a1c3986a44ce6390be42ec772b031df8f433fdc71716db821dc0c39af3bce49"
KID2 = "6c3bffef71bb0a90c9cbef3b7c0d4a1c7b4b8b76b80292a623afd9dac45d1c65"

_keys: dict[str, rsa.RSAPrivateKey] = {}


def private_key(name: str) -> rsa.RSAPrivateKey:
    if name not in _keys:
        _keys[name] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _keys[name]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def jwk(kid: str, key: rsa.RSAPrivateKey) -> dict:
    numbers = key.public_key().public_numbers()
    return {
        "kid": kid,
        "kty": "RSA",
        "alg": "RS256",
        "use": "sig",
        "e": uint(numbers.e),
        "n": uint(numbers.n),
    }


def jwks(*pairs) -> dict:
    """A certs document shaped like Cloudflare's (keys[] plus the PEM fields)."""
    return {
        "keys": [jwk(kid, key) for kid, key in pairs],
        "public_cert": {"kid": pairs[0][0], "cert": "-----BEGIN CERTIFICATE-----..."},
        "public_certs": [],
    }


def claims(**changes) -> dict:
    now = int(time.time())
    body = {
        "aud": [AUD],
        "email": EMAIL,
        "exp": now + 600,
        "iat": now,
        "nbf": now,
        "iss": f"https://{TEAM}",
        "type": "app",
        "identity_nonce": "n0nce",
        "sub": "7335d417-61da-459d-899c-0a01c76a2f94",
        "country": "US",
    }
    body.update(changes)
    return {name: value for name, value in body.items() if value is not None}


def token(
    payload: dict | None = None, *, kid: str = KID, key: str = "main", header: dict | None = None
) -> str:
    head = {"alg": "RS256", "kid": kid, "typ": "JWT"} if header is None else header
    signing_input = (
        b64url(json.dumps(head).encode())
        + "."
        + b64url(json.dumps(claims() if payload is None else payload).encode())
    )
    signature = private_key(key).sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64url(signature)


def access(jwt: str) -> dict[str, str]:
    return {"Cf-Access-Jwt-Assertion": jwt}


class FakeCloudflare:
    """The team's certs endpoint; `answer` is what the next fetch gets."""

    def __init__(self):
        self.answer: object = jwks((KID, private_key("main")))
        self.fetches = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == CERTS
        self.fetches += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        if isinstance(self.answer, httpx.Response):
            return self.answer
        return httpx.Response(200, json=self.answer)

    async def resolve(self, host, port):
        return ["104.16.132.229"]


class Clock:
    def __init__(self):
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def cloudflare(monkeypatch):
    access_jwt.clear_cache()
    fake = FakeCloudflare()
    transport = httpx.MockTransport(fake.handle)
    monkeypatch.setattr(remote_fetch, "default_transport", lambda: transport)
    monkeypatch.setattr(remote_fetch, "default_resolver", fake.resolve)
    yield fake
    access_jwt.clear_cache()


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(access_jwt, "clock", fake)
    return fake


@pytest.fixture
def settings_overrides():
    return dict(ENABLED)


def reason(response: httpx.Response) -> str:
    return assert_error_envelope(response, 401, "UNAUTHORIZED")["details"]["reason"]


# -- the signature check against `cryptography` ----------------------------------------------


def public(key: rsa.RSAPrivateKey) -> RsaPublicKey:
    numbers = key.public_key().public_numbers()
    return RsaPublicKey(n=numbers.n, e=numbers.e)


@pytest.mark.parametrize("bits", [2048, 3072])
def test_signature_check_on_vectors_from_cryptography(bits):
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pub = public(key)
    message = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0"
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    assert rsa_pkcs1_sha256_verify(pub, message, signature)
    # The whole encoding is what `cryptography` produced, byte for byte.
    recovered = pow(int.from_bytes(signature, "big"), pub.e, pub.n).to_bytes(pub.size, "big")
    assert recovered == emsa_pkcs1_v15_sha256(message, pub.size)
    assert recovered.startswith(b"\x00\x01\xff\xff\xff\xff\xff\xff\xff\xff")

    assert not rsa_pkcs1_sha256_verify(pub, message + b"x", signature)
    flipped = bytearray(signature)
    flipped[-1] ^= 1
    assert not rsa_pkcs1_sha256_verify(pub, message, bytes(flipped))
    assert not rsa_pkcs1_sha256_verify(pub, message, signature[1:])  # length
    assert not rsa_pkcs1_sha256_verify(pub, message, b"\x00" + signature)
    too_big = int.from_bytes(signature, "big") + pub.n
    if too_big < 256**pub.size:  # s >= n
        assert not rsa_pkcs1_sha256_verify(pub, message, too_big.to_bytes(pub.size, "big"))
    # Right key, wrong scheme or hash: refused.
    for other in (
        key.sign(message, padding.PKCS1v15(), hashes.SHA1()),
        key.sign(message, padding.PKCS1v15(), hashes.SHA512()),
        key.sign(
            message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256()
        ),
    ):
        assert not rsa_pkcs1_sha256_verify(pub, message, other)
    # Another key's signature: refused.
    assert not rsa_pkcs1_sha256_verify(public(private_key("other")), message, signature)


def test_digest_info_prefix_is_the_der_of_sha256():
    # RFC 8017 §9.2 note 1: SHA-256's DigestInfo prefix.
    assert access_jwt.SHA256_DIGEST_INFO.hex() == "3031300d060960864801650304020105000420"
    encoded = emsa_pkcs1_v15_sha256(b"abc", 256)
    assert len(encoded) == 256 and encoded.endswith(hashlib.sha256(b"abc").digest())


def test_b64url_is_strict():
    assert b64url_decode("YWJj") == b"abc" and b64url_decode("YWI") == b"ab"
    for bad in ("YWI=", "YW+j", "YW/j", "Y", "YW j", "YWJj\n"):
        with pytest.raises(ValueError):
            b64url_decode(bad)


def test_parse_jwks_keeps_only_usable_rs256_keys():
    good = jwk(KID, private_key("main"))
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    keys = parse_jwks(
        {
            "keys": [
                good,
                {**good, "kid": "ec", "kty": "EC"},
                {**good, "kid": "ps", "alg": "PS256"},
                {**good, "kid": "enc", "use": "enc"},
                {**good, "kid": ""},
                {**good, "kid": "bad-n", "n": "**"},
                jwk("small", small),
                {**good, "kid": "e-even", "e": uint(65536)},
                "junk",
            ]
        }
    )
    assert list(keys) == [KID] and keys[KID] == public(private_key("main"))
    for document in ({}, {"keys": "x"}, [], "keys"):
        with pytest.raises(ValueError):
            parse_jwks(document)


def test_check_claims_leeway_and_audience_forms():
    now = time.time()
    base = claims(exp=int(now) - 30, nbf=int(now) + 30, iat=int(now) + 30)  # within 60 s
    assert check_claims(base, team_domain=TEAM, audience=AUD, now=now) == EMAIL
    assert check_claims({**base, "aud": AUD}, team_domain=TEAM, audience=AUD, now=now) == EMAIL
    no_email = claims(email=None)
    assert check_claims(no_email, team_domain=TEAM, audience=AUD, now=now) == no_email["sub"]
    service_token = {**claims(email=None, sub=""), "common_name": "abc123.access"}
    assert check_claims(service_token, team_domain=TEAM, audience=AUD, now=now) == "abc123.access"
    for bad in (
        claims(aud=["other", AUD[:-1]]),
        claims(aud=None),
        claims(aud=[[AUD]]),
        claims(iss=f"http://{TEAM}"),
        claims(exp=None),
        claims(exp="9999999999"),
        claims(exp=True),
        claims(exp=int(now) - 61),
        claims(nbf=int(now) + 61),
        claims(iat=int(now) + 61),
        claims(email=None, sub=""),
        claims(email=None, sub=None),
    ):
        with pytest.raises(AccessDenied):
            check_claims(bad, team_domain=TEAM, audience=AUD, now=now)


def test_settings():
    env = type("Env", (), {})()
    settings = Settings.from_env(env)
    assert not settings.access_enabled
    assert settings.access_scopes == ("images:read", "images:write")
    env.ACCESS_TEAM_DOMAIN, env.ACCESS_AUD = TEAM, ""
    assert not Settings.from_env(env).access_enabled
    env.ACCESS_AUD, env.ACCESS_SCOPES = f" {AUD} ", "images:read, render,,"
    settings = Settings.from_env(env)
    assert settings.access_enabled and settings.access_aud == AUD
    assert settings.access_scopes == ("images:read", "render")
    for raw in (TEAM, f"https://{TEAM}/", " MyTeam.cloudflareaccess.com ", "myteam"):
        assert team_domain(raw) == TEAM


# -- over HTTP -------------------------------------------------------------------------------


async def test_valid_token_authenticates_as_its_email(client, make_key, cloudflare):
    headers = access(token())
    listed = await client.get("/v1/images", headers=headers)
    assert listed.status_code == 200, listed.text
    assert listed.json()["data"] == []

    created = await client.post("/v1/images", json={"filename": "a.jpg"}, headers=headers)
    assert created.status_code == 201, created.text
    upload = urlsplit(created.json()["upload_url"])
    put = await client.put(
        f"{upload.path}?{upload.query}",
        content=unique_jpeg(7),
        headers={"Content-Type": "image/jpeg"},
    )
    assert put.status_code == 200, put.text
    mine = put.json()
    assert mine["owner"] == EMAIL
    assert (await client.get(urlsplit(mine["cdn_url"]).path)).status_code == 200

    # Owner isolation both ways, against another owner's API key.
    bob_key, _ = await make_key(["images:read", "images:write"], owner="bob")
    bob = bearer(bob_key)
    assert (await client.get("/v1/images", headers=bob)).json()["data"] == []
    assert_error_envelope(await client.get(f"/v1/images/{mine['id']}", headers=bob), 404)
    bobs = await client.post("/v1/images", json={"filename": "b.jpg"}, headers=bob)
    assert bobs.status_code == 201
    assert_error_envelope(await client.get(f"/v1/images/{bobs.json()['id']}", headers=headers), 404)
    listed = (await client.get("/v1/images", headers=headers)).json()["data"]
    assert [(item["id"], item["owner"]) for item in listed] == [(mine["id"], EMAIL)]
    assert cloudflare.fetches == 1  # the keys were cached


async def test_access_scopes_are_the_configured_ones(client):
    response = await client.get("/v1/keys", headers=access(token()))
    body = assert_error_envelope(response, 403, "FORBIDDEN")
    assert body["details"] == {"required_scope": "keys:read"}


@pytest.mark.parametrize("settings_overrides", [{**ENABLED, "ACCESS_SCOPES": "images:read"}])
async def test_access_scopes_setting(client):
    assert (await client.get("/v1/images", headers=access(token()))).status_code == 200
    response = await client.post("/v1/images", json={"filename": "a.jpg"}, headers=access(token()))
    assert_error_envelope(response, 403, "FORBIDDEN")


async def test_sub_is_the_owner_without_email(client):
    response = await client.get("/v1/images", headers=access(token(claims(email=None))))
    assert response.status_code == 200


def _hs256() -> str:
    head = b64url(json.dumps({"alg": "HS256", "kid": KID}).encode())
    body = b64url(json.dumps(claims()).encode())
    secret = json.dumps(jwk(KID, private_key("main"))).encode()
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(mac)}"


def _none() -> str:
    head = b64url(json.dumps({"alg": "none", "kid": KID}).encode())
    return f"{head}.{b64url(json.dumps(claims()).encode())}."


def _tampered() -> str:
    head, _, signature = token().split(".")
    return f"{head}.{b64url(json.dumps(claims(email='mallory@example.com')).encode())}.{signature}"


REJECTED = {
    "wrong aud": (lambda: token(claims(aud=["another-application"])), "audience"),
    "wrong iss": (lambda: token(claims(iss="https://evil.cloudflareaccess.com")), "issuer"),
    "expired": (lambda: token(claims(exp=int(time.time()) - 120)), "expired"),
    "not yet valid": (lambda: token(claims(nbf=int(time.time()) + 300)), "not valid yet"),
    "issued in the future": (lambda: token(claims(iat=int(time.time()) + 300)), "future"),
    "no exp": (lambda: token(claims(exp=None)), "exp"),
    "no user": (lambda: token(claims(email=None, sub="")), "no user"),
    "signed by another key": (lambda: token(key="other"), "signature"),
    "payload changed after signing": (_tampered, "signature"),
    "alg none": (_none, "algorithm"),
    "alg HS256 keyed with the public key": (_hs256, "algorithm"),
    "no alg": (lambda: token(header={"kid": KID}), "algorithm"),
    "crit header": (
        lambda: token(header={"alg": "RS256", "kid": KID, "crit": ["exp"]}),
        "critical",
    ),
    "no kid": (lambda: token(header={"alg": "RS256"}), "kid"),
    "two parts": (lambda: ".".join(token().split(".")[:2]), "malformed"),
    "four parts": (lambda: token() + ".x", "malformed"),
    "not base64url": (lambda: "e30=.e30=.", "malformed"),
    "header not json": (lambda: f"{b64url(b'{')}.{b64url(b'{}')}.AA", "malformed"),
    "header not an object": (lambda: f"{b64url(b'[1]')}.{b64url(b'{}')}.AA", "malformed"),
    "signature not base64url": (lambda: token()[:-4] + "+/==", "malformed"),
    "garbage": (lambda: "not a jwt", "malformed"),
    "huge": (lambda: "a" * 20000, "malformed"),
}


@pytest.mark.parametrize("case", list(REJECTED))
async def test_bad_tokens_are_401(client, case):
    make, expected = REJECTED[case]
    response = await client.get("/v1/images", headers=access(make()))
    why = reason(response)
    assert why.startswith("Cloudflare Access token rejected") and expected in why, why
    assert response.headers["www-authenticate"] == "Bearer"


async def test_unknown_kid_refetches_once_then_401(client, cloudflare, clock):
    assert (await client.get("/v1/images", headers=access(token()))).status_code == 200
    assert cloudflare.fetches == 1
    # Just fetched: an unknown kid does not make us ask again at once.
    assert "unknown key" in reason(await client.get("/v1/images", headers=access(token(kid=KID2))))
    assert cloudflare.fetches == 1
    # Later: one refetch, still unknown, 401; the key we had still works without a fetch.
    clock.now += access_jwt.REFETCH_MIN_SECONDS + 1
    assert "unknown key" in reason(await client.get("/v1/images", headers=access(token(kid=KID2))))
    assert cloudflare.fetches == 2
    assert (await client.get("/v1/images", headers=access(token()))).status_code == 200
    assert cloudflare.fetches == 2
    # Access rotated its key: the next token with the new kid is fetched for and accepted.
    cloudflare.answer = jwks((KID2, private_key("other")), (KID, private_key("main")))
    clock.now += access_jwt.REFETCH_MIN_SECONDS + 1
    rotated = access(token(kid=KID2, key="other"))
    assert (await client.get("/v1/images", headers=rotated)).status_code == 200
    assert cloudflare.fetches == 3
    assert (await client.get("/v1/images", headers=access(token()))).status_code == 200
    assert cloudflare.fetches == 3


async def test_keys_are_fetched_again_after_the_ttl(client, cloudflare, clock):
    for _ in range(3):
        assert (await client.get("/v1/images", headers=access(token()))).status_code == 200
    assert cloudflare.fetches == 1
    clock.now += access_jwt.JWKS_TTL + 1
    cloudflare.answer = jwks((KID2, private_key("other")))  # the old key was revoked
    assert "unknown key" in reason(await client.get("/v1/images", headers=access(token())))
    assert cloudflare.fetches == 2


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500, json={"error": "down"}),
        httpx.Response(200, content=b"<html>not json</html>"),
        httpx.Response(200, json={"keys": []}),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(302, headers={"Location": "http://169.254.169.254/"}),
        httpx.Response(200, content=b" " * (access_jwt.JWKS_MAX_BYTES + 1)),
        httpx.ConnectError("no route"),
    ],
)
async def test_jwks_fetch_failure_is_401(client, cloudflare, answer):
    cloudflare.answer = answer
    why = reason(await client.get("/v1/images", headers=access(token())))
    assert "signing keys could not be fetched" in why
    # Nothing was cached: once Cloudflare answers, the same token works.
    cloudflare.answer = jwks((KID, private_key("main")))
    assert (await client.get("/v1/images", headers=access(token()))).status_code == 200


async def test_unexpected_verifier_error_is_still_401(client, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr("pixhaven.security.auth.verify", broken)
    assert "could not be verified" in reason(
        await client.get("/v1/images", headers=access(token()))
    )


@pytest.mark.parametrize(
    "settings_overrides", [{}, {"ACCESS_TEAM_DOMAIN": TEAM}, {"ACCESS_AUD": AUD}]
)
async def test_disabled_unless_both_settings_are_set(client, cloudflare):
    why = reason(await client.get("/v1/images", headers=access(token())))
    assert why == "missing bearer token"
    assert cloudflare.fetches == 0


async def test_no_credentials_at_all_is_401(client, cloudflare):
    assert "missing bearer token" in reason(await client.get("/v1/images"))
    assert "missing bearer token" in reason(await client.get("/v1/images", headers=access("")))
    assert cloudflare.fetches == 0


async def test_bearer_wins_when_both_are_present(client, admin, make_key, cloudflare):
    bob_key, _ = await make_key(["images:read", "images:write"], owner="bob")
    both = {**bearer(bob_key), **access(token())}
    created = await client.post("/v1/images", json={"filename": "b.jpg"}, headers=both)
    assert created.status_code == 201
    assert created.json()["owner"] == "bob"
    # An invalid bearer token is a 401 even next to a valid Access token.
    response = await client.get(
        "/v1/images", headers={**bearer("pxf_not-a-real-key"), **access(token())}
    )
    assert reason(response) == "unknown or revoked API key"
    # A bearer with more scopes than Access grants is used as such.
    assert (await client.get("/v1/keys", headers={**admin, **access(token())})).status_code == 200
    assert cloudflare.fetches == 0
