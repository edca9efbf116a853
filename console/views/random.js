// #/random: builds a link to GET /api/random (public, no token: a 302 to a random public
// image matching tags, exclusions, orientation and format) with a copy button, and previews
// it live in an <img> that follows every change. Re-roll adds a cache-busting parameter:
// the link itself always answers a new pick, but the browser would show the same one again.

import { copyText, el, labelled, splitTags } from "./dom.js";

// Text fields wait for a pause in typing, not every key, before asking for a new preview.
const TYPING_PAUSE_MS = 300;
// Leaving orientation out is "auto" (portrait for phones, landscape otherwise), as CattoPic's
// own link builder does.
const ORIENTATIONS = [
  ["", "Auto (by the viewer's device)"],
  ["landscape", "Landscape"],
  ["portrait", "Portrait"],
];
// Leaving format out lets the server pick the best the viewer's browser accepts.
const FORMATS = [
  ["", "Best the browser accepts"],
  ["original", "Original"],
  ["webp", "WebP"],
  ["avif", "AVIF"],
];

function select(pairs) {
  return el(
    "select",
    {},
    pairs.map(([value, text]) => el("option", { value }, text)),
  );
}

function randomLink(values) {
  const params = new URLSearchParams();
  if (values.tags.length) params.set("tags", values.tags.join(","));
  if (values.exclude.length) params.set("exclude", values.exclude.join(","));
  if (values.orientation) params.set("orientation", values.orientation);
  if (values.format) params.set("format", values.format);
  const query = params.toString();
  return `${location.origin}/api/random${query ? `?${query}` : ""}`;
}

export async function mount(root, { toast }) {
  const tags = labelled(
    "Tags",
    el("input", { type: "text", autocomplete: "off" }),
    "Comma-separated; an image needs all of them",
  );
  const exclude = labelled(
    "Exclude tags",
    el("input", { type: "text", autocomplete: "off" }),
    "Comma-separated; images with any of them are skipped",
  );
  const orientation = labelled("Orientation", select(ORIENTATIONS));
  const format = labelled("Format", select(FORMATS));
  const link = labelled(
    "Random image link",
    el("input", { type: "text", readOnly: true, className: "random-link" }),
  );
  const copy = el("button", { type: "button", className: "button" }, "Copy link");
  const reroll = el("button", { type: "button", className: "button" }, "Re-roll");
  const preview = el("img", {
    className: "random-preview",
    alt: "A random image matching the link",
  });
  const previewStatus = el("p", { className: "muted", role: "status" }, "Loading a preview…");
  let rolls = 0;
  let typingTimer = null;

  function update() {
    const url = randomLink({
      tags: splitTags(tags.control.value),
      exclude: splitTags(exclude.control.value),
      orientation: orientation.control.value,
      format: format.control.value,
    });
    link.control.value = url;
    rolls += 1;
    previewStatus.textContent = "Loading a preview…";
    preview.hidden = false;
    preview.src = `${url}${url.includes("?") ? "&" : "?"}preview=${rolls}`;
  }

  preview.addEventListener("load", () => {
    previewStatus.textContent = `Preview: ${preview.naturalWidth} × ${preview.naturalHeight}.`;
  });
  preview.addEventListener("error", () => {
    preview.hidden = true;
    previewStatus.textContent = "No public image matches these choices.";
  });
  for (const { control } of [tags, exclude]) {
    control.addEventListener("input", () => {
      clearTimeout(typingTimer);
      typingTimer = setTimeout(update, TYPING_PAUSE_MS);
    });
  }
  for (const { control } of [orientation, format]) control.addEventListener("change", update);
  copy.addEventListener("click", () => copyText(link.control.value, toast, "Link"));
  reroll.addEventListener("click", update);

  root.append(
    el("h1", {}, "Random image link"),
    el(
      "div",
      { className: "random-layout" },
      el(
        "form",
        { className: "card", "aria-label": "Link options" },
        tags.field,
        exclude.field,
        orientation.field,
        format.field,
        link.field,
        el("div", { className: "actions" }, copy, reroll),
      ),
      el(
        "section",
        { className: "card random-preview-card", "aria-label": "Preview" },
        previewStatus,
        preview,
      ),
    ),
  );
  root.querySelector("form").addEventListener("submit", (event) => event.preventDefault());
  update();
  return () => clearTimeout(typingTimer);
}
