"""The scopes an API key can carry. The admin token implicitly holds all of them."""

SCOPES: dict[str, str] = {
    "images:read": "List and read images, albums and tags",
    "images:write": "Upload, edit, delete and restore images; manage albums and tags",
    "render": "Render images, GIFs and PDFs from components or templates",
    "generate": "Generate images with AI models",
    "templates:read": "List and read templates",
    "templates:write": "Create, edit and delete templates",
    "webhooks": "Manage webhook subscriptions and bindings",
    "analytics:read": "Read usage and cost analytics",
    "keys:read": "List API keys",
    "keys:write": "Create and revoke API keys",
}

ALL_SCOPES = frozenset(SCOPES)
