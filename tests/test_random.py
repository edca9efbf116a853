"""CattoPic's public GET /api/random: every curl example of its document, filters, format
negotiation, visibility, and the uniformity of the draw."""

from collections import Counter
from dataclasses import replace

import pytest

from pixhaven.services.delivery import random_image
from pixhaven.services.delivery.random_image import RandomQuery
from pixhaven.timeutil import now_iso
from tests.conftest import assert_error_envelope
from tests.imagegen import animated_gif, unique_jpeg
from tests.serving_support import publish, set_column

NO_CACHE = "no-cache, no-store, must-revalidate"
IPHONE = "Mozilla/5.0 (iPhone)"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


def assert_redirect(response) -> str:
    assert response.status_code == 302, response.text
    assert response.headers["cache-control"] == NO_CACHE
    location = response.headers["location"]
    assert location.startswith("http://testserver/r2/images/")
    return location


async def draw(client, params: dict | None = None, **headers):
    return await client.get("/api/random", params=params or {}, headers=headers)


@pytest.fixture
async def library(client, admin):
    """A small tagged library: two landscape, two portrait images."""
    made = {}
    made["beach"] = await publish(
        client, admin, unique_jpeg(1, 80, 40), "beach.jpg", tags="nature,outdoor,landscape"
    )
    made["city"] = await publish(
        client, admin, unique_jpeg(2, 80, 40), "city.jpg", tags="city,outdoor,landscape"
    )
    made["cat"] = await publish(
        client, admin, unique_jpeg(3, 40, 80), "cat.jpg", tags="cat,wallpaper"
    )
    made["nsfw_cat"] = await publish(
        client, admin, unique_jpeg(4, 40, 80), "cat2.jpg", tags="cat,nsfw,wallpaper"
    )
    return made


async def draws(client, params: dict, times: int = 40, **headers) -> set[str]:
    seen = set()
    for _ in range(times):
        response = await draw(client, params, **headers)
        seen.add(assert_redirect(response).rsplit("/", 1)[1].split(".")[0])
    return seen


async def test_nothing_matches_is_the_documented_404(client):
    response = await draw(client)
    body = assert_error_envelope(response, 404, "NOT_FOUND")
    assert body["error"] == "No images found matching criteria"
    assert response.headers["cache-control"] == NO_CACHE


async def test_get_random_image_redirects_to_the_object(client, admin):
    # curl "https://your-worker.workers.dev/api/random"
    made = await publish(client, admin, unique_jpeg(7, 64, 48))
    response = await draw(client)
    location = assert_redirect(response)
    assert location == made["urls"]["original"]
    served = await client.get(location)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"


async def test_public_base_url_is_the_base_of_the_location(client, admin, env):
    made = await publish(client, admin, unique_jpeg(8))
    env.PUBLIC_BASE_URL = "https://img.example.com"
    try:
        response = await draw(client)
    finally:
        env.PUBLIC_BASE_URL = ""
    assert response.status_code == 302
    assert response.headers["location"] == (
        f"https://img.example.com/r2/images/landscape/{made['id']}.jpg"
    )


async def test_documented_curl_examples(client, admin, library):
    ids = {name: made["id"] for name, made in library.items()}
    # curl ".../api/random?tags=nature,outdoor&orientation=landscape"
    assert await draws(client, {"tags": "nature,outdoor", "orientation": "landscape"}) == {
        ids["beach"]
    }
    # curl ".../api/random?format=webp" -o random.webp
    response = await draw(client, {"format": "webp"})
    assert assert_redirect(response).endswith(".webp")
    webp = await client.get(response.headers["location"])
    assert webp.status_code == 200 and webp.headers["content-type"] == "image/webp"
    assert webp.content[8:12] == b"WEBP"
    # Use case 1: ?orientation=landscape&format=webp
    seen = await draws(client, {"orientation": "landscape", "format": "webp"})
    assert seen == {ids["beach"], ids["city"]}
    # Use case 2: ?orientation=portrait&tags=wallpaper
    assert await draws(client, {"orientation": "portrait", "tags": "wallpaper"}) == {
        ids["cat"],
        ids["nsfw_cat"],
    }
    # Use case 3: ?tags=cat&exclude=nsfw,private (no orientation is auto: cat is portrait,
    # drawn for a phone; from a desktop nothing matches)
    assert await draws(
        client, {"tags": "cat", "exclude": "nsfw,private"}, **{"User-Agent": IPHONE}
    ) == {ids["cat"]}
    assert_error_envelope(await draw(client, {"tags": "cat", "exclude": "nsfw,private"}), 404)
    # Use case 4: ?tags=nature,landscape&exclude=city
    assert await draws(client, {"tags": "nature,landscape", "exclude": "city"}) == {ids["beach"]}
    # Use case 5/6: ?orientation=auto, by User-Agent
    assert await draws(client, {"orientation": "auto"}, **{"User-Agent": IPHONE}) == {
        ids["cat"],
        ids["nsfw_cat"],
    }
    assert await draws(client, {"orientation": "auto"}, **{"User-Agent": DESKTOP}) == {
        ids["beach"],
        ids["city"],
    }


async def test_auto_orientation_recognises_mobile_agents(client, admin, library):
    portrait = {library["cat"]["id"], library["nsfw_cat"]["id"]}
    for agent in (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36",
        "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)",
    ):
        assert (
            await draws(client, {"orientation": "auto"}, times=10, **{"User-Agent": agent})
            <= portrait
        )
    # No User-Agent at all: desktop.
    assert not await draws(client, {"orientation": "auto"}, times=10) & portrait


async def test_all_tags_must_match_and_unknown_tags_find_nothing(client, admin, library):
    response = await draw(client, {"tags": "cat,outdoor"})
    assert_error_envelope(response, 404)
    response = await draw(client, {"tags": "nosuchtag"})
    assert response.json()["error"] == "No images found matching criteria"
    # Tags are matched case-insensitively and trimmed, as they are stored.
    assert await draws(client, {"tags": " Nature , OUTDOOR "}, times=5) == {library["beach"]["id"]}


async def test_exclude_alone_and_everything_excluded(client, admin, library):
    seen = await draws(client, {"exclude": "cat,city"}, times=20)
    assert seen == {library["beach"]["id"]}
    assert_error_envelope(await draw(client, {"exclude": "outdoor,wallpaper"}), 404)


async def test_accept_negotiation_prefers_avif_then_webp(client, admin):
    await publish(client, admin, unique_jpeg(11))
    avif = await draw(client, **{"Accept": "image/avif,image/webp,image/apng,*/*;q=0.8"})
    assert assert_redirect(avif).endswith(".avif")
    webp = await draw(client, **{"Accept": "image/webp,*/*"})
    assert assert_redirect(webp).endswith(".webp")
    plain = await draw(client, **{"Accept": "*/*"})
    assert assert_redirect(plain).endswith(".jpg")
    refused = await draw(client, **{"Accept": "image/avif;q=0, image/webp"})
    assert assert_redirect(refused).endswith(".webp")
    # An explicit format wins over Accept.
    original = await draw(client, {"format": "original"}, **{"Accept": "image/avif"})
    assert assert_redirect(original).endswith(".jpg")
    explicit = await draw(client, {"format": "avif"})
    location = assert_redirect(explicit)
    assert location.endswith(".avif")
    served = await client.get(location)
    assert served.headers["content-type"] == "image/avif"


async def test_missing_versions_fall_back_to_the_original(client, admin):
    made = await publish(client, admin, unique_jpeg(12), generateWebp="false", generateAvif="false")
    for params, accept in (({"format": "webp"}, "*/*"), ({}, "image/avif,image/webp")):
        response = await draw(client, params, **{"Accept": accept})
        assert assert_redirect(response) == made["urls"]["original"]


async def test_animated_images_are_always_original(client, admin):
    made = await publish(client, admin, animated_gif(), "moving.gif")
    for params in ({"format": "webp"}, {"format": "avif"}, {}):
        response = await draw(client, params, **{"Accept": "image/avif,image/webp"})
        location = assert_redirect(response)
        assert location.endswith(f"{made['id']}.gif")


async def test_invalid_parameters_are_400(client, admin):
    await publish(client, admin, unique_jpeg(13))
    assert_error_envelope(await draw(client, {"orientation": "diagonal"}), 400)
    assert_error_envelope(await draw(client, {"format": "bmp"}), 400)
    too_many = ",".join(f"t{i}" for i in range(30))
    assert_error_envelope(await draw(client, {"tags": too_many}), 400)


async def test_deleted_private_expired_and_pending_images_are_never_chosen(client, admin, env):
    visible = await publish(client, admin, unique_jpeg(20))
    deleted = await publish(client, admin, unique_jpeg(21))
    private = await publish(client, admin, unique_jpeg(22))
    expired = await publish(client, admin, unique_jpeg(23), expiry_minutes=60)
    pending = await publish(client, admin, unique_jpeg(24))
    assert (await client.delete(f"/api/images/{deleted['id']}", headers=admin)).status_code == 200
    await set_column(env, private["id"], "is_private", 1)
    await set_column(env, expired["id"], "expires_at", "2000-01-01T00:00:00.000Z")
    await set_column(env, pending["id"], "status", "pending")
    assert await draws(client, {}, times=40) == {visible["id"]}
    await set_column(env, visible["id"], "is_private", 1)
    assert_error_envelope(await draw(client), 404)


async def test_every_owner_public_images_are_candidates(client, admin, make_key):
    key, _ = await make_key(["images:write"], owner="someone_else")
    mine = await publish(client, admin, unique_jpeg(30))
    theirs = await publish(client, {"Authorization": f"Bearer {key}"}, unique_jpeg(31))
    assert await draws(client, {}, times=60) == {mine["id"], theirs["id"]}


# -- uniformity -------------------------------------------------------------------------------

CHI2_BOUND_4_DOF = 45.0  # P(chi2 with 4 degrees of freedom > 45) ≈ 4e-9: never flakes


def chi_square(counts: Counter, keys: list[str], draws_made: int) -> float:
    expected = draws_made / len(keys)
    return sum((counts[k] - expected) ** 2 / expected for k in keys)


async def test_draws_are_uniform_even_when_rand_gaps_are_very_uneven(client, admin, env):
    """Five images whose `rand` keys are 0, 1, 2, 1e9 and 2e9: "first rand >= r" would pick
    the one at 1e9 about 47% of the time and the ones at 1 and 2 almost never. The window
    method is exercised (cap 4 < 5 matches, so the probe cannot see everything) and must
    come out uniform."""
    ids = []
    for seed, rand in enumerate((0, 1, 2, 1_000_000_000, 2_000_000_000)):
        made = await publish(client, admin, unique_jpeg(100 + seed))
        await set_column(env, made["id"], "rand", rand)
        ids.append(made["id"])
    now = now_iso()
    counts = Counter()
    total = 2000
    for _ in range(total):
        row = await random_image.pick(env.DB, RandomQuery(), now, cap=4, target=2)
        counts[row["id"]] += 1
    assert sum(counts.values()) == total
    assert chi_square(counts, ids, total) < CHI2_BOUND_4_DOF, counts


async def test_small_libraries_are_drawn_exactly_from_the_probe(client, admin, env):
    ids = [(await publish(client, admin, unique_jpeg(200 + seed)))["id"] for seed in range(5)]
    now = now_iso()
    counts = Counter()
    for _ in range(1500):
        counts[(await random_image.pick(env.DB, RandomQuery(), now))["id"]] += 1
    assert chi_square(counts, ids, 1500) < CHI2_BOUND_4_DOF, counts


async def plan_of(env, sql_params) -> str:
    sql, params = sql_params
    plan = await env.DB.prepare("EXPLAIN QUERY PLAN " + sql).bind(*params).all()
    return " | ".join(row["detail"] for row in plan["results"])


FILTER_CASES = (
    (None, (), (), "images_random_any"),
    ("portrait", (), (), "images_random"),
    ("portrait", (), ("nsfw",), "images_random"),
    ("landscape", ("cat",), (), "random_tags_pick"),
    ("landscape", ("cat", "wallpaper"), ("nsfw",), "random_tags_pick"),
    (None, ("cat",), ("nsfw",), "random_tags_pick"),
)


@pytest.mark.parametrize(("orientation", "tags", "exclude", "index"), FILTER_CASES)
async def test_a_round_reads_one_index_and_looks_up_one_image(
    env, orientation, tags, exclude, index
):
    """The plan that keeps random flat to 1M images (migration 0016): the window comes from
    one covering index (no lookup into `images` per candidate, no scan), and only the chosen
    candidate is looked up, by primary key."""
    from pixhaven.db import public_images as table

    query = RandomQuery(orientation, tags, exclude)
    plan = await plan_of(env, table.picked_sql(now_iso(), 5, 500, 65, 3, query))
    assert f"USING COVERING INDEX {index} (" in plan, plan
    assert "SCAN images" not in plan and "SCAN random_tags" not in plan, plan
    assert "SEARCH images USING INDEX sqlite_autoindex_images_1 (id=?)" in plan, plan
    probe = await plan_of(env, table._candidates_sql(now_iso(), 5, 500, 65, query))
    assert f"USING COVERING INDEX {index} (" in probe, probe
    assert "SCAN" not in probe, probe


async def test_tag_filters_follow_every_change_of_the_image(client, admin, env):
    """random_tags copies each public image's tags; the triggers keep it in step with
    deletes, restores, privacy, expiry, completion and tag edits."""
    shown = await publish(client, admin, unique_jpeg(40, 80, 40), tags="cat")
    other = await publish(client, admin, unique_jpeg(41, 80, 40), tags="cat")
    params = {"tags": "cat", "orientation": "landscape"}
    assert await draws(client, params) == {shown["id"], other["id"]}
    assert (await client.delete(f"/api/images/{other['id']}", headers=admin)).status_code == 200
    assert await draws(client, params, times=20) == {shown["id"]}
    await set_column(env, shown["id"], "is_private", 1)
    assert_error_envelope(await draw(client, params), 404)
    await set_column(env, shown["id"], "is_private", 0)
    await set_column(env, shown["id"], "expires_at", "2000-01-01T00:00:00.000Z")
    assert_error_envelope(await draw(client, params), 404)
    await set_column(env, shown["id"], "expires_at", None)
    await set_column(env, shown["id"], "status", "pending")
    assert_error_envelope(await draw(client, params), 404)
    await set_column(env, shown["id"], "status", "ready")
    assert await draws(client, params, times=10) == {shown["id"]}
    edited = await client.put(f"/api/images/{shown['id']}", json={"tags": ["dog"]}, headers=admin)
    assert edited.status_code == 200, edited.text
    assert_error_envelope(await draw(client, params), 404)
    assert await draws(client, {"tags": "dog"}, times=10) == {shown["id"]}
    assert await draws(client, {"tags": "dog", "exclude": "cat"}, times=10) == {shown["id"]}
    assert_error_envelope(await draw(client, {"tags": "dog", "exclude": "dog"}), 404)
    rows = await env.DB.prepare("SELECT image_id, tag FROM random_tags ORDER BY tag").all()
    assert [(r["image_id"], r["tag"]) for r in rows["results"]] == [(shown["id"], "dog")]


async def test_filtered_draws_are_uniform_when_most_candidates_fail(client, admin, env):
    """Rounds look up one candidate each: a candidate that fails `exclude` costs a round,
    never biases the draw (every match keeps probability 1/K per window it lies in)."""
    ids = []
    for seed in range(12):
        tags = "pool" if seed < 5 else "pool,hidden"
        made = await publish(client, admin, unique_jpeg(300 + seed, 80, 40), tags=tags)
        # Spread out, so no window of the draw's width overflows cap = 4 (the one
        # deviation from uniform, negligible at cap = 64); the matches sit unevenly among
        # the excluded candidates.
        await set_column(env, made["id"], "rand", seed * (2**31 // 12) + 7)
        if seed < 5:
            ids.append(made["id"])
    query = RandomQuery("landscape", ("pool",), ("hidden",))
    now = now_iso()
    counts = Counter()
    total = 1500
    for _ in range(total):
        row = await random_image.pick(env.DB, query, now, cap=4, target=2)
        counts[row["id"]] += 1
    assert set(counts) <= set(ids)
    assert chi_square(counts, ids, total) < CHI2_BOUND_4_DOF, counts


async def test_whole_window_rounds_are_uniform_too(client, admin, env):
    """The rounds a draw falls back to when candidates rarely match (every candidate of a
    window checked, the matches ranked) answer only matches, uniformly."""
    ids = []
    for seed in range(10):
        tags = "pool" if seed % 2 else "pool,hidden"
        made = await publish(client, admin, unique_jpeg(400 + seed, 80, 40), tags=tags)
        await set_column(env, made["id"], "rand", seed * (2**31 // 10) + 3)
        if seed % 2:
            ids.append(made["id"])
    query = RandomQuery("landscape", ("pool",), ("hidden",))
    now = now_iso()
    counts = Counter()
    total = 1000
    for _ in range(total):
        row = await random_image._matching_rounds(env.DB, query, now, 2**31 // 5, 4)
        counts[row["id"]] += 1
    assert set(counts) <= set(ids)
    assert chi_square(counts, ids, total) < CHI2_BOUND_4_DOF, counts


# -- few matches among many candidates ---------------------------------------------------------

CHI2_BOUND_1_DOF = 30.0  # P(chi2 with 1 degree of freedom > 30) ≈ 4e-8


async def record_images(env, tagged: list[tuple[str, ...]]) -> list[str]:
    """Ready, public landscape images with these tags, recorded straight into D1 (the
    triggers keep random_tags), their `rand` keys spread evenly: the ids, in order."""
    statements, ids = [], []
    step = 2**31 // len(tagged)
    for n, tags in enumerate(tagged):
        image_id = f"{n:08d}-0000-4000-8000-000000000000"
        ids.append(image_id)
        statements.append(
            env.DB.prepare(
                "INSERT INTO images (id, short_id, owner, filename, original_name, content_type,"
                " format, orientation, rand, created_at, updated_at) VALUES (?, ?, 'me',"
                " 'a.jpg', 'a.jpg', 'image/jpeg', 'jpg', 'landscape', ?, ?, ?)"
            ).bind(image_id, f"s{n}", n * step + 1, now_iso(), now_iso())
        )
        statements += [
            env.DB.prepare(
                "INSERT INTO image_tags (image_id, owner, tag) VALUES (?, 'me', ?)"
            ).bind(image_id, tag)
            for tag in tags
        ]
    await env.DB.batch(statements)
    return ids


async def test_a_rare_tag_beside_a_common_one_is_always_found(client, env):
    """`tags=common,rare`: the rarest tag chooses the candidates, whatever the order of the
    list. With `common` choosing, 1 candidate in 301 matched and draws ran out of rounds
    (a 404 for an image that exists)."""
    ids = await record_images(env, [("common",)] * 150 + [("common", "rare")] + [("common",)] * 150)
    for _ in range(30):
        response = await draw(client, {"tags": "common,rare", "orientation": "landscape"})
        assert assert_redirect(response).endswith(f"/{ids[150]}.jpg")


async def test_matches_too_few_for_windows_are_drawn_from_the_whole_space(env):
    """Two matches among 4,000 candidates (the rest excluded). Windows that find nothing
    grow until a batch of them spans the whole space; then the draw reads every match there
    and picks one directly. Windows that wide rank a match first one time in 64: draws
    used to run out of rounds one time in five (None for images that exist) after ~70
    round trips."""
    tagged = [("pool", "hidden")] * 4000
    tagged[7], tagged[2900] = ("pool",), ("pool",)
    ids = await record_images(env, tagged)
    query = RandomQuery("landscape", ("pool",), ("hidden",))
    now = now_iso()
    counts = Counter()
    for _ in range(40):
        row = await random_image.pick(env.DB, query, now)
        counts[row["id"] if row else None] += 1
    assert set(counts) == {ids[7], ids[2900]}, counts
    assert await random_image.pick(env.DB, replace(query, exclude=("pool",)), now) is None
