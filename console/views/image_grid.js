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
// trash). Returns {element, reload(), update(image), remove(id), destroy()}.
export function createImageGrid(api, query, tileActions, emptyText) {
  const list = el("ul", { className: "image-grid", "aria-label": "Images" });
  const status = el("p", { className: "muted grid-status", role: "status" });
  const sentinel = el("div", { className: "grid-sentinel", "aria-hidden": "true" });
  const element = el("div", {}, list, status, sentinel);
  let cursor = null;
  let finished = false;
  let loading = null;
  let generation = 0; // a reload makes older, slower pages stale
  let controller = new AbortController();

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
    const current = generation;
    const params = new URLSearchParams(query);
    params.set("limit", String(PAGE_SIZE));
    if (cursor) params.set("cursor", cursor);
    status.textContent = "Loading…";
    loading = api(`/v1/images?${params}`, { signal: controller.signal })
      .then((page) => {
        if (current !== generation) return;
        list.append(...page.data.map(tile));
        cursor = page.next_cursor;
        finished = !cursor;
        status.textContent = finished && !list.children.length ? emptyText : "";
        element.dataset.pages = String(Number(element.dataset.pages || 0) + 1);
      })
      .catch((error) => {
        if (error.name === "AbortError" || current !== generation) return;
        status.textContent = `Could not load the images: ${error.message}`;
        finished = true;
      })
      .finally(() => {
        if (current === generation) loading = null;
      });
    await loading;
    // A short first page may leave the sentinel visible: the observer fires only on change.
    if (!finished && current === generation && sentinelVisible()) loadPage();
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

  function reload() {
    generation += 1;
    controller.abort();
    controller = new AbortController();
    cursor = null;
    finished = false;
    loading = null;
    element.dataset.pages = "0";
    list.replaceChildren();
    return loadPage();
  }

  function remove(id) {
    list.querySelector(`[data-id="${CSS.escape(id)}"]`)?.remove();
    if (!list.children.length && finished) status.textContent = emptyText;
  }

  // An edited image keeps its place (a reload would lose the scroll position).
  function update(image) {
    list.querySelector(`[data-id="${CSS.escape(image.id)}"]`)?.replaceWith(tile(image));
  }

  function destroy() {
    observer.disconnect();
    controller.abort();
  }

  return { element, reload, update, remove, destroy, firstPage: loadPage() };
}
