// Small DOM helpers every view shares. Everything user-supplied (filenames, tags, alt text,
// album titles, template names, variable values, webhook payloads) goes in as text nodes or
// attribute values, never as HTML.

// el("a", {href: "#/x", className: "button"}, "text", childNode): properties when the
// element has writable ones (className, htmlFor, hidden, value...), attributes otherwise
// (aria-*, data-*, for, and read-only properties such as an input's `list`).
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key in node && !key.includes("-")) {
      try {
        node[key] = value;
        continue;
      } catch {
        // A getter-only property (modules are strict, so the assignment throws).
      }
    }
    node.setAttribute(key, value === true ? "" : String(value));
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

// The same, as the `.field` element alone.
export function labelledField(labelText, control, hint) {
  return labelled(labelText, control, hint).field;
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

let lastId = 0;

// Ids for controls built at run time (labels need them); unique within the page.
export function uniqueId(prefix) {
  lastId += 1;
  return `${prefix}-${lastId}`;
}

export function formatDate(iso) {
  return iso ? new Date(iso).toLocaleString() : "—";
}

// A fresh Idempotency-Key: a retried create (double click, flaky network) answers the first
// result instead of making a second one. getRandomValues also works outside secure contexts,
// where crypto.randomUUID is missing.
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// The error answers worth showing field by field: Pictify's details.errors[] ({field,
// message}) or Pixhaven's details.field.
export function fieldErrors(error) {
  const details = error?.details || {};
  if (Array.isArray(details.errors) && details.errors.length) {
    return details.errors.map((item) => ({
      field: item.field || item.path || "",
      message: item.message || error.message,
    }));
  }
  if (details.field) return [{ field: details.field, message: error.message }];
  return [];
}

// A <ul> of the field errors of an ApiError, or a single paragraph with its message.
export function errorList(error) {
  const errors = fieldErrors(error);
  if (!errors.length) return el("p", { className: "error" }, error.message);
  return el(
    "ul",
    { className: "error field-errors" },
    errors.map(({ field, message }) =>
      el("li", {}, field ? el("code", {}, field) : "", field ? `: ${message}` : message),
    ),
  );
}
