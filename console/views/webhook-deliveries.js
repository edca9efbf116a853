// One webhook subscription's deliveries (GET /webhook-subscriptions/{uid}/deliveries),
// newest first: status, event, attempts, the last response code or error, and the exact
// payload every attempt sent, folded in a <details>.

import { formatDate, el } from "./dom.js";

const PAGE_SIZE = 20;

function deliveryRow(delivery) {
  const payload = el(
    "details",
    {},
    el("summary", {}, "Payload"),
    el("pre", { className: "payload" }, JSON.stringify(delivery.payload, null, 2)),
  );
  const outcome = delivery.responseCode ? `HTTP ${delivery.responseCode}` : "—";
  return el(
    "tr",
    {},
    el("td", {}, el("span", { className: `badge badge-${delivery.status}` }, delivery.status)),
    el("td", {}, delivery.event),
    el("td", { className: "number" }, String(delivery.attempts)),
    el("td", {}, outcome, delivery.error ? el("div", { className: "muted" }, delivery.error) : ""),
    el(
      "td",
      {},
      formatDate(delivery.createdAt),
      delivery.nextRetry
        ? el("div", { className: "muted" }, `next try ${formatDate(delivery.nextRetry)}`)
        : "",
    ),
    el("td", {}, payload),
  );
}

// Shows the deliveries of `subscription` in `container` (replacing what it held).
export async function showDeliveries(container, api, subscription) {
  const rows = el("tbody");
  const status = el("p", { className: "muted", role: "status" }, "Loading…");
  const statusFilter = el(
    "select",
    { id: "delivery-status" },
    el("option", { value: "" }, "all"),
    ["pending", "delivered", "failed"].map((s) => el("option", { value: s }, s)),
  );
  const heading = el(
    "h2",
    { id: "deliveries-title", tabindex: "-1" },
    `Deliveries to ${subscription.targetUrl}`,
  );
  container.replaceChildren(
    el(
      "section",
      { className: "card", "aria-labelledby": "deliveries-title" },
      heading,
      el(
        "div",
        { className: "field inline" },
        el("label", { for: statusFilter.id }, "Status"),
        statusFilter,
      ),
      el(
        "div",
        { className: "table-wrap" },
        el(
          "table",
          {},
          el("caption", { className: "visually-hidden" }, "Deliveries, newest first"),
          el(
            "thead",
            {},
            el(
              "tr",
              {},
              ["Status", "Event", "Attempts", "Response", "Created", "Payload"].map((n) =>
                el("th", { scope: "col" }, n),
              ),
            ),
          ),
          rows,
        ),
      ),
      status,
    ),
  );
  heading.focus(); // the reader moves to what the button opened

  async function load() {
    const query = new URLSearchParams({ limit: PAGE_SIZE });
    if (statusFilter.value) query.set("status", statusFilter.value);
    try {
      const answer = await api(
        `/webhook-subscriptions/${encodeURIComponent(subscription.uid)}/deliveries?${query}`,
      );
      rows.replaceChildren(...answer.deliveries.map(deliveryRow));
      const total = answer.pagination?.total ?? answer.deliveries.length;
      status.textContent = total
        ? `${total} deliver${total === 1 ? "y" : "ies"}; the newest ${answer.deliveries.length} shown.`
        : "Nothing delivered yet.";
    } catch (error) {
      status.textContent = `Could not list the deliveries: ${error.message}`;
    }
  }
  statusFilter.addEventListener("change", load);
  await load();
}
