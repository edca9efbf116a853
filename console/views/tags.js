// #/tags: the caller's tags with their image counts (GET /v1/tags), each linked to the
// gallery filtered by it, with Rename (PUT /api/tags/{name} {newName}: renaming onto an
// existing tag merges the two).
//
// No "delete tag" here: CattoPic's DELETE /api/tags/{name} deletes every image carrying
// the tag, which is not what a tag list's delete button promises.

import { el } from "./dom.js";
import { formDialog } from "./form-dialog.js";

function tagRow(tag, count, rename) {
  const button = el("button", { type: "button", className: "button" }, "Rename or merge");
  button.setAttribute("aria-label", `Rename or merge ${tag}`);
  button.addEventListener("click", () => rename(tag));
  return el(
    "tr",
    {},
    el("td", {}, el("a", { href: `#/gallery?tag=${encodeURIComponent(tag)}` }, tag)),
    el("td", { className: "number" }, String(count)),
    el("td", {}, button),
  );
}

export async function mount(root, { api, toast }) {
  const body = el("tbody");
  const empty = el(
    "p",
    { className: "muted", hidden: true },
    "No tags yet: add some when uploading or in an image's detail.",
  );

  async function load() {
    const { data } = await api("/v1/tags");
    const known = new Set(data.map(({ tag }) => tag));
    body.replaceChildren(
      ...data.map(({ tag, count }) => tagRow(tag, count, (name) => rename(name, known))),
    );
    empty.hidden = data.length > 0;
  }

  async function rename(tag, known) {
    const renamed = await formDialog({
      title: `Rename “${tag}”`,
      text: "Renaming onto a tag that exists merges the two.",
      fields: [{ name: "newName", label: "New name", value: tag, required: true }],
      submitLabel: "Rename",
      submit: async ({ newName }) => {
        await api(`/api/tags/${encodeURIComponent(tag)}`, { method: "PUT", json: { newName } });
        return newName;
      },
    });
    if (!renamed) return;
    toast(
      known.has(renamed)
        ? `“${tag}” merged into “${renamed}”.`
        : `“${tag}” renamed to “${renamed}”.`,
      "success",
    );
    await load();
    root.querySelector(`button[aria-label="Rename or merge ${CSS.escape(renamed)}"]`)?.focus();
  }

  await load();
  root.append(
    el("h1", {}, "Tags"),
    el(
      "div",
      { className: "card table-wrap" },
      el(
        "table",
        {},
        el("caption", { className: "visually-hidden" }, "Tags and how many images carry each"),
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            el("th", { scope: "col" }, "Tag"),
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
