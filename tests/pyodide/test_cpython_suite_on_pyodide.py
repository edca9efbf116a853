"""The CPython suite's HTTP tests, run unchanged against the Worker on Pyodide.

Part of the test command (scripts/test.sh installs `tests/pyodide`'s and `tests/miniflare`'s
npm packages; the first run downloads the Worker's wheels, see tests/pyodide/worker.py).
Without Node or those packages these skip; CI sets PIXHAVEN_REQUIRE_PYODIDE=1, which makes
that a failure.

Every test function of the modules below whose fixtures are only `client`, `admin` and
`make_key` is collected here under its own name with a `test_<module>__` prefix, so the same
assertions run on `entry.Default.fetch` with the real SDK and Miniflare's D1 and R2: this
module's `client` replaces the CPython one (`make_key` uses it too). Tests that put pixels
through Pillow in the isolate (JPEG uploads, PNG renders), which has no wasm wheel on PyPI,
cannot pass here: they are listed in NEEDS_PILLOW and left out, so a name in that list says
"outside this harness", not "broken". env.IMAGES is there (LocalImages in the test process,
see worker.py), so what Cloudflare Images does for the Worker is not the obstacle.
"""

import importlib
import inspect

import pytest

MODULES = [
    "test_keys_api",
    "test_auth",
    "test_tags",
    "test_albums",
    "test_collections",
    "test_templates",
    "test_http_basics",
    "test_json_bodies",
]
USABLE_FIXTURES = {"client", "admin", "make_key"}

# Tests that upload a JPEG (the upload's decode check runs Pillow in the isolate,
# imaging/verify.py) or render a PNG (Pillow draws it): every one of them answered 500
# "No module named 'PIL'" here, nothing else, and still does with env.IMAGES in the harness
# (checked again when it came). PNG uploads do work here: test_worker_flows.py has them.
NEEDS_PILLOW = {
    "test_albums::test_delete_album_keeps_its_images",
    "test_albums::test_get_album",
    "test_albums::test_image_count_is_of_visible_images",
    "test_collections::test_another_owner_sees_none_of_it",
    "test_collections::test_collection_images",
    "test_collections::test_collection_images_default_to_the_documented_20_a_page",
    "test_collections::test_delete_collection",
    "test_collections::test_get_collection_by_id_or_slug",
    "test_tags::test_another_owner_sees_none_of_it",
    "test_tags::test_batch_accepts_comma_strings_and_normalises",
    "test_tags::test_batch_cannot_add_and_remove_the_same_tag",
    "test_tags::test_batch_invalid_tag_leaves_images_untouched",
    "test_tags::test_batch_on_a_deleted_image_is_404",
    "test_tags::test_batch_over_more_images_than_d1_binds_in_one_statement",
    "test_tags::test_batch_update_tags",
    "test_tags::test_batch_with_malformed_ids_is_400_naming_them",
    "test_tags::test_batch_with_repeated_ids_counts_each_image_once",
    "test_tags::test_batch_with_unknown_ids_changes_nothing",
    "test_tags::test_counts_are_of_visible_images_only",
    "test_tags::test_creating_an_existing_tag_answers_it_with_its_count",
    "test_tags::test_delete_tag_deletes_its_images",
    "test_tags::test_images_deleted_with_their_tag_can_be_uploaded_again",
    "test_tags::test_list_tags_with_counts",
    "test_tags::test_pixelflare_lists_tags",
    "test_tags::test_rename_into_an_existing_tag_merges",
    "test_tags::test_rename_tag",
    "test_tags::test_url_encoded_names_in_paths",
    "test_templates::test_image_variables_accept_urls_and_data_only",
    "test_templates::test_template_round_trip",
    "test_templates::test_top_level_document_and_render_idempotency",
}


def parametrized_names(function) -> set[str]:
    names: set[str] = set()
    for mark in getattr(function, "pytestmark", []):
        if mark.name == "parametrize":
            given = mark.args[0]
            names |= {n.strip() for n in (given.split(",") if isinstance(given, str) else given)}
    return names


def reusable_tests():
    for module_name in MODULES:
        module = importlib.import_module(f"tests.{module_name}")
        for name, function in vars(module).items():
            if not name.startswith("test_") or not inspect.isfunction(function):
                continue
            if f"{module_name}::{name}" in NEEDS_PILLOW:
                continue
            fixtures = set(inspect.signature(function).parameters) - parametrized_names(function)
            if fixtures <= USABLE_FIXTURES:
                yield (
                    f"test_{module_name.removeprefix('test_')}__{name.removeprefix('test_')}",
                    (function),
                )


globals().update(dict(reusable_tests()))


@pytest.fixture
async def client(worker_client):
    return worker_client
