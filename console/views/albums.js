// #/albums: the caller's albums with their image counts (GET /v1/albums): create
// (POST /v1/albums), edit title and description (PATCH /v1/albums/{slug}) and delete
// (DELETE /v1/albums/{slug}: the images stay, in no album).

import { el } from "./dom.js";
import { formDialog } from "./form-dialog.js";

const SLUG_HINT = "1–64 lowercase letters a–z, digits or '-'";

function albumPath(slug) {
  return `/v1/albums/${encodeURIComponent(slug)}`;
}

function actionButton(text, label, onClick, className = "button") {
  const button = el("button", { type: "button", className, "aria-label": label }, text);
  button.addEventListener("click", onClick);
  return button;
}

export async function mount(root, { api, toast }) {
  const body = el("tbody");
  const empty = el("p", { className: "muted", hidden: true }, "No albums yet.");

  async function load() {
    const { data } = await api("/v1/albums");
    body.replaceChildren(...data.map(albumRow));
    empty.hidden = data.length > 0;
  }

  function albumRow(album) {
    const name = album.title || album.slug;
    return el(
      "tr",
      { "data-slug": album.slug },
      el("td", {}, el("a", { href: `#/gallery?album=${encodeURIComponent(album.slug)}` }, name)),
      el("td", {}, el("code", {}, album.slug)),
      el("td", {}, album.description || ""),
      el("td", { className: "number" }, String(album.image_count)),
      el(
        "td",
        {},
        el(
          "div",
          { className: "actions tight" },
          actionButton("Edit", `Edit ${name}`, () => edit(album)),
          actionButton("Delete", `Delete ${name}`, () => remove(album), "button danger"),
        ),
      ),
    );
  }

  async function create() {
    const made = await formDialog({
      title: "New album",
      fields: [
        {
          name: "slug",
          label: "Slug",
          hint: SLUG_HINT,
          required: true,
          pattern: "[a-z0-9-]{1,64}",
        },
        { name: "title", label: "Title" },
        { name: "description", label: "Description" },
      ],
      submitLabel: "Create",
      submit: ({ slug, title, description }) =>
        api("/v1/albums", {
          json: { slug, title: title || undefined, description: description || undefined },
        }),
    });
    if (!made) return;
    toast(`Album “${made.title}” created.`, "success");
    await load();
  }

  async function edit(album) {
    const saved = await formDialog({
      title: `Edit “${album.title || album.slug}”`,
      fields: [
        { name: "title", label: "Title", value: album.title, required: true },
        { name: "description", label: "Description", value: album.description },
      ],
      submitLabel: "Save",
      submit: ({ title, description }) =>
        api(albumPath(album.slug), {
          method: "PATCH",
          json: { title, description: description || null },
        }),
    });
    if (!saved) return;
    toast("Album saved.", "success");
    await load();
  }

  async function remove(album) {
    const deleted = await formDialog({
      title: `Delete “${album.title || album.slug}”?`,
      text: "Its images are kept, in no album.",
      submitLabel: "Delete album",
      danger: true,
      submit: () => api(albumPath(album.slug), { method: "DELETE" }),
    });
    if (!deleted) return;
    toast("Album deleted.", "success");
    await load();
    root.querySelector(".albums-new")?.focus();
  }

  const newButton = el(
    "button",
    { type: "button", className: "button primary albums-new" },
    "New album",
  );
  newButton.addEventListener("click", create);
  await load();
  root.append(
    el("h1", {}, "Albums"),
    el("div", { className: "actions" }, newButton),
    el(
      "div",
      { className: "card table-wrap" },
      el(
        "table",
        {},
        el("caption", { className: "visually-hidden" }, "Albums"),
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            ["Title", "Slug", "Description"].map((text) => el("th", { scope: "col" }, text)),
            el("th", { scope: "col", className: "number" }, "Images"),
            el("th", { scope: "col" }, "Actions"),
          ),
        ),
        body,
      ),
      empty,
    ),
  );
}
