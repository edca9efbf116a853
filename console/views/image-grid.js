// The grid the gallery and the trash share: pages of GET /v1/images (keyset cursor), the
// next one fetched when the end of the grid scrolls into view (IntersectionObserver). Each
// tile shows the image's ThumbHash at once and its thumbnail over it once that has loaded.

import { el } from "./dom.js";
import { placeholderCanvas } from "./thumbhash.js";

const PAGE_SIZE = 50;

function tileImage(image) {
  const frame = el("div", { className: "tile-frame" });
  const canvas = placeholderCanvas(image.placeholder);
  if (canvas) frame.append(canvas);
  if (image.thumbnail_url) {
    const img = el("img", {
      src: image.thumbnail_url,
      alt: image.alt || image.filename,
      loading: "lazy",
      decoding: "async",
    });
    // Until then the placeholder shows through (the img is transparent: .tile-frame img).
    img.addEventListener("load", () => frame.classList.add("loaded"), { once: true });
    img.addEventListener("error", () => frame.classList.add("broken"), { once: true });
    frame.append(img);
  }
  return frame;
}

// A grid of /v1/images answers for `query` (URLSearchParams of filters). `tileActions(image)`
// gives each tile's controls (the first opens the detail in the gallery, Restore in the
// trash). Returns {element, update(image), remove(id), destroy()}.
export function createImageGrid(api, query, tileActions, emptyText) {
  const list = el("ul", { className: "image-grid", "aria-label": "Images" });
  const status = el("p", { className: "muted grid-status", role: "status" });
  const sentinel = el("div", { className: "grid-sentinel", "aria-hidden": "true" });
  const element = el("div", {}, list, status, sentinel);
  let cursor = null;
  let finished = false;
  let loading = null;
  const controller = new AbortController();

  function tile(image) {
    return el(
      "li",
      { className: "tile", "data-id": image.id },
      tileImage(image),
      el("div", { className: "tile-caption" }, image.filename),
      el("div", { className: "tile-actions" }, tileActions(image)),
    );
  }

  async function loadPage() {
    if (finished || loading) return loading;
    const params = new URLSearchParams(query);
    params.set("limit", String(PAGE_SIZE));
    if (cursor) params.set("cursor", cursor);
    status.textContent = "Loading…";
    loading = api(`/v1/images?${params}`, { signal: controller.signal })
      .then((page) => {
        list.append(...page.data.map(tile));
        cursor = page.next_cursor;
        finished = !cursor;
        status.textContent = finished && !list.children.length ? emptyText : "";
      })
      .catch((error) => {
        if (error.name === "AbortError") return;
        status.textContent = `Could not load the images: ${error.message}`;
        finished = true;
      })
      .finally(() => {
        loading = null;
      });
    await loading;
    // A short first page may leave the sentinel visible: the observer fires only on change.
    if (!finished && !controller.signal.aborted && sentinelVisible()) loadPage();
  }

  function sentinelVisible() {
    if (!sentinel.isConnected) return false;
    const box = sentinel.getBoundingClientRect();
    return box.top < window.innerHeight && box.bottom >= 0;
  }

  const observer = new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) loadPage();
  });
  observer.observe(sentinel);

  // An edited image keeps its place (a reload would lose the scroll position).
  function update(image) {
    list.querySelector(`[data-id="${CSS.escape(image.id)}"]`)?.replaceWith(tile(image));
  }

  function remove(id) {
    list.querySelector(`[data-id="${CSS.escape(id)}"]`)?.remove();
    if (!list.children.length && finished) status.textContent = emptyText;
  }

  function destroy() {
    observer.disconnect();
    controller.abort();
  }

  loadPage();
  return { element, update, remove, destroy };
}
