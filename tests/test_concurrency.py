"""Many clients at once: parallel uploads mixed with tag edits and deletes must leave the
rows, the tag counts and the bucket consistent with each other."""

import asyncio
import random
from collections import Counter

from tests.imagegen import unique_jpeg, upload


async def test_parallel_uploads_tag_edits_and_deletes_stay_consistent(client, admin, env):
    rng = random.Random(1234)
    accepted: list[str] = []
    deleted: set[str] = set()

    async def uploader(n: int):
        # A few uploads repeat earlier bytes: they must resolve to the same image.
        data = unique_jpeg(n % 45, 40 + n % 7, 30 + n % 5)
        response = await upload(client, admin, data, f"img{n}.jpg", tags=f"batch,t{n % 4}")
        assert response.status_code == 200, response.text
        accepted.append(response.json()["result"]["id"])

    async def editor():
        for _ in range(30):
            await asyncio.sleep(0)
            if not accepted:
                continue
            image_id = rng.choice(accepted)
            response = await client.put(
                f"/api/images/{image_id}",
                headers=admin,
                json={"tags": [f"edit{rng.randrange(3)}", "batch"]},
            )
            assert response.status_code in (200, 404), response.text

    async def deleter():
        for _ in range(10):
            await asyncio.sleep(0)
            if not accepted:
                continue
            image_id = rng.choice(accepted)
            response = await client.delete(f"/api/images/{image_id}", headers=admin)
            assert response.status_code in (200, 404), response.text
            if response.status_code == 200:
                deleted.add(image_id)

    await asyncio.gather(*(uploader(n) for n in range(50)), editor(), editor(), deleter())

    live = set(accepted) - deleted
    listing = (await client.get("/api/images?limit=100", headers=admin)).json()
    listed = [image["id"] for image in listing["images"]]
    assert len(listed) == len(set(listed)), "an image is listed twice"
    assert set(listed) == live and listing["total"] == len(live)

    # Tag counts agree with the rows.
    counts = Counter(tag for image in listing["images"] for tag in image["tags"])
    for tag, count in counts.items():
        response = await client.get(f"/api/images?tag={tag}&limit=100", headers=admin)
        assert response.json()["total"] == count, tag

    # Every object belongs to a row, and every row has all of its objects.
    rows = (await env.DB.prepare("SELECT * FROM images").all())["results"]
    from pixhaven.services.images.keys import object_keys

    expected = {key for row in rows for key in object_keys(dict(row)).values()}
    stored = {obj.key for obj in (await env.BUCKET.list(prefix="images/"))["objects"]}
    assert stored == expected
    assert len(rows) == len(set(accepted))
