"""`GET /api/random`: a uniformly random public image, in O(window) work, never O(table).

Candidates
----------
Every owner's *public* images (not deleted, upload complete, not private, not expired).
CattoPic, whose endpoint this is, is single-tenant: the random endpoint shows the instance's
images. In Pixhaven a public image is already world-readable at its `/r2/` URL, so drawing
from all owners discloses nothing; private images (PixelFlare `is_private`) are never drawn.
Tags match by name whoever owns them.

The `rand` column and why "first rand >= r" is not enough
-----------------------------------------------------------
Each image gets `rand`, 31 uniform random bits, when it is recorded, and the partial
indexes `images_random (orientation, rand, …)` / `images_random_any (rand, …)` hold the
public ones; `random_tags` holds each public image once per tag, ordered by
(tag, orientation, rand) (migration 0016). The textbook trick — pick r, take the first
match with rand >= r, wrapping — costs one index seek but picks an image with probability
equal to the *gap* before it, and gaps of n uniform points vary a lot (the largest is ~ln n
times the mean), so some images come up several times more often than others.

What we do instead: fixed-width windows with rejection (exactly uniform)
-------------------------------------------------------------------------
With M = 2^31 and a window width w (fixed for the whole draw), repeat rounds:

1. pick `lo` uniformly among the M + w - 1 integers in [-(w-1), M-1]; the window is
   [lo, lo + w) clipped to [0, M) (so no wrap-around is needed);
2. count the *candidates* in the window, at most K + 1 of them (K = WINDOW_CAP), from one
   index alone: public, not expired, the orientation, and one of the tags when tags are
   asked for (random_tags_pick, else images_random): the tag with the fewest candidates,
   as the probe below finds them, so `tags=common,rare` looks among the rare ones;
3. pick j uniformly in [0, K); if j < the number of candidates and the j-th one is a
   *match* (re-read from `images`: public, every tag, no excluded tag), answer it;
   otherwise start another round.

A given match x with key rand_x lies in exactly w of the M + w - 1 windows, and is returned
when j equals its rank among the candidates there, so each round returns x with probability
w / (M + w - 1) * 1 / K — *the same for every match*, whatever the gaps, and whatever the
candidates that are not matches. Rounds are independent, so the first successful round is
exactly uniform among the matches. All of a round is one SQL statement
(db/public_images.picked_sql) that looks up only candidate j in `images`.

The one exception is a window holding more than K candidates (we fetch K + 1 to notice): its
later members cannot be ranked, so that round is abandoned, w is halved and the draw
continues with the new width (still uniform given w). Because the `rand` keys of the
matching images are independent and uniform, the count in a window is ~Poisson(λ), and w
is chosen so that λ ≈ TARGET_PER_WINDOW = 24 with K = 64: P(count > 64) is ~1e-11 for
λ = 24 and still below ~1e-5 if the estimate of w is 1.5× too wide. That probability bounds
the total-variation distance from uniform; for practical purposes the draw is uniform.

Choosing w without counting the matches
-----------------------------------------
The width may change between rounds — halved after an overflow, quadrupled after a batch
of empty windows — and the draw stays uniform: whatever the history of failed rounds, the
next round returns every image with the same probability w / (M + w - 1) / K, so summing
over histories gives every image the same total. Only overflowing rounds (above) deviate.

A COUNT over the filters would be O(matches). Instead one probe reads the first K + 1
candidates from a random point r (wrapping once): if there are at most K in total, the
probe holds all of them, and we check them all and pick a match uniformly directly (exact,
and the common case for small libraries and narrow filters). Otherwise the distance covered
by K candidates, span ≈ K·M/n, gives w = span · 24 / K. w depends on the data only through
this estimate; given w, the rounds above are uniform, so the mixture is too. With several
tags there is one probe per tag (in the same round trips), and the one that finds the
fewest candidates (exactly, or by its span) chooses them: every match carries every tag,
so any of them would do, and the choice, like w, leaves each round uniform.

Cost
----
One probe query (two when it wraps) and then rounds sent four at a time in one D1 `batch`
(one round trip). Each round reads the ~24 index entries of its window, in one range of one
covering index, and looks up one image by primary key: no work grows with the table, so
the latency is flat from 1k to 1M images (bench/latency.py). A round succeeds with
probability ≈ 24/64 × p, p the share of candidates that match (1 without `exclude` or a
second tag). When candidates keep failing, batches grow to 32 rounds; if that does not
find a match within a few batches (p very small), the draw goes on with rounds that check
every candidate of a wider window (`_matching_rounds`, the same probability per match per
round, so mixing the two keeps the draw uniform). Should those windows grow to the whole
space between them (matches very few among many candidates, or none), the draw reads every
match of the space at once and picks directly: O(candidates), as such a batch would be, but
once, where windows that wide rarely succeed. There is no ORDER BY RANDOM() and no OFFSET
over the table.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from typing import TYPE_CHECKING

from pixhaven.db import public_images as table
from pixhaven.errors import ApiError
from pixhaven.services.delivery.objects import accepts
from pixhaven.services.images.keys import original_key, version_key
from pixhaven.services.images.tag_names import clean_tag_name

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database

RAND_SPACE = 2**31  # `rand` is secrets.randbits(31) (services/images/store.py)
WINDOW_CAP = 64  # K: most matches a window may hold
TARGET_PER_WINDOW = 24  # λ: matches expected in a window
ROUNDS_PER_BATCH = 4
MAX_ROUNDS_PER_BATCH = 32
CANDIDATE_BATCHES = 8  # then rounds that check whole windows
MAX_BATCHES = 64  # ~1e-50 chance of running out when matches exist
MAX_TAGS = 20  # per list, keeps the query far below D1's 100 parameters

ORIENTATIONS = ("landscape", "portrait")
FORMATS = ("original", "webp", "avif")
MOBILE_UA = re.compile(
    r"Mobi|Android|iPhone|iPad|iPod|Windows Phone|BlackBerry|BB10|Opera Mini|IEMobile|webOS",
    re.IGNORECASE,
)


# The parameters, as the queries take them: orientation, tags (all), exclude (none).
RandomQuery = table.RandomFilters


def _tag_list(raw: str | None, name: str) -> tuple[str, ...]:
    cleaned = (clean_tag_name(t) for t in (raw or "").split(","))
    tags = tuple(dict.fromkeys(name for name in cleaned if name))
    if len(tags) > MAX_TAGS:
        raise ApiError(
            400, f"Too many tags in {name} (at most {MAX_TAGS})", details={"parameter": name}
        )
    return tags


def parse_query(
    tags: str | None, exclude: str | None, orientation: str | None, user_agent: str | None
) -> RandomQuery:
    """The documented parameters; `orientation=auto` reads the User-Agent: mobile devices
    get portrait images, everything else landscape. No orientation (or an empty one) is
    `auto`, as in CattoPic's server: its app's link for "Auto" leaves the parameter out."""
    wanted = (orientation or "").strip().lower() or "auto"
    if wanted == "auto":
        wanted = "portrait" if MOBILE_UA.search(user_agent or "") else "landscape"
    elif wanted is not None and wanted not in ORIENTATIONS:
        raise ApiError(
            400,
            "Invalid orientation: use landscape, portrait or auto",
            details={"orientation": orientation},
        )
    return RandomQuery(wanted, _tag_list(tags, "tags"), _tag_list(exclude, "exclude"))


def choose_version(row: dict, requested: str | None, accept: str | None) -> str:
    """'original', 'webp' or 'avif' for this image. Animated images are always the original
    (their WebP/AVIF versions are not made); a requested version the image lacks falls back
    to the original; without `format`, negotiate: AVIF if accepted and present, then WebP."""
    if row["animated"]:
        return "original"
    has = {"webp": row["webp_size"] is not None, "avif": row["avif_size"] is not None}
    if requested:
        requested = requested.strip().lower()
        if requested not in FORMATS:
            raise ApiError(
                400, "Invalid format: use original, webp or avif", details={"format": requested}
            )
        return requested if requested == "original" or has[requested] else "original"
    for version in ("avif", "webp"):
        if has[version] and accepts(accept or "", f"image/{version}"):
            return version
    return "original"


def validate_format(requested: str | None) -> None:
    if requested and requested.strip().lower() not in FORMATS:
        raise ApiError(
            400, "Invalid format: use original, webp or avif", details={"format": requested}
        )


def key_for(row: dict, version: str) -> str:
    return original_key(row) if version == "original" else version_key(row, version)


async def pick(
    db: D1Database,
    query: RandomQuery,
    now: str,
    *,
    cap: int = WINDOW_CAP,
    target: int = TARGET_PER_WINDOW,
) -> dict | None:
    """A uniformly random public image matching `query` (see the module docstring), as the
    row subset `RANDOM_COLUMNS`, or None when nothing matches. `cap`/`target` exist for
    tests that exercise the window rounds on a handful of images."""
    start = secrets.randbelow(RAND_SPACE)
    # Each tag in turn as the one that chooses the candidates; every match carries them all.
    drivers = [_driven_by(query, tag) for tag in query.tags] if len(query.tags) > 1 else [query]
    probes = await _probes(db, drivers, now, start, cap)
    query, found = min(
        zip(drivers, probes, strict=True),
        key=lambda probed: _estimated_candidates(probed[1], start, cap),
    )
    if not found:
        return None
    if len(found) <= cap:  # the probe saw every candidate: check them all, pick directly
        matches = (await table.matching_windows(db, now, [(0, RAND_SPACE)], cap, query))[0]
        return matches[secrets.randbelow(len(matches))] if matches else None
    width = max(1, _span(found, start, cap) * target // cap)
    row, width = await _candidate_rounds(db, query, now, width, cap)
    if row is None:
        row = await _matching_rounds(db, query, now, width, cap)
    return row


def _driven_by(query: RandomQuery, tag: str) -> RandomQuery:
    """`query` with `tag` first: the tag whose images are the candidates."""
    return replace(query, tags=(tag, *(t for t in query.tags if t != tag)))


async def _probes(
    db: D1Database, queries: list[RandomQuery], now: str, start: int, cap: int
) -> list[list[dict]]:
    """For each query, its first cap + 1 candidates in rand order from `start`, wrapping
    once (at most two D1 round trips for all of them)."""
    found = await table.candidates(db, now, [(q, start, RAND_SPACE, cap + 1) for q in queries])
    short = [i for i, probe in enumerate(found) if len(probe) <= cap]
    if short:
        asks = [(queries[i], 0, start, cap + 1 - len(found[i])) for i in short]
        for i, more in zip(short, await table.candidates(db, now, asks), strict=True):
            found[i] += more
    return found


def _estimated_candidates(found: list[dict], start: int, cap: int) -> float:
    """How many candidates a probe's query has: exactly `len(found)` when the probe saw them
    all, else estimated from the distance its first `cap` covered."""
    if len(found) <= cap:
        return len(found)
    return cap * RAND_SPACE / _span(found, start, cap)


def _span(found: list[dict], start: int, cap: int) -> int:
    """The distance in `rand` from `start` covered by a probe's first `cap` candidates."""
    return (found[cap - 1]["rand"] - start) % RAND_SPACE + 1


def _window(width: int) -> tuple[int, int]:
    low = secrets.randbelow(RAND_SPACE + width - 1) - (width - 1)
    return max(low, 0), min(low + width, RAND_SPACE)


async def _candidate_rounds(
    db: D1Database, query: RandomQuery, now: str, width: int, cap: int
) -> tuple[dict | None, int]:
    """Rounds that look up one candidate each (rank j among the window's candidates). When
    candidates keep failing the other filters, batches grow; after CANDIDATE_BATCHES the
    draw goes on with `_matching_rounds`. Returns (row or None, the width reached)."""
    rounds = ROUNDS_PER_BATCH
    for _ in range(CANDIDATE_BATCHES):
        windows = [(*_window(width), secrets.randbelow(cap)) for _ in range(rounds)]
        answers = await table.picked(db, now, windows, cap + 1, query)
        for count, row in answers:
            if count > cap:
                width = max(1, width // 2)  # abandon this round and the batch's others
                break
            if row is not None:
                return row, width
        else:
            if not any(count for count, _ in answers):  # every window empty: too narrow
                width = min(RAND_SPACE, width * 4)
            elif any(w[2] < count for w, (count, _) in zip(windows, answers, strict=True)):
                rounds = min(MAX_ROUNDS_PER_BATCH, rounds * 2)  # candidates failed the filters
    return None, width


async def _matching_rounds(
    db: D1Database, query: RandomQuery, now: str, width: int, cap: int
) -> dict | None:
    """Rounds that check every candidate of the window and rank the matches (for filters
    that few candidates pass: more work per round, many fewer rounds)."""
    for _ in range(MAX_BATCHES):
        if width * ROUNDS_PER_BATCH >= RAND_SPACE:
            # A batch of windows this wide reads about every candidate anyway, and each
            # window succeeds rarely (it ranks a match first one time in `cap`). Read the
            # whole space once instead: every match, picked directly when they fit in a
            # window (exact, as the probe's small case; no match at all is None), else
            # narrower windows again.
            every = (await table.matching_windows(db, now, [(0, RAND_SPACE)], cap + 1, query))[0]
            if len(every) <= cap:
                return every[secrets.randbelow(len(every))] if every else None
            width = RAND_SPACE // (2 * ROUNDS_PER_BATCH)
            continue
        windows = [_window(width) for _ in range(ROUNDS_PER_BATCH)]
        rounds = await table.matching_windows(db, now, windows, cap + 1, query)
        for matches in rounds:
            if len(matches) > cap:
                width = max(1, width // 2)
                break
            j = secrets.randbelow(cap)
            if j < len(matches):
                return matches[j]
        else:
            if not any(rounds):
                width = min(RAND_SPACE, width * 4)
    return None  # only when matches vanished mid-draw, or ~1e-50 otherwise
