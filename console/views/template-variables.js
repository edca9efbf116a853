// A template's variables in the editor: the definitions (name, type, default; add and
// remove) and the values form built from them (an input per type), whose values feed the
// live preview and the renders. Definitions are sent as Pictify's variableDefinitions,
// which every engine accepts.

import { el, uniqueId } from "./dom.js";

export const VARIABLE_TYPES = ["text", "color", "number", "boolean", "image"];
const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

// A colour as <input type="color"> holds it (#rrggbb), or null: #rgb is widened, other
// spellings (#rrggbbaa, names) have no equivalent there.
function inputColour(value) {
  const text = String(value ?? "");
  if (/^#[0-9a-fA-F]{6}$/.test(text)) return text.toLowerCase();
  if (/^#[0-9a-fA-F]{3}$/.test(text)) return `#${[...text.slice(1)].map((c) => c + c).join("")}`;
  return null;
}

// A value typed as its variable's type: what the API checks (a number must be a number, a
// boolean true/false). Empty text means "no value": the template's default applies.
export function typedValue(type, text) {
  if (text === undefined || text === null || text === "") return undefined;
  if (type === "number") {
    const number = Number(text);
    return Number.isFinite(number) ? number : text; // let the API name the bad value
  }
  if (type === "boolean") {
    if (typeof text === "boolean") return text;
    return ["true", "1", "yes", "on"].includes(String(text).trim().toLowerCase());
  }
  return String(text);
}

function defaultOf(definition) {
  return definition.defaultValue ?? definition.default ?? "";
}

// onChange() runs after any edit of a definition or a value.
export function createVariablesEditor(initialDefinitions, onChange) {
  // Each entry keeps what the editor does not show (description, validation), so a save
  // does not drop them.
  let definitions = initialDefinitions.map((d) => ({ ...d, defaultValue: defaultOf(d) }));
  const values = new Map(); // name -> the text or boolean the values form holds

  const definitionRows = el("tbody");
  const addButton = el("button", { type: "button", className: "button" }, "Add variable");
  const definitionsSection = el(
    "fieldset",
    { className: "variable-definitions" },
    el("legend", {}, "Variables"),
    el(
      "div",
      { className: "table-wrap" },
      el(
        "table",
        {},
        el("caption", { className: "visually-hidden" }, "Variable definitions"),
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            ["Name", "Type", "Default"].map((name) => el("th", { scope: "col" }, name)),
            el("th", { scope: "col" }, el("span", { className: "visually-hidden" }, "Remove")),
          ),
        ),
        definitionRows,
      ),
    ),
    addButton,
  );
  const valueFields = el("div", { className: "variable-values" });
  const valuesSection = el(
    "fieldset",
    {},
    el("legend", {}, "Values for the preview and renders"),
    valueFields,
  );

  function definitionRow(definition, index) {
    const name = el("input", {
      type: "text",
      id: uniqueId("variable-name"),
      value: definition.name || "",
      "aria-label": `Variable ${index + 1} name`,
      spellcheck: "false",
      autocomplete: "off",
    });
    const type = el(
      "select",
      { "aria-label": `Variable ${index + 1} type` },
      VARIABLE_TYPES.map((t) => el("option", { value: t }, t)),
    );
    type.value = VARIABLE_TYPES.includes(definition.type) ? definition.type : "text";
    const fallback = el("input", {
      type: "text",
      value: String(defaultOf(definition)),
      "aria-label": `Variable ${index + 1} default`,
      autocomplete: "off",
    });
    const remove = el(
      "button",
      { type: "button", className: "button danger", "aria-label": `Remove variable ${index + 1}` },
      "Remove",
    );
    name.addEventListener("input", () => {
      definition.name = name.value.trim();
      name.setAttribute("aria-invalid", String(!NAME_PATTERN.test(definition.name)));
      changed();
    });
    type.addEventListener("change", () => {
      definition.type = type.value;
      changed();
    });
    fallback.addEventListener("input", () => {
      definition.defaultValue = fallback.value;
      changed();
    });
    remove.addEventListener("click", () => {
      definitions = definitions.filter((d) => d !== definition);
      renderDefinitions();
      changed();
      addButton.focus(); // the removed row's button is gone: keep the focus nearby
    });
    return el(
      "tr",
      {},
      el("td", {}, name),
      el("td", {}, type),
      el("td", {}, fallback),
      el("td", {}, remove),
    );
  }

  function valueInput(definition, id) {
    const held = values.get(definition.name);
    const fallback = defaultOf(definition);
    const props = { id, name: definition.name, autocomplete: "off" };
    if (definition.type === "boolean") {
      const checked = held ?? typedValue("boolean", fallback) ?? false;
      return el("input", { ...props, type: "checkbox", checked: Boolean(checked) });
    }
    if (definition.type === "color") {
      // A colour input always holds a colour: it starts at the default (#rrggbb only).
      const start = inputColour(held ?? fallback) ?? "#000000";
      return el("input", { ...props, type: "color", value: start });
    }
    const type = { number: "number", image: "url" }[definition.type] || "text";
    return el("input", {
      ...props,
      type,
      value: held ?? "",
      placeholder: fallback === "" ? "" : String(fallback),
      step: type === "number" ? "any" : undefined,
    });
  }

  function renderValues() {
    const named = definitions.filter((d) => NAME_PATTERN.test(d.name || ""));
    if (!named.length) {
      valueFields.replaceChildren(el("p", { className: "muted" }, "No variables declared."));
      return;
    }
    valueFields.replaceChildren(
      ...named.map((definition) => {
        const input = valueInput(definition, uniqueId("variable-value"));
        const read = () =>
          values.set(definition.name, input.type === "checkbox" ? input.checked : input.value);
        // A colour input cannot be empty: with no usable default it shows black, and what it
        // shows is sent. Otherwise it shows the default and sends nothing until changed, so
        // editing the default moves it too.
        if (definition.type === "color" && !inputColour(defaultOf(definition))) read();
        input.addEventListener("input", () => {
          read();
          onChange();
        });
        input.addEventListener("change", read);
        const label = el(
          "label",
          { for: input.id },
          definition.name,
          el("span", { className: "muted" }, ` (${definition.type || "text"})`),
        );
        return el("div", { className: `field value-${definition.type || "text"}` }, label, input);
      }),
    );
  }

  function renderDefinitions() {
    definitionRows.replaceChildren(...definitions.map(definitionRow));
    renderValues();
  }

  function changed() {
    renderValues();
    onChange();
  }

  addButton.addEventListener("click", () => {
    definitions.push({ name: "", type: "text", defaultValue: "" });
    renderDefinitions();
    definitionRows.lastElementChild?.querySelector("input")?.focus();
    onChange();
  });

  renderDefinitions();

  return {
    definitionsSection,
    valuesSection,
    // Pictify's variableDefinitions; rows without a usable name are left out (the name
    // field is marked invalid meanwhile).
    definitions() {
      return definitions
        .filter((d) => NAME_PATTERN.test(d.name || ""))
        .map(({ default: _pixhavenDefault, required: _required, ...d }) => {
          const definition = { ...d, type: d.type || "text" };
          const fallback = typedValue(definition.type, d.defaultValue);
          if (fallback === undefined) delete definition.defaultValue;
          else definition.defaultValue = fallback;
          return definition;
        });
    },
    // name: typed value, for the names that have one (the others take their default).
    values() {
      const given = {};
      for (const definition of this.definitions()) {
        const value = typedValue(definition.type, values.get(definition.name));
        if (value !== undefined) given[definition.name] = value;
      }
      return given;
    },
  };
}
