// Small DOM helpers the template and webhook views share. Elements are built with
// createElement and text nodes, never innerHTML, so whatever the API answers (template
// names, variable values, webhook payloads) is always shown as text.

// h("td", {className: "number"}, "42"): props are properties where the element has one
// (checked, disabled, hidden, value), attributes otherwise (aria-*, for, type...); children
// are nodes or strings (strings become text nodes).
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "className") node.className = value;
    else if (key === "value") node.value = value;
    else if (typeof value === "boolean" && key in node) node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

// A label and its control, wired with for/id (every control has a visible label).
export function labelled(labelText, control, hint) {
  const wrapper = h("div", { className: "field" }, h("label", { for: control.id }, labelText));
  if (hint) {
    const hintNode = h("p", { className: "muted hint", id: `${control.id}-hint` }, hint);
    control.setAttribute("aria-describedby", hintNode.id);
    wrapper.append(control, hintNode);
  } else {
    wrapper.append(control);
  }
  return wrapper;
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

// The hash's query (#/templates?uid=...), which the router ignores when it picks the view.
export function hashParams() {
  return new URLSearchParams(location.hash.split("?")[1] || "");
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
  if (!errors.length) return h("p", { className: "error" }, error.message);
  return h(
    "ul",
    { className: "error field-errors" },
    errors.map(({ field, message }) =>
      h("li", {}, field ? h("code", {}, field) : "", field ? `: ${message}` : message),
    ),
  );
}
