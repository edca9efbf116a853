// The console's one modal dialog, a form in a <dialog>: the small edits of the tags and
// albums pages (rename a tag, create or edit an album) and every confirmation (a form with
// no fields). showModal() traps the focus inside; the first field, or else Cancel (the safe
// choice), gets the focus; Escape or Cancel closes it, and focus goes back to its opener.

import { el, labelled } from "./dom.js";

let dialogCount = 0;

// fields: [{name, label, value, hint, required, pattern}]. `submit(values)` does the work:
// it may throw (an ApiError) and the message shows in the dialog, which stays open; its
// result resolves the returned promise. Cancelled: resolves to null.
export function formDialog({ title, text, fields = [], submitLabel, danger = false, submit }) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const titleId = `form-dialog-${++dialogCount}`;
    const inputs = fields.map((field) =>
      labelled(
        field.label,
        el("input", {
          type: "text",
          name: field.name,
          value: field.value ?? "",
          required: field.required,
          pattern: field.pattern,
          autocomplete: "off",
        }),
        field.hint,
      ),
    );
    const error = el("p", { className: "error", role: "alert" });
    const confirm = el(
      "button",
      { type: "submit", className: `button ${danger ? "danger" : "primary"}` },
      submitLabel,
    );
    const cancel = el("button", { type: "button", className: "button" }, "Cancel");
    const form = el(
      "form",
      { method: "dialog", noValidate: true },
      el("h2", { id: titleId }, title),
      text ? el("p", {}, text) : null,
      inputs.map((input) => input.field),
      error,
      el("div", { className: "actions" }, confirm, cancel),
    );
    const dialog = el("dialog", { className: "form-dialog", "aria-labelledby": titleId }, form);
    let result = null;

    cancel.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(result);
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const values = Object.fromEntries(
        inputs.map(({ control }) => [control.name, control.value.trim()]),
      );
      const missing = inputs.find(({ control }) => control.required && !control.value.trim());
      if (missing) {
        error.textContent = `${missing.field.querySelector("label").textContent} is required.`;
        missing.control.focus();
        return;
      }
      confirm.disabled = true;
      error.textContent = "";
      try {
        result = (await submit(values)) ?? true;
        dialog.close();
      } catch (failure) {
        error.textContent = failure.message;
      } finally {
        confirm.disabled = false;
      }
    });

    document.body.append(dialog);
    dialog.showModal();
    (inputs[0]?.control || cancel).focus();
  });
}

// A yes/no question: resolves true when confirmed. With `submit`, the work runs inside the
// dialog (it stays open and shows the error if the work fails) and its result resolves.
export function confirmDialog({ title, text, confirmLabel, danger = true, submit = () => true }) {
  return formDialog({ title, text, submitLabel: confirmLabel, danger, submit });
}
