"""PixelFlare filenames and CDN URLs: the URL a client builds from the filename it sent,
`/{owner}/{album}/{filename}` (or without the extension, the document's upload example),
serves what it uploaded, or the request fails with a 409 saying why."""

import asyncio

from .conftest import assert_error_envelope
from .imagegen import image_bytes, unique_jpeg
from .test_pixelflare_images import count_rows, create, put_bytes, upload


async def served(client, path: str):
    response = await client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.text)
    return response


async def test_same_filename_twice_into_an_album_is_a_409_and_the_url_keeps_the_first(
    client, admin, env
):
    first_bytes = unique_jpeg(901)
    first = await upload(client, admin, first_bytes, filename="photo.jpg", album="photos")
    assert first["filename"] == "photo.jpg"
    rows = await count_rows(env)

    response = await client.post(
        "/v1/images", headers=admin, json={"filename": "photo.jpg", "album": "photos"}
    )
    body = assert_error_envelope(response, 409, "CONFLICT")
    assert "photo.jpg" in body["message"] and "photos" in body["message"]
    assert body["details"]["filename"] == "photo.jpg" and body["details"]["album"] == "photos"
    assert await count_rows(env) == rows  # nothing written

    for path in ("/default_user/photos/photo.jpg", "/default_user/photos/photo"):
        assert (await served(client, path)).content == first_bytes
    # Another album, or the first image gone: the name is free.
    await upload(client, admin, unique_jpeg(902), filename="photo.jpg", album="elsewhere")
    assert (await client.delete(f"/v1/images/{first['id']}", headers=admin)).status_code == 200
    again_bytes = unique_jpeg(903)
    again = await upload(client, admin, again_bytes, filename="photo.jpg", album="photos")
    assert again["filename"] == "photo.jpg"
    assert (await served(client, "/default_user/photos/photo.jpg")).content == again_bytes


async def test_completion_refuses_a_name_another_upload_took_meanwhile(client, admin, env):
    # Both created while the name was free; the first to complete keeps it.
    one = await create(client, admin, filename="race.jpg", album="photos")
    two = await create(client, admin, filename="race.jpg", album="photos")
    one_bytes = unique_jpeg(911)
    assert (await put_bytes(client, one, one_bytes)).status_code == 200
    body = assert_error_envelope(await put_bytes(client, two, unique_jpeg(912)), 409, "CONFLICT")
    assert "race.jpg" in body["message"] and body["details"]["album"] == "photos"
    assert (await served(client, "/default_user/photos/race.jpg")).content == one_bytes
    # The refused upload left no objects and is not an image.
    assert (await client.get(f"/v1/images/{two['id']}", headers=admin)).status_code == 404
    keys = [obj.key for obj in (await env.BUCKET.list())["objects"]]
    assert not any(two["id"] in key for key in keys)


async def test_png_bytes_named_jpg_are_served_at_the_jpg_url(client, admin):
    data = image_bytes(40, 30, fmt="PNG")
    image = await upload(client, admin, data, filename="cat.jpg", album="pets")
    assert image["filename"] == "cat.jpg" and image["content_type"] == "image/png"
    assert image["cdn_url"].endswith("/default_user/pets/cat.jpg")
    for path in ("/default_user/pets/cat.jpg", "/default_user/pets/cat"):
        response = await served(client, path)
        assert response.headers["content-type"] == "image/png"
        assert response.content == data
    assert (await client.get("/default_user/pets/cat.png")).status_code == 404


async def test_jpeg_extension_is_kept_as_sent(client, admin):
    data = unique_jpeg(921)
    image = await upload(client, admin, data, filename="photo.jpeg", album="photos")
    assert image["filename"] == "photo.jpeg"
    for path in ("/default_user/photos/photo.jpeg", "/default_user/photos/photo"):
        assert (await served(client, path)).content == data


async def test_a_name_without_an_image_extension_takes_the_real_format(client, admin):
    data = image_bytes(20, 20, fmt="PNG")
    image = await upload(client, admin, data, filename="diagram", album="docs")
    assert image["filename"] == "diagram.png"
    assert (await served(client, "/default_user/docs/diagram")).content == data


async def test_without_an_album_a_taken_name_still_gets_a_suffix(client, admin):
    # No album: the `_` path is shared with CattoPic/Splinterpic uploads, whose clients
    # read the URL from the answer; the second upload is stored, renamed.
    first = await upload(client, admin, unique_jpeg(931), filename="loose.jpg")
    second_bytes = unique_jpeg(932)
    second = await upload(client, admin, second_bytes, filename="loose.jpg")
    assert first["filename"] == "loose.jpg"
    assert second["filename"] != "loose.jpg" and second["filename"].startswith("loose-")
    path = second["cdn_url"].removeprefix("http://testserver")
    assert (await served(client, path)).content == second_bytes


async def test_two_completions_racing_for_one_name_leave_one_winner(client, admin):
    one = await create(client, admin, filename="both.jpg", album="photos")
    two = await create(client, admin, filename="both.jpg", album="photos")
    payloads = {one["id"]: unique_jpeg(941), two["id"]: unique_jpeg(942)}
    responses = await asyncio.gather(
        put_bytes(client, one, payloads[one["id"]]), put_bytes(client, two, payloads[two["id"]])
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 409], [response.text for response in responses]
    winner = next(response.json() for response in responses if response.status_code == 200)
    loser = next(response for response in responses if response.status_code == 409)
    assert_error_envelope(loser, 409, "CONFLICT")
    served_bytes = (await served(client, "/default_user/photos/both.jpg")).content
    assert served_bytes == payloads[winner["id"]]
    listed = (await client.get("/v1/images?album=photos", headers=admin)).json()["data"]
    assert [item["id"] for item in listed] == [winner["id"]]


async def test_patch_keeps_the_extension_the_client_sent(client, admin):
    data = image_bytes(30, 20, fmt="PNG")
    image = await upload(client, admin, data, filename="cat.png", album="pets")
    response = await client.patch(
        f"/v1/images/{image['id']}", headers=admin, json={"filename": "kitten.jpg"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["filename"] == "kitten.jpg"
    assert (await served(client, "/default_user/pets/kitten.jpg")).content == data
    taken = await upload(client, admin, unique_jpeg(951), filename="dog.jpg", album="pets")
    clash = await client.patch(
        f"/v1/images/{taken['id']}", headers=admin, json={"filename": "kitten.jpg"}
    )
    assert_error_envelope(clash, 409)


async def test_restoring_an_image_whose_name_was_taken_meanwhile_is_a_409(client, admin):
    old = await upload(client, admin, unique_jpeg(961), filename="back.jpg", album="photos")
    assert (await client.delete(f"/v1/images/{old['id']}", headers=admin)).status_code == 200
    new_bytes = unique_jpeg(962)
    new = await upload(client, admin, new_bytes, filename="back.jpg", album="photos")
    response = await client.post(f"/v1/images/{old['id']}/restore", headers=admin)
    body = assert_error_envelope(response, 409, "CONFLICT")
    assert "back.jpg" in body["message"] and body["details"]["album"] == "photos"
    assert (await served(client, "/default_user/photos/back.jpg")).content == new_bytes
    # Once the name is free again, the restore succeeds.
    renamed = await client.patch(
        f"/v1/images/{new['id']}", headers=admin, json={"filename": "front.jpg"}
    )
    assert renamed.status_code == 200, renamed.text
    restored = await client.post(f"/v1/images/{old['id']}/restore", headers=admin)
    assert restored.status_code == 200, restored.text
    assert restored.json()["deleted_at"] is None
