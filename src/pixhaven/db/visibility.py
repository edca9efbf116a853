"""Which images may be shown: the rule written once, as SQL for queries and as Python for
rows already read (tests/test_visibility.py checks that the two agree).

- live: not deleted, upload complete (status 'ready'; two-step uploads are 'pending' or
  'uploading' until their bytes arrive);
- expired: has an expiry time, and it has passed (`expires_at <= now`);
- visible: live and not expired: what the owner's lists, counts and pages show;
- public: visible and not private: what unauthenticated serving and random may show.

The SQL fragments take the table's alias in the query (`visible("i")` →
`i.deleted_at IS NULL AND …`), none for the bare table name. The fragments that depend on
the time hold one `?`, to be bound to the current time (ISO 8601, as the columns store it).
"""


def _column(alias: str) -> str:
    return f"{alias}." if alias else ""


def live(alias: str = "") -> str:
    """SQL: not deleted, upload complete."""
    c = _column(alias)
    return f"{c}deleted_at IS NULL AND {c}status = 'ready'"


def expired(alias: str = "") -> str:
    """SQL, one `?` (now): the expiry time has passed."""
    c = _column(alias)
    return f"{c}expires_at IS NOT NULL AND {c}expires_at <= ?"


def not_expired(alias: str = "") -> str:
    """SQL, one `?` (now): no expiry time, or one still to come."""
    c = _column(alias)
    return f"({c}expires_at IS NULL OR {c}expires_at > ?)"


def visible(alias: str = "") -> str:
    """SQL, one `?` (now): live and not expired."""
    return f"{live(alias)} AND {not_expired(alias)}"


def public_live(alias: str = "") -> str:
    """SQL: live and not private. Exactly the WHERE clause of the partial indexes
    `images_random` and `images_random_any` (migrations 0002/0003), term for term, so
    SQLite can prove those indexes apply to a query that includes it."""
    c = _column(alias)
    return f"{c}deleted_at IS NULL AND {c}is_private = 0 AND {c}status = 'ready'"


def public(alias: str = "") -> str:
    """SQL, one `?` (now): live, not private, not expired."""
    return f"{public_live(alias)} AND {not_expired(alias)}"


# -- the same rule for a row already read (`now` as in the SQL: an ISO 8601 string) --------


def is_live(row: dict) -> bool:
    return row["deleted_at"] is None and row["status"] == "ready"


def is_expired(row: dict, now: str) -> bool:
    return row["expires_at"] is not None and row["expires_at"] <= now


def is_visible(row: dict, now: str) -> bool:
    return is_live(row) and not is_expired(row, now)


def is_public(row: dict, now: str) -> bool:
    return is_visible(row, now) and not row["is_private"]
