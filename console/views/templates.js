// Pictify templates (#/templates): the list (name, engine, output format, last update) with
// new / open / delete. The editor is the same route with a query, #/templates?uid=<uid> or
// #/templates?new=<engine>, so the nav keeps a single "Templates" entry and opening a
// template is a link the browser's back button undoes.

import { confirmDialog } from "./confirm-dialog.js";
import { formatDate, h, hashParams } from "./dom.js";

const PAGE_SIZE = 20;
// The engines POST /templates accepts, as the editor names them.
export const ENGINES = {
  html: "HTML",
  document: "Component document",
  fabric: "FabricJS canvas",
};

export async function mount(root, ctx) {
  const params = hashParams();
  if (params.get("uid") || params.get("new")) {
    const { mountEditor } = await import("./template-editor.js");
    return mountEditor(root, ctx, { uid: params.get("uid"), engine: params.get("new") });
  }
  return mountList(root, ctx);
}

async function mountList(root, { api, toast }) {
  const rows = h("tbody");
  const status = h("p", { className: "muted", role: "status" });
  const sort = h(
    "select",
    { id: "template-sort" },
    h("option", { value: "newest" }, "Newest first"),
    h("option", { value: "oldest" }, "Oldest first"),
    h("option", { value: "name" }, "By name"),
  );
  const previous = h("button", { type: "button", className: "button" }, "Previous page");
  const next = h("button", { type: "button", className: "button" }, "Next page");
  let page = 1;

  root.append(
    h("h1", {}, "Templates"),
    h(
      "section",
      { className: "card", "aria-labelledby": "new-template-title" },
      h("h2", { id: "new-template-title" }, "New template"),
      h(
        "div",
        { className: "actions" },
        h("a", { className: "button primary", href: "#/templates?new=html" }, "New HTML template"),
        h("a", { className: "button", href: "#/templates?new=document" }, "New component template"),
        h("a", { className: "button", href: "#/templates?new=fabric" }, "New FabricJS template"),
      ),
    ),
    h(
      "section",
      { className: "card", "aria-labelledby": "template-list-title" },
      h("h2", { id: "template-list-title", tabindex: "-1" }, "Saved templates"),
      h("div", { className: "field inline" }, h("label", { for: sort.id }, "Sort"), sort),
      h(
        "div",
        { className: "table-wrap" },
        h(
          "table",
          {},
          h("caption", { className: "visually-hidden" }, "Templates"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Name", "Engine", "Output", "Updated"].map((name) =>
                h("th", { scope: "col" }, name),
              ),
              h("th", { scope: "col" }, h("span", { className: "visually-hidden" }, "Actions")),
            ),
          ),
          rows,
        ),
      ),
      status,
      h("div", { className: "actions" }, previous, next),
    ),
  );

  function row(template) {
    const remove = h(
      "button",
      { type: "button", className: "button danger", "aria-label": `Delete ${template.name}` },
      "Delete",
    );
    remove.addEventListener("click", () => deleteTemplate(template));
    const open = h(
      "a",
      { href: `#/templates?uid=${encodeURIComponent(template.uid)}` },
      template.name,
    );
    return h(
      "tr",
      {},
      h("th", { scope: "row" }, open),
      h("td", {}, ENGINES[template.engine] || template.engine),
      h("td", {}, template.outputFormat || "image"),
      h("td", {}, formatDate(template.updatedAt)),
      h("td", {}, remove),
    );
  }

  async function deleteTemplate(template) {
    const confirmed = await confirmDialog({
      title: "Delete this template?",
      text: `“${template.name}” is deleted for good; images it rendered stay.`,
      confirmLabel: "Delete template",
    });
    if (!confirmed) return;
    try {
      await api(`/templates/${encodeURIComponent(template.uid)}`, { method: "DELETE" });
      toast(`Deleted “${template.name}”.`, "success");
      await load();
      // The focused Delete button went with its row: keep the keyboard in the list.
      root.querySelector("#template-list-title").focus();
    } catch (error) {
      // 409 TEMPLATE_IN_USE: bindings still render it; the message says how many.
      toast(`Not deleted: ${error.message}`, "error");
    }
  }

  async function load() {
    status.textContent = "Loading…";
    try {
      const query = new URLSearchParams({ page, limit: PAGE_SIZE, sort: sort.value });
      const answer = await api(`/templates?${query}`);
      rows.replaceChildren(...answer.templates.map(row));
      const { total, totalPages } = answer.pagination;
      status.textContent = total
        ? `${total} template${total === 1 ? "" : "s"}, page ${page} of ${totalPages}.`
        : "No templates yet: make one above.";
      previous.disabled = !answer.pagination.hasPrev;
      next.disabled = !answer.pagination.hasNext;
    } catch (error) {
      status.textContent = `Could not list the templates: ${error.message}`;
    }
  }

  sort.addEventListener("change", () => {
    page = 1;
    load();
  });
  previous.addEventListener("click", () => {
    page -= 1;
    load();
  });
  next.addEventListener("click", () => {
    page += 1;
    load();
  });
  await load();
}
