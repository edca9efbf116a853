// The batch render's variable sets: a table with one column per variable and one row per
// render. Rows are added by hand or pasted: CSV with a header row of variable names, or
// JSON (one object per line, or an array of objects).

import { el, labelledField, uniqueId } from "./dom.js";
import { typedValue } from "./template-variables.js";

// One CSV line's fields; quotes as RFC 4180 ("a ""b""" is a "b"), separators inside quotes kept.
function csvFields(line) {
  const fields = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const char = line[i];
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      fields.push(field);
      field = "";
    } else field += char;
  }
  fields.push(field);
  return fields.map((f) => f.trim());
}

// Pasted text as a list of {name: text} objects; throws an Error saying what is wrong.
export function parsePastedSets(text) {
  const trimmed = text.trim();
  if (!trimmed) return [];
  if (trimmed.startsWith("[") || trimmed.startsWith("{")) {
    const sets = trimmed.startsWith("[")
      ? JSON.parse(trimmed)
      : trimmed
          .split(/\r?\n/)
          .filter((line) => line.trim())
          .map((line, index) => {
            try {
              return JSON.parse(line);
            } catch (error) {
              throw new Error(`line ${index + 1} is not JSON: ${error.message}`);
            }
          });
    if (
      !Array.isArray(sets) ||
      sets.some((set) => !set || typeof set !== "object" || Array.isArray(set))
    ) {
      throw new Error("JSON must be objects of name: value");
    }
    return sets;
  }
  const [header, ...lines] = trimmed.split(/\r?\n/).filter((line) => line.trim());
  const names = csvFields(header);
  return lines.map((line) => {
    const fields = csvFields(line);
    return Object.fromEntries(names.map((name, i) => [name, fields[i] ?? ""]));
  });
}

export function createBatchTable(definitions) {
  const columns = definitions.map((d) => ({ name: d.name, type: d.type || "text" }));
  const rows = el("tbody");
  const addRow = el("button", { type: "button", className: "button" }, "Add row");
  const pasted = el("textarea", {
    id: uniqueId("batch-paste"),
    rows: "4",
    className: "code",
    spellcheck: "false",
  });
  const addPasted = el("button", { type: "button", className: "button" }, "Add pasted rows");
  const pasteError = el("p", { className: "error", role: "alert" });

  // Row numbers are in the controls' names ("Row 2 title"): renumbered after every change.
  function renumber() {
    Array.from(rows.children).forEach((tr, i) => {
      for (const input of tr.querySelectorAll("input"))
        input.setAttribute("aria-label", `Row ${i + 1} ${input.name}`);
      tr.querySelector("button").setAttribute("aria-label", `Remove row ${i + 1}`);
    });
  }

  function row(values = {}) {
    const cells = columns.map((column) =>
      el(
        "td",
        {},
        el("input", {
          type: column.type === "number" ? "number" : "text",
          step: column.type === "number" ? "any" : undefined,
          name: column.name,
          value: values[column.name] === undefined ? "" : String(values[column.name]),
          placeholder: column.type === "color" ? "#rrggbb" : "",
        }),
      ),
    );
    const remove = el("button", { type: "button", className: "button danger" }, "Remove");
    const tr = el("tr", {}, cells, el("td", {}, remove));
    remove.addEventListener("click", () => {
      tr.remove();
      renumber();
      addRow.focus();
    });
    return tr;
  }

  addRow.addEventListener("click", () => {
    rows.append(row());
    renumber();
    rows.lastElementChild.querySelector("input")?.focus();
  });
  addPasted.addEventListener("click", () => {
    pasteError.textContent = "";
    try {
      const sets = parsePastedSets(pasted.value);
      rows.append(...sets.map((set) => row(set)));
      renumber();
      pasted.value = "";
    } catch (error) {
      pasteError.textContent = `Nothing added: ${error.message}`;
    }
  });

  const element = el(
    "div",
    { className: "batch-table" },
    columns.length
      ? el(
          "div",
          { className: "table-wrap" },
          el(
            "table",
            {},
            el("caption", { className: "visually-hidden" }, "Variable sets, one row per render"),
            el(
              "thead",
              {},
              el(
                "tr",
                {},
                columns.map((c) => el("th", { scope: "col" }, c.name)),
                el("th", { scope: "col" }, el("span", { className: "visually-hidden" }, "Remove")),
              ),
            ),
            rows,
          ),
        )
      : el(
          "p",
          { className: "muted" },
          "The saved template has no variables: each row renders it as it is.",
        ),
    el("div", { className: "actions" }, addRow),
    labelledField("Paste rows (CSV with a header row, or JSON lines)", pasted),
    el("div", { className: "actions" }, addPasted),
    pasteError,
  );

  return {
    element,
    // One {name: typed value} per row; empty cells take the template's default.
    variableSets() {
      return Array.from(rows.children, (tr) => {
        const set = {};
        for (const input of tr.querySelectorAll("input")) {
          const column = columns.find((c) => c.name === input.name);
          const value = typedValue(column.type, input.value.trim());
          if (value !== undefined) set[column.name] = value;
        }
        return set;
      });
    },
  };
}
