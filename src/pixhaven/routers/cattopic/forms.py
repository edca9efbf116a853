"""Multipart upload forms (CattoPic's `POST /api/upload/single`): the file under either field
name, and the text fields around it read as integers and booleans. JSON bodies and query
parameters: routers/requests.py. The body's size is limited while it arrives, by the
middleware (`pixhaven.middleware.body_limit`)."""

import math

from fastapi import Request
from starlette.datastructures import UploadFile

from pixhaven.errors import ApiError, invalid

FILE_FIELDS = ("image", "file")


async def read_upload_form(request: Request) -> dict:
    """The form's fields, with the uploaded file under "file" (CattoPic accepts the field
    name `image` or `file`)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise invalid("Expected multipart/form-data with an image file", field="image")
    try:
        form = await request.form(max_files=1, max_fields=50)
    except ApiError:  # the body past its size limit (413), not a malformed form
        raise
    except Exception as exc:  # malformed multipart, too many parts
        raise invalid(f"Invalid multipart form: {exc}", field="image") from None
    fields: dict = {}
    text_in_file_field = None
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if name in FILE_FIELDS and "file" not in fields:
                fields["file"] = value
        elif name in FILE_FIELDS:
            # A part without a filename is text (`-F file=abc`): never the image.
            text_in_file_field = text_in_file_field or name
        else:
            fields[name] = value
    if "file" not in fields:
        no_file = "No image file provided (form field 'image' or 'file')"
        if text_in_file_field:
            raise invalid(
                no_file,
                field=text_in_file_field,
                explanation="this part is text, not a file: send the image with a filename",
            )
        raise invalid(no_file, field="image")
    return fields


def form_int(form: dict, name: str, *, low: int, high: int) -> int | None:
    """A number field as an integer (a fraction is cut off), None when absent or empty.
    Any text is answered: not a number (or NaN) is "must be a number"; anything outside
    low..high — infinities, 1e309 and numbers of thousands of digits included — is "must be
    between low and high"."""
    raw = form.get(name)
    if raw is None or str(raw).strip() == "":
        return None
    try:
        # float() reads any length of digits (too large is inf); int() of text would refuse
        # more than 4,300 digits and int() of inf raises.
        number = float(str(raw).strip())
    except ValueError:
        raise invalid(f"{name} must be a number", field=name) from None
    if math.isnan(number):
        raise invalid(f"{name} must be a number", field=name)
    if not low <= number < high + 1:
        raise invalid(f"{name} must be between {low} and {high}", field=name)
    return int(number)


def form_bool(form: dict, name: str, default: bool) -> bool:
    raw = form.get(name)
    if raw is None or str(raw).strip() == "":
        return default
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise invalid(f"{name} must be true or false", field=name)
