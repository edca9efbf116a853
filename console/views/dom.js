// Small DOM helpers the image views share. Everything user-supplied (filenames, tags, alt
// text, album titles) goes in as text nodes or attribute values, never as HTML.

// el("a", {href: "#/x", className: "button"}, "text", childNode): properties when the
// element has them (className, hidden, value...), attributes otherwise (aria-*, data-*).
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key in node && !key.includes("-")) node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// A labelled control in the shared `.field` layout: {field, control}.
let fieldCount = 0;
export function labelled(labelText, control, hint) {
  control.id ||= `field-${++fieldCount}`;
  const parts = [el("label", { htmlFor: control.id }, labelText), control];
  if (hint) {
    const hintNode = el("p", { className: "muted hint", id: `${control.id}-hint` }, hint);
    control.setAttribute("aria-describedby", hintNode.id);
    parts.push(hintNode);
  }
  return { field: el("div", { className: "field" }, parts), control };
}

// Expiry choices in minutes, as CattoPic's `expiryMinutes` takes them.
export const EXPIRY_CHOICES = [
  ["60", "1 hour"],
  ["1440", "1 day"],
  ["10080", "7 days"],
  ["43200", "30 days"],
];

// "a, b ,c" → ["a", "b", "c"]
export function splitTags(text) {
  return text
    .split(",")
    .map((tag) => tag.trim())
    .filter(Boolean);
}

// The detail is a dialog over the gallery, opened by `image` in the hash's query.
export function imageDetailHash(id) {
  return `#/gallery?image=${encodeURIComponent(id)}`;
}

// The query part of the current hash (#/gallery?tag=x → URLSearchParams{tag: x}).
export function hashQuery() {
  const at = location.hash.indexOf("?");
  return new URLSearchParams(at === -1 ? "" : location.hash.slice(at + 1));
}

export async function copyText(text, toast, what) {
  try {
    await navigator.clipboard.writeText(text);
    toast(`${what} copied.`, "success");
  } catch {
    toast(`Could not copy: your browser refused access to the clipboard.`, "error");
  }
}

// The album <option>s of GET /v1/albums, after a first "no album" one.
export function albumOptions(albums, selected, noneLabel = "No album") {
  return [
    el("option", { value: "" }, noneLabel),
    ...albums.map((album) =>
      el(
        "option",
        { value: album.slug, selected: album.slug === selected },
        album.title && album.title !== album.slug ? `${album.title} (${album.slug})` : album.slug,
      ),
    ),
  ];
}
