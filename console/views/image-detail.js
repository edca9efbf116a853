// The image detail, a modal <dialog> over the gallery: the image, its versions and
// variants, copy buttons for its URL / Markdown / HTML, the edit form (PATCH /v1/images/{id}:
// tags, album, alt, privacy) and Delete (a soft delete: the trash can restore it).
//
// Escape closes it (the <dialog>'s own cancel), and focus goes back to what opened it.

import { EXPIRY_CHOICES, albumOptions, copyText, el, labelled, splitTags } from "./dom.js";

function imagePath(id) {
  return `/v1/images/${encodeURIComponent(id)}`;
}

// What a public image can be linked with. A private image has none: its public URLs answer
// 404 and its signed URLs expire within 2 hours.
function shareSnippets(image) {
  const url = image.versions?.original || image.cdn_url;
  const alt = image.alt || image.filename;
  const img = document.createElement("img");
  img.setAttribute("src", url);
  img.setAttribute("alt", alt);
  if (image.width) img.setAttribute("width", image.width);
  if (image.height) img.setAttribute("height", image.height);
  return [
    ["URL", url],
    // Markdown: brackets in alt text would end the link text early.
    ["Markdown", `![${alt.replace(/[[\]]/g, "")}](${url})`],
    // outerHTML escapes the attribute values, so a quote in the alt cannot break out.
    ["HTML", img.outerHTML],
  ];
}

function renditionLinks(title, renditions) {
  const entries = Object.entries(renditions || {});
  if (!entries.length) return null;
  return el(
    "div",
    { className: "renditions" },
    el("h3", {}, title),
    el(
      "ul",
      {},
      entries.map(([name, url]) =>
        el("li", {}, el("a", { href: url, target: "_blank", rel: "noopener" }, name)),
      ),
    ),
  );
}

function editForm(image, albums, onSave) {
  const tags = labelled(
    "Tags",
    el("input", { type: "text", value: image.tags.join(", ") }),
    "Comma-separated",
  );
  const album = labelled("Album", el("select", {}, albumOptions(albums, image.album)));
  const alt = labelled("Alt text", el("input", { type: "text", value: image.alt || "" }));
  const privacy = el("input", {
    type: "checkbox",
    id: "detail-private",
    checked: image.is_private,
  });
  // Expiry is CattoPic's (PUT /api/images/{id}), counted from the save: "" leaves it be.
  const expiry = labelled(
    "Expiry",
    el(
      "select",
      {},
      el(
        "option",
        { value: "" },
        image.expires_at
          ? `Unchanged (${new Date(image.expires_at).toLocaleString()})`
          : "Unchanged (never)",
      ),
      image.expires_at ? el("option", { value: "0" }, "Never expire") : null,
      EXPIRY_CHOICES.map(([value, text]) => el("option", { value }, `Expire in ${text}`)),
    ),
  );
  const save = el("button", { type: "submit", className: "button primary" }, "Save changes");
  const form = el(
    "form",
    { className: "detail-edit" },
    tags.field,
    album.field,
    alt.field,
    expiry.field,
    el(
      "div",
      { className: "field checks-inline" },
      privacy,
      el("label", { htmlFor: privacy.id }, "Private"),
    ),
    save,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    save.disabled = true;
    try {
      await onSave({
        tags: splitTags(tags.control.value),
        album: album.control.value || null,
        alt: alt.control.value,
        is_private: privacy.checked,
        expiryMinutes: expiry.control.value === "" ? null : Number(expiry.control.value),
      });
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

// Opens the detail of image `id`. `onChange(image)` after an edit, `onDelete(id)` after a
// delete; `onClose()` once the dialog is gone.
export async function openImageDetail(id, { api, toast }, { onChange, onDelete, onClose }) {
  const opener = document.activeElement;
  const dialog = el("dialog", { className: "image-detail", "aria-labelledby": "detail-title" });
  document.body.append(dialog);
  const close = () => dialog.close();
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (opener && opener.isConnected) opener.focus();
    onClose?.();
  });
  dialog.append(el("p", { className: "muted" }, "Loading…"));
  dialog.showModal();

  let image;
  let albums;
  try {
    [image, { data: albums }] = await Promise.all([api(imagePath(id)), api("/v1/albums")]);
  } catch (error) {
    if (!dialog.open) return; // closed while loading
    dialog.replaceChildren(
      el("h2", { id: "detail-title" }, "Image not found"),
      el("p", { className: "error" }, error.message),
      el("button", { type: "button", className: "button" }, "Close"),
    );
    dialog.querySelector("button").addEventListener("click", close);
    dialog.querySelector("button").focus();
    return;
  }

  if (!dialog.open) return; // closed while loading

  async function save({ expiryMinutes, ...changes }) {
    try {
      image = await api(imagePath(id), { method: "PATCH", json: changes });
      if (expiryMinutes !== null) {
        await api(`/api/images/${encodeURIComponent(id)}`, {
          method: "PUT",
          json: { expiryMinutes },
        });
        image = await api(imagePath(id)); // the /v1 resource with its new expires_at
      }
      toast("Saved.", "success");
      onChange?.(image);
      render();
      // The form was drawn again: keep the keyboard where it was, on Save.
      dialog.querySelector(".detail-edit button[type=submit]")?.focus();
    } catch (error) {
      toast(`Not saved: ${error.message}`, "error");
    }
  }

  async function remove() {
    try {
      await api(imagePath(id), { method: "DELETE" });
      toast(`${image.filename} moved to the trash.`, "success");
      onDelete?.(id);
      close();
    } catch (error) {
      toast(`Not deleted: ${error.message}`, "error");
    }
  }

  function render() {
    // A screen-sized variant rather than the original, which may be many megabytes.
    const preview = image.variants?.w1024 || image.versions?.original || image.thumbnail_url;
    const share = image.is_private
      ? el("p", { className: "muted" }, "Private: it has no public link to share.")
      : el(
          "div",
          { className: "actions" },
          shareSnippets(image).map(([what, text]) => {
            const button = el("button", { type: "button", className: "button" }, `Copy ${what}`);
            button.addEventListener("click", () => copyText(text, toast, what));
            return button;
          }),
        );
    const closeButton = el("button", { type: "button", className: "button detail-close" }, "Close");
    closeButton.addEventListener("click", close);
    const deleteButton = el("button", { type: "button", className: "button danger" }, "Delete");
    deleteButton.addEventListener("click", remove);
    dialog.replaceChildren(
      el(
        "div",
        { className: "detail-head" },
        el("h2", { id: "detail-title" }, image.filename),
        closeButton,
      ),
      preview
        ? el("img", { className: "detail-image", src: preview, alt: image.alt || image.filename })
        : null,
      el(
        "p",
        { className: "muted" },
        `${image.width ?? "?"} × ${image.height ?? "?"} · ${image.content_type}`,
        ` · ${image.size} bytes`,
        image.expires_at ? ` · expires ${new Date(image.expires_at).toLocaleString()}` : "",
      ),
      share,
      el(
        "div",
        { className: "detail-links" },
        renditionLinks("Versions", image.versions),
        renditionLinks("Variants", image.variants),
      ),
      el("h3", {}, "Edit"),
      editForm(image, albums, save),
      el("div", { className: "actions" }, deleteButton),
    );
  }

  render();
  dialog.querySelector(".detail-close").focus();
}
