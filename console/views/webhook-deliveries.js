// One webhook subscription's deliveries (GET /webhook-subscriptions/{uid}/deliveries),
// newest first: status, event, attempts, the last response code or error, and the exact
// payload every attempt sent, folded in a <details>.

import { formatDate, h } from "./dom.js";

const PAGE_SIZE = 20;

function deliveryRow(delivery) {
  const payload = h(
    "details",
    {},
    h("summary", {}, "Payload"),
    h("pre", { className: "payload" }, JSON.stringify(delivery.payload, null, 2)),
  );
  const outcome = delivery.responseCode ? `HTTP ${delivery.responseCode}` : "—";
  return h(
    "tr",
    {},
    h("td", {}, h("span", { className: `badge badge-${delivery.status}` }, delivery.status)),
    h("td", {}, delivery.event),
    h("td", { className: "number" }, String(delivery.attempts)),
    h("td", {}, outcome, delivery.error ? h("div", { className: "muted" }, delivery.error) : ""),
    h(
      "td",
      {},
      formatDate(delivery.createdAt),
      delivery.nextRetry
        ? h("div", { className: "muted" }, `next try ${formatDate(delivery.nextRetry)}`)
        : "",
    ),
    h("td", {}, payload),
  );
}

// Shows the deliveries of `subscription` in `container` (replacing what it held).
export async function showDeliveries(container, api, subscription) {
  const rows = h("tbody");
  const status = h("p", { className: "muted", role: "status" }, "Loading…");
  const statusFilter = h(
    "select",
    { id: "delivery-status" },
    h("option", { value: "" }, "all"),
    ["pending", "delivered", "failed"].map((s) => h("option", { value: s }, s)),
  );
  const heading = h(
    "h2",
    { id: "deliveries-title", tabindex: "-1" },
    `Deliveries to ${subscription.targetUrl}`,
  );
  container.replaceChildren(
    h(
      "section",
      { className: "card", "aria-labelledby": "deliveries-title" },
      heading,
      h(
        "div",
        { className: "field inline" },
        h("label", { for: statusFilter.id }, "Status"),
        statusFilter,
      ),
      h(
        "div",
        { className: "table-wrap" },
        h(
          "table",
          {},
          h("caption", { className: "visually-hidden" }, "Deliveries, newest first"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Status", "Event", "Attempts", "Response", "Created", "Payload"].map((n) =>
                h("th", { scope: "col" }, n),
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
