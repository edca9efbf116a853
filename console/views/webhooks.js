// Pictify webhook subscriptions (#/webhooks): list them, create one (its signing secret is
// answered once, by the create, so it is shown then with a copy button), pause and resume,
// delete after a confirmation, and a subscription's deliveries (webhook-deliveries.js).

import { confirmDialog } from "./form-dialog.js";
import { errorList, formatDate, el, labelledField, newIdempotencyKey } from "./dom.js";
import { showDeliveries } from "./webhook-deliveries.js";

const EVENTS = [
  "render.completed",
  "render.failed",
  "batch.completed",
  "batch.failed",
  "batch.cancelled",
  "binding.updated",
  "binding.failed",
];

export async function mount(root, { api, toast }) {
  const targetUrl = el("input", {
    type: "url",
    id: "webhook-url",
    required: true,
    placeholder: "https://example.com/hooks/pixhaven",
    autocomplete: "off",
  });
  const description = el("input", { type: "text", id: "webhook-description", maxlength: "500" });
  const eventChecks = EVENTS.map((event) => {
    const box = el("input", {
      type: "checkbox",
      name: "events",
      value: event,
      id: `webhook-event-${event.replace(".", "-")}`,
    });
    return el("label", { for: box.id }, box, event);
  });
  const createError = el("div", { role: "alert" });
  const secret = el("input", {
    type: "text",
    id: "webhook-secret",
    className: "secret",
    readonly: true,
  });
  const created = el(
    "div",
    { hidden: true, className: "created-secret" },
    el("h3", {}, "Subscription created: copy its secret now"),
    el(
      "p",
      {},
      "Deliveries are signed with this secret (X-Pictify-Signature). It is not shown again.",
    ),
    labelledField("Signing secret", secret),
    el(
      "div",
      { className: "actions" },
      el(
        "button",
        { type: "button", className: "button primary", id: "copy-secret" },
        "Copy secret",
      ),
      el("button", { type: "button", className: "button", id: "hide-secret" }, "Done"),
    ),
  );
  const form = el(
    "form",
    { novalidate: true },
    labelledField(
      "Target URL",
      targetUrl,
      "A public http(s) address; private and loopback ones are refused.",
    ),
    el(
      "fieldset",
      {},
      el("legend", {}, "Events (none ticked: every event)"),
      el("div", { className: "checks" }, eventChecks),
    ),
    labelledField("Description", description),
    createError,
    el("button", { type: "submit", className: "button primary" }, "Create subscription"),
  );
  const rows = el("tbody");
  const listStatus = el("p", { className: "muted", role: "status" });
  const deliveries = el("div", { className: "deliveries" });

  root.append(
    el("h1", {}, "Webhooks"),
    el(
      "section",
      { className: "card", "aria-labelledby": "webhook-create-title" },
      el("h2", { id: "webhook-create-title" }, "New subscription"),
      form,
      created,
    ),
    el(
      "section",
      { className: "card", "aria-labelledby": "webhook-list-title" },
      el("h2", { id: "webhook-list-title", tabindex: "-1" }, "Subscriptions"),
      el(
        "div",
        { className: "table-wrap" },
        el(
          "table",
          {},
          el("caption", { className: "visually-hidden" }, "Webhook subscriptions"),
          el(
            "thead",
            {},
            el(
              "tr",
              {},
              ["Target", "Events", "Status", "Delivered", "Failed", "Created"].map((n) =>
                el("th", { scope: "col" }, n),
              ),
              el("th", { scope: "col" }, el("span", { className: "visually-hidden" }, "Actions")),
            ),
          ),
          rows,
        ),
      ),
      listStatus,
    ),
    deliveries,
  );

  function actionButton(label, subscription, handler, className = "button") {
    const button = el(
      "button",
      { type: "button", className, "aria-label": `${label}: ${subscription.targetUrl}` },
      label,
    );
    button.addEventListener("click", () => handler(subscription, button));
    return button;
  }

  function row(subscription) {
    const paused = subscription.status !== "active";
    return el(
      "tr",
      {},
      el(
        "th",
        { scope: "row" },
        el("code", {}, subscription.targetUrl),
        subscription.description
          ? el("div", { className: "muted description" }, subscription.description)
          : "",
      ),
      el(
        "td",
        {},
        subscription.events.length === EVENTS.length
          ? "all events"
          : subscription.events.join(", "),
      ),
      el(
        "td",
        {},
        el("span", { className: `badge badge-${subscription.status}` }, subscription.status),
      ),
      el("td", { className: "number" }, String(subscription.deliveryCount ?? 0)),
      el("td", { className: "number" }, String(subscription.failureCount ?? 0)),
      el("td", {}, formatDate(subscription.createdAt)),
      el(
        "td",
        {},
        el(
          "div",
          { className: "row-actions" },
          actionButton(paused ? "Resume" : "Pause", subscription, setPaused),
          actionButton("Deliveries", subscription, (s) => showDeliveries(deliveries, api, s)),
          actionButton("Delete", subscription, remove, "button danger"),
        ),
      ),
    );
  }

  async function setPaused(subscription) {
    const action = subscription.status === "active" ? "pause" : "resume";
    try {
      await api(`/webhook-subscriptions/${encodeURIComponent(subscription.uid)}/${action}`, {
        method: "POST",
      });
      toast(action === "pause" ? "Subscription paused." : "Subscription resumed.", "success");
      await load();
      rows.querySelector(`[data-uid="${CSS.escape(subscription.uid)}"] button`)?.focus();
    } catch (error) {
      toast(`Could not ${action}: ${error.message}`, "error");
    }
  }

  async function remove(subscription) {
    const confirmed = await confirmDialog({
      title: "Delete this subscription?",
      text: `Nothing more is sent to ${subscription.targetUrl}.`,
      confirmLabel: "Delete subscription",
    });
    if (!confirmed) return;
    try {
      await api(`/webhook-subscriptions/${encodeURIComponent(subscription.uid)}`, {
        method: "DELETE",
      });
      toast("Subscription deleted.", "success");
      deliveries.replaceChildren();
      await load();
      // The focused Delete button went with its row: keep the keyboard in the list.
      root.querySelector("#webhook-list-title").focus();
    } catch (error) {
      toast(`Not deleted: ${error.message}`, "error");
    }
  }

  async function load() {
    try {
      const answer = await api("/webhook-subscriptions?limit=100");
      rows.replaceChildren(
        ...answer.subscriptions.map((s) => {
          const tr = row(s);
          tr.dataset.uid = s.uid;
          return tr;
        }),
      );
      listStatus.textContent = answer.subscriptions.length ? "" : "No subscriptions yet.";
    } catch (error) {
      listStatus.textContent = `Could not list the subscriptions: ${error.message}`;
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    createError.replaceChildren();
    const events = eventChecks
      .map((label) => label.querySelector("input"))
      .filter((box) => box.checked)
      .map((box) => box.value);
    const body = { url: targetUrl.value.trim() };
    if (events.length) body.events = events;
    if (description.value.trim()) body.description = description.value.trim();
    try {
      const answer = await api("/webhook-subscriptions", {
        json: body,
        headers: { "Idempotency-Key": newIdempotencyKey() },
      });
      form.reset();
      secret.value = answer.subscription.secret;
      created.hidden = false;
      secret.focus();
      secret.select();
      await load();
    } catch (error) {
      createError.replaceChildren(errorList(error));
      targetUrl.focus();
    }
  });
  created.querySelector("#copy-secret").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(secret.value);
      toast("Secret copied.", "success");
    } catch {
      secret.select(); // no clipboard permission: leave it selected for Ctrl+C
      toast("Copy it from the selected field (Ctrl+C).", "error");
    }
  });
  created.querySelector("#hide-secret").addEventListener("click", () => {
    secret.value = ""; // gone from the page, as the API will not show it again
    created.hidden = true;
    targetUrl.focus();
  });

  await load();
}
