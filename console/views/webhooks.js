// Pictify webhook subscriptions (#/webhooks): list them, create one (its signing secret is
// answered once, by the create, so it is shown then with a copy button), pause and resume,
// delete after a confirmation, and a subscription's deliveries (webhook-deliveries.js).

import { confirmDialog } from "./confirm-dialog.js";
import { errorList, formatDate, h, labelled, newIdempotencyKey } from "./dom.js";
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
  const targetUrl = h("input", {
    type: "url",
    id: "webhook-url",
    required: true,
    placeholder: "https://example.com/hooks/pixhaven",
    autocomplete: "off",
  });
  const description = h("input", { type: "text", id: "webhook-description", maxlength: "500" });
  const eventChecks = EVENTS.map((event) => {
    const box = h("input", {
      type: "checkbox",
      name: "events",
      value: event,
      id: `webhook-event-${event.replace(".", "-")}`,
    });
    return h("label", { for: box.id }, box, event);
  });
  const createError = h("div", { role: "alert" });
  const secret = h("input", {
    type: "text",
    id: "webhook-secret",
    className: "secret",
    readonly: true,
  });
  const created = h(
    "div",
    { hidden: true, className: "created-secret" },
    h("h3", {}, "Subscription created: copy its secret now"),
    h(
      "p",
      {},
      "Deliveries are signed with this secret (X-Pictify-Signature). It is not shown again.",
    ),
    labelled("Signing secret", secret),
    h(
      "div",
      { className: "actions" },
      h(
        "button",
        { type: "button", className: "button primary", id: "copy-secret" },
        "Copy secret",
      ),
      h("button", { type: "button", className: "button", id: "hide-secret" }, "Done"),
    ),
  );
  const form = h(
    "form",
    { novalidate: true },
    labelled(
      "Target URL",
      targetUrl,
      "A public http(s) address; private and loopback ones are refused.",
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Events (none ticked: every event)"),
      h("div", { className: "checks" }, eventChecks),
    ),
    labelled("Description", description),
    createError,
    h("button", { type: "submit", className: "button primary" }, "Create subscription"),
  );
  const rows = h("tbody");
  const listStatus = h("p", { className: "muted", role: "status" });
  const deliveries = h("div", { className: "deliveries" });

  root.append(
    h("h1", {}, "Webhooks"),
    h(
      "section",
      { className: "card", "aria-labelledby": "webhook-create-title" },
      h("h2", { id: "webhook-create-title" }, "New subscription"),
      form,
      created,
    ),
    h(
      "section",
      { className: "card", "aria-labelledby": "webhook-list-title" },
      h("h2", { id: "webhook-list-title", tabindex: "-1" }, "Subscriptions"),
      h(
        "div",
        { className: "table-wrap" },
        h(
          "table",
          {},
          h("caption", { className: "visually-hidden" }, "Webhook subscriptions"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Target", "Events", "Status", "Delivered", "Failed", "Created"].map((n) =>
                h("th", { scope: "col" }, n),
              ),
              h("th", { scope: "col" }, h("span", { className: "visually-hidden" }, "Actions")),
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
    const button = h(
      "button",
      { type: "button", className, "aria-label": `${label}: ${subscription.targetUrl}` },
      label,
    );
    button.addEventListener("click", () => handler(subscription, button));
    return button;
  }

  function row(subscription) {
    const paused = subscription.status !== "active";
    return h(
      "tr",
      {},
      h(
        "th",
        { scope: "row" },
        h("code", {}, subscription.targetUrl),
        subscription.description
          ? h("div", { className: "muted description" }, subscription.description)
          : "",
      ),
      h(
        "td",
        {},
        subscription.events.length === EVENTS.length
          ? "all events"
          : subscription.events.join(", "),
      ),
      h(
        "td",
        {},
        h("span", { className: `badge badge-${subscription.status}` }, subscription.status),
      ),
      h("td", { className: "number" }, String(subscription.deliveryCount ?? 0)),
      h("td", { className: "number" }, String(subscription.failureCount ?? 0)),
      h("td", {}, formatDate(subscription.createdAt)),
      h(
        "td",
        {},
        h(
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
