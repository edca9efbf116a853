"""`/docs` (Swagger UI) and `/redoc` (ReDoc): pages that load the libraries from this origin
(the console's assets, `vendor/`, installed by `pixhaven console install`), never from a
CDN, so they work offline and send nothing elsewhere.

Each page says how to install the library when its script did not load (the message is
there until the script replaces it), so a server without the files is never a blank page.
A Content-Security-Policy keeps every fetch, image and script on this origin.
"""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

SWAGGER_JS = "/vendor/swagger-ui/swagger-ui-bundle.js"
SWAGGER_CSS = "/vendor/swagger-ui/swagger-ui.css"
REDOC_JS = "/vendor/redoc/redoc.standalone.js"
OPENAPI_URL = "/openapi.json"
# The libraries' own inline styles and the page's inline start-up script need 'unsafe-inline';
# everything else must come from this origin (data: for the libraries' inline icons).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'self'"
)

MISSING = """<div id="docs-missing" class="docs-missing" role="alert">
<h1>{library} is not installed on this server</h1>
<p>Its files come from npm at install time and are served from this origin, never from a
CDN. Run <code>pixhaven console install</code> (scripts/dev.sh, scripts/test.sh and
scripts/deploy.sh run it), then reload this page.</p>
<p>The API's OpenAPI document is at <a href="/openapi.json">/openapi.json</a>; the console is
at <a href="/">/</a>.</p>
</div>"""

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="/favicon.svg">
{head}
<style>
body {{ margin: 0; font-family: system-ui, sans-serif; }}
.docs-missing {{ max-width: 40rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }}
</style>
</head>
<body>
<main>
{missing}
{container}
</main>
<script src="{script}"></script>
<script>
{start}
</script>
</body>
</html>
"""

SWAGGER_START = f"""if (window.SwaggerUIBundle) {{
  document.getElementById("docs-missing").remove();
  window.ui = SwaggerUIBundle({{
    url: "{OPENAPI_URL}",
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis],
  }});
}}"""

REDOC_START = f"""if (window.Redoc) {{
  document.getElementById("docs-missing").remove();
  Redoc.init("{OPENAPI_URL}", {{}}, document.getElementById("redoc"));
}}"""


def page(title: str, library: str, head: str, container: str, script: str, start: str):
    html = PAGE.format(
        title=title,
        head=head,
        missing=MISSING.format(library=library),
        container=container,
        script=script,
        start=start,
    )
    headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"}
    return HTMLResponse(html, headers=headers)


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return page(
        "Pixhaven API: Swagger UI",
        "Swagger UI",
        f'<link rel="stylesheet" href="{SWAGGER_CSS}">',
        '<div id="swagger-ui"></div>',
        SWAGGER_JS,
        SWAGGER_START,
    )


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    return page("Pixhaven API: ReDoc", "ReDoc", "", '<div id="redoc"></div>', REDOC_JS, REDOC_START)
