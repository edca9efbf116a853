// A modal confirmation built on <dialog>: showModal() traps the focus inside and Escape
// cancels it (the browser's own behaviour); the focus starts on the safe choice and goes
// back to the control that opened it.

import { el, uniqueId } from "./dom.js";

export function confirmDialog({ title, text, confirmLabel, danger = true }) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const titleId = uniqueId("confirm-title");
    const cancel = el("button", { type: "submit", value: "cancel", className: "button" }, "Cancel");
    const confirm = el(
      "button",
      { type: "submit", value: "confirm", className: danger ? "button danger" : "button primary" },
      confirmLabel,
    );
    const dialog = el(
      "dialog",
      { "aria-labelledby": titleId },
      el(
        "form",
        { method: "dialog" },
        el("h2", { id: titleId }, title),
        el("p", {}, text),
        el("div", { className: "actions" }, cancel, confirm),
      ),
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(dialog.returnValue === "confirm");
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
