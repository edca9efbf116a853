// The template editor (#/templates?uid=<uid>, or ?new=html|document|fabric): the source
// (HTML in a textarea, a component document or FabricJS canvas as JSON), its size, the
// variables and their values, a live preview of the unsaved draft, and save (POST on
// create, with an Idempotency-Key; PUT after). Saved templates also get the render tools.

import { confirmDialog } from "./form-dialog.js";
import { errorList, el, labelledField, newIdempotencyKey } from "./dom.js";
import { starterTemplate } from "./template-drafts.js";
import { createPreview, DraftError } from "./template-preview.js";
import { mountRenderTools } from "./template-render.js";
import { createVariablesEditor } from "./template-variables.js";
import { ENGINES } from "./templates.js";

// Preview formats: component documents are drawn by Pixhaven itself, so they also have SVG
// and AVIF; HTML and FabricJS go through the browser's screenshot.
const PREVIEW_FORMATS = {
  html: ["png", "jpeg", "webp"],
  fabric: ["png", "jpeg", "webp"],
  document: ["png", "jpeg", "webp", "avif", "svg"],
};
const SOURCE_FIELD = { html: "html", fabric: "fabricJSData", document: "document" };

function parseJsonSource(text, field) {
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed;
  } catch (error) {
    throw new DraftError(field, `not valid JSON: ${error.message}`);
  }
  throw new DraftError(field, "must be a JSON object");
}

function numberInput(id, value) {
  return el("input", {
    type: "number",
    id,
    min: "1",
    max: "4000",
    step: "1",
    value: String(value ?? ""),
  });
}

export async function mountEditor(root, { api, navigate, toast }, { uid, engine }) {
  let saved = null; // the template as the API last answered it
  if (uid) {
    try {
      saved = (await api(`/templates/${encodeURIComponent(uid)}`)).template;
    } catch (error) {
      root.append(
        el("h1", {}, "Template"),
        el(
          "p",
          { className: "error", role: "alert" },
          `Could not open the template: ${error.message}`,
        ),
      );
      return undefined;
    }
  }
  const template = saved || starterTemplate(ENGINES[engine] ? engine : "html");
  const kind = template.engine;
  const idempotencyKey = newIdempotencyKey(); // one per new draft: a retried save replays

  const heading = el("h1", {}, saved ? saved.name : `New ${ENGINES[kind]} template`);
  const name = el("input", {
    type: "text",
    id: "template-name",
    value: template.name || "",
    required: true,
    maxlength: "200",
  });
  const description = el("input", {
    type: "text",
    id: "template-description",
    value: template.description || "",
    maxlength: "2000",
  });
  const outputFormat = el(
    "select",
    { id: "template-output" },
    el("option", { value: "image" }, "image"),
    el("option", { value: "pdf" }, "pdf"),
  );
  outputFormat.value = template.outputFormat || "image";
  const sourceText =
    kind === "html"
      ? template.html || ""
      : JSON.stringify(kind === "fabric" ? template.fabricJSData : template.document, null, 2);
  const source = el("textarea", {
    id: "template-source",
    rows: "14",
    spellcheck: "false",
    className: "code",
    value: sourceText,
  });
  const width = numberInput("template-width", template.width);
  const height = numberInput("template-height", template.height);
  const previewFormat = el(
    "select",
    { id: "preview-format" },
    PREVIEW_FORMATS[kind].map((f) => el("option", { value: f }, f)),
  );
  const formError = el("div", { id: "template-form-error", role: "alert" });
  const save = el(
    "button",
    { type: "submit", className: "button primary" },
    saved ? "Save changes" : "Save template",
  );
  const remove = el(
    "button",
    { type: "button", className: "button danger", hidden: !saved },
    "Delete template",
  );

  const variables = createVariablesEditor(template.variableDefinitions || [], () =>
    preview.schedule(),
  );

  // The draft as POST /templates takes it (name aside); DraftError for JSON that does not parse.
  function draftBody() {
    const body = { variableDefinitions: variables.definitions() };
    if (kind === "document") {
      body.document = parseJsonSource(source.value, "document");
      return body;
    }
    body[SOURCE_FIELD[kind]] =
      kind === "html" ? source.value : parseJsonSource(source.value, "fabricJSData");
    if (width.value) body.width = Number(width.value);
    if (height.value) body.height = Number(height.value);
    return body;
  }

  const preview = createPreview(() => ({
    template: draftBody(),
    variables: variables.values(),
    format: previewFormat.value,
  }));

  const sourceLabel =
    kind === "html"
      ? "HTML ({{ expression }} placeholders)"
      : kind === "fabric"
        ? "FabricJS canvas JSON ({{name}} in text, variableBindings)"
        : "Component document JSON ({{name}} placeholders)";
  const form = el(
    "form",
    { className: "card editor-form", novalidate: true, "aria-labelledby": "template-source-title" },
    el("h2", { id: "template-source-title" }, "Template"),
    labelledField("Name", name),
    labelledField("Description", description),
    labelledField(
      sourceLabel,
      source,
      kind === "html" ? "" : "Checked as JSON before anything is sent.",
    ),
    kind === "document"
      ? ""
      : el(
          "div",
          { className: "field-row" },
          labelledField("Width (px)", width),
          labelledField("Height (px)", height),
        ),
    el(
      "div",
      { className: "field-row" },
      labelledField("Output format of renders", outputFormat),
      labelledField("Preview format", previewFormat),
    ),
    variables.definitionsSection,
    variables.valuesSection,
    formError,
    el("div", { className: "actions" }, save, remove),
  );
  const renderArea = el("div", { className: "render-area" });
  root.append(
    el("p", {}, el("a", { href: "#/templates" }, "← All templates")),
    heading,
    el("div", { className: "editor-layout" }, form, preview.element),
    renderArea,
  );

  let renderTools = null;
  function showRenderTools() {
    renderTools?.dispose();
    renderArea.replaceChildren();
    if (saved)
      renderTools = mountRenderTools(renderArea, { api, toast }, saved, () => variables.values());
  }

  // Every edit of the form re-renders the preview (the variables editor reports its own).
  form.addEventListener("input", (event) => {
    if (!event.target.closest(".variable-definitions, .variable-values")) preview.schedule();
  });
  form.addEventListener("change", (event) => {
    if (event.target === previewFormat) preview.schedule();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formError.replaceChildren();
    let body;
    try {
      body = { ...draftBody(), name: name.value.trim(), outputFormat: outputFormat.value };
      if (!body.name) throw new DraftError("name", "a template needs a name");
    } catch (error) {
      formError.replaceChildren(errorList(error));
      return;
    }
    body.description = description.value.trim() || null;
    save.disabled = true;
    try {
      const answer = saved
        ? await api(`/templates/${encodeURIComponent(saved.uid)}`, { method: "PUT", json: body })
        : await api("/templates", { json: body, headers: { "Idempotency-Key": idempotencyKey } });
      toast(`Saved “${answer.template.name}”.`, "success");
      if (!saved) {
        navigate(`#/templates?uid=${encodeURIComponent(answer.template.uid)}`);
        return;
      }
      saved = answer.template;
      heading.textContent = saved.name;
      showRenderTools();
    } catch (error) {
      formError.replaceChildren(errorList(error));
    } finally {
      save.disabled = false;
    }
  });

  remove.addEventListener("click", async () => {
    const confirmed = await confirmDialog({
      title: "Delete this template?",
      text: `“${saved.name}” is deleted for good; images it rendered stay.`,
      confirmLabel: "Delete template",
    });
    if (!confirmed) return;
    try {
      await api(`/templates/${encodeURIComponent(saved.uid)}`, { method: "DELETE" });
      toast(`Deleted “${saved.name}”.`, "success");
      navigate("#/templates");
    } catch (error) {
      toast(`Not deleted: ${error.message}`, "error");
    }
  });

  showRenderTools();
  preview.schedule();
  return () => {
    preview.dispose();
    renderTools?.dispose();
  };
}
