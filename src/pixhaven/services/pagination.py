"""Pictify's list pagination, one shape for templates, webhook subscriptions and bindings:
`{page, limit, total, totalPages, hasNext, hasPrev}` (1-based pages)."""


def pictify_pagination(page: int, limit: int, total: int) -> dict:
    pages = (total + limit - 1) // limit
    return {
        "page": page,
        "limit": limit,
        "total": total,
        "totalPages": pages,
        "hasNext": page < pages,
        "hasPrev": page > 1,
    }
