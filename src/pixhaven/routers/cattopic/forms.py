"""Multipart upload forms (CattoPic's `POST /api/upload/single`): the file under either field
name, and the text fields around it read as integers and booleans. JSON bodies and query
parameters: routers/requests.py. The body's size is limited while it arrives, by the
middleware (`pixhaven.middleware.body_limit`)."""

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
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if name in FILE_FIELDS and "file" not in fields:
                fields["file"] = value
        else:
            fields[name] = value
    if "file" not in fields:
        raise invalid("No image file provided (form field 'image' or 'file')", field="image")
    return fields


def form_int(
    form: dict, name: str, *, low: int | None = None, high: int | None = None
) -> int | None:
    raw = form.get(name)
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = int(float(str(raw).strip()))
    except ValueError:
        raise invalid(f"{name} must be a number", field=name) from None
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise invalid(f"{name} must be {bounds}", field=name)
    return value


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
