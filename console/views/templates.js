// Pictify templates (#/templates): the list (name, engine, output format, last update) with
// new / open / delete. The editor is the same route with a query, #/templates?uid=<uid> or
// #/templates?new=<engine>, so the nav keeps a single "Templates" entry and opening a
// template is a link the browser's back button undoes.

import { confirmDialog } from "./form-dialog.js";
import { formatDate, el, hashQuery } from "./dom.js";

const PAGE_SIZE = 20;
// The engines POST /templates accepts, as the editor names them.
export const ENGINES = {
  html: "HTML",
  document: "Component document",
  fabric: "FabricJS canvas",
};

export async function mount(root, ctx) {
  const params = hashQuery();
  if (params.get("uid") || params.get("new")) {
    const { mountEditor } = await import("./template-editor.js");
    return mountEditor(root, ctx, { uid: params.get("uid"), engine: params.get("new") });
  }
  return mountList(root, ctx);
}

async function mountList(root, { api, toast }) {
  const rows = el("tbody");
  const status = el("p", { className: "muted", role: "status" });
  const sort = el(
    "select",
    { id: "template-sort" },
    el("option", { value: "newest" }, "Newest first"),
    el("option", { value: "oldest" }, "Oldest first"),
    el("option", { value: "name" }, "By name"),
  );
  const previous = el("button", { type: "button", className: "button" }, "Previous page");
  const next = el("button", { type: "button", className: "button" }, "Next page");
  let page = 1;

  root.append(
    el("h1", {}, "Templates"),
    el(
      "section",
      { className: "card", "aria-labelledby": "new-template-title" },
      el("h2", { id: "new-template-title" }, "New template"),
      el(
        "div",
        { className: "actions" },
        el("a", { className: "button primary", href: "#/templates?new=html" }, "New HTML template"),
        el("a", { className: "button", href: "#/templates?new=document" }, "New component template"),
        el("a", { className: "button", href: "#/templates?new=fabric" }, "New FabricJS template"),
      ),
    ),
    el(
      "section",
      { className: "card", "aria-labelledby": "template-list-title" },
      el("h2", { id: "template-list-title", tabindex: "-1" }, "Saved templates"),
      el("div", { className: "field inline" }, el("label", { for: sort.id }, "Sort"), sort),
      el(
        "div",
        { className: "table-wrap" },
        el(
          "table",
          {},
          el("caption", { className: "visually-hidden" }, "Templates"),
          el(
            "thead",
            {},
            el(
              "tr",
              {},
              ["Name", "Engine", "Output", "Updated"].map((name) =>
                el("th", { scope: "col" }, name),
              ),
              el("th", { scope: "col" }, el("span", { className: "visually-hidden" }, "Actions")),
            ),
          ),
          rows,
        ),
      ),
      status,
      el("div", { className: "actions" }, previous, next),
    ),
  );

  function row(template) {
    const remove = el(
      "button",
      { type: "button", className: "button danger", "aria-label": `Delete ${template.name}` },
      "Delete",
    );
    remove.addEventListener("click", () => deleteTemplate(template));
    const open = el(
      "a",
      { href: `#/templates?uid=${encodeURIComponent(template.uid)}` },
      template.name,
    );
    return el(
      "tr",
      {},
      el("th", { scope: "row" }, open),
      el("td", {}, ENGINES[template.engine] || template.engine),
      el("td", {}, template.outputFormat || "image"),
      el("td", {}, formatDate(template.updatedAt)),
      el("td", {}, remove),
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
