// Usage and cost over a period, from GET /api/analytics/usage and /api/analytics/costs:
// totals, a bar chart per day for each (inline SVG drawn here), and the same numbers as
// tables, which are also what a screen reader reads instead of the charts.

const PERIODS = [7, 30, 90];
const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 720;
const HEIGHT = 200;
const PAD = { top: 12, right: 8, bottom: 28, left: 56 };

function svgElement(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

// A bar per day: `values` are numbers in `days`' order; `format` labels the axis.
function barChart({ title, days, values, format, barClass }) {
  const svg = svgElement("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: "img",
    "aria-label": title,
  });
  const max = Math.max(...values, 0);
  const top = max > 0 ? max : 1;
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const step = plotWidth / Math.max(values.length, 1);
  const labelled = new Set();
  for (const fraction of [0, 1, 0.5]) {
    const y = PAD.top + plotHeight * (1 - fraction);
    svg.append(svgElement("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y, y2: y, class: "axis" }));
    // A middle label that rounds to an end's (counts up to 1) would only mislead.
    const text = format(top * fraction);
    if (labelled.has(text)) continue;
    labelled.add(text);
    const label = svgElement("text", { x: PAD.left - 6, y: y + 4, "text-anchor": "end" });
    label.textContent = text;
    svg.append(label);
  }
  values.forEach((value, index) => {
    const height = (value / top) * plotHeight;
    const bar = svgElement("rect", {
      x: PAD.left + index * step + step * 0.15,
      y: PAD.top + plotHeight - height,
      width: Math.max(step * 0.7, 1),
      height,
      class: barClass,
    });
    const tip = svgElement("title", {});
    tip.textContent = `${days[index]}: ${format(value)}`;
    bar.append(tip);
    svg.append(bar);
  });
  for (const index of [0, values.length - 1]) {
    if (index < 0 || !days[index]) continue;
    const label = svgElement("text", {
      x: PAD.left + index * step + step / 2,
      y: HEIGHT - 8,
      "text-anchor": index === 0 ? "start" : "end",
    });
    label.textContent = days[index];
    svg.append(label);
  }
  return svg;
}

function table(caption, headings, rows) {
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  const element = document.createElement("table");
  const captionElement = element.createCaption();
  captionElement.textContent = caption;
  const head = element.createTHead().insertRow();
  headings.forEach(([text, numeric]) => {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = text;
    if (numeric) th.className = "number";
    head.append(th);
  });
  const body = element.createTBody();
  for (const cells of rows) {
    const tr = body.insertRow();
    cells.forEach((value, index) => {
      const td = tr.insertCell();
      td.textContent = value;
      if (headings[index][1]) td.className = "number";
    });
  }
  wrap.append(element);
  return wrap;
}

const count = (n) => Math.round(n).toLocaleString();
const usd = (n) => `$${n.toFixed(n > 0 && n < 0.01 ? 6 : 2)}`;

function chartCard(id, heading, chart, details) {
  const section = document.createElement("section");
  section.className = "card chart";
  section.setAttribute("aria-labelledby", id);
  const title = document.createElement("h2");
  title.id = id;
  title.textContent = heading;
  const disclosure = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = "Show the numbers as a table";
  disclosure.append(summary, details);
  section.append(title, chart, disclosure);
  return section;
}

export async function mount(root, { api }) {
  root.innerHTML = `
    <h1>Usage and cost</h1>
    <form class="card" id="period-form">
      <label for="period">Period</label>
      <select id="period" name="days"></select>
    </form>
    <p id="usage-status" class="muted" role="status"></p>
    <div id="usage-report"></div>`;
  const select = root.querySelector("#period");
  for (const days of PERIODS) {
    const option = new Option(`Last ${days} days`, String(days), days === 30, days === 30);
    select.append(option);
  }
  const status = root.querySelector("#usage-status");
  const report = root.querySelector("#usage-report");
  let aborter = null;

  async function load() {
    aborter?.abort();
    aborter = new AbortController();
    const signal = aborter.signal;
    const days = select.value;
    status.textContent = "Loading…";
    try {
      const [usage, costs] = await Promise.all([
        api(`/api/analytics/usage?days=${days}`, { signal }),
        api(`/api/analytics/costs?days=${days}`, { signal }),
      ]);
      render(usage, costs);
      status.textContent = `${usage.period.days} days, ${usage.period.start.slice(0, 10)} to ${usage.period.end.slice(0, 10)}.`;
    } catch (error) {
      if (error.name === "AbortError") return;
      report.replaceChildren();
      status.textContent = `The analytics could not be loaded: ${error.message}`;
    }
  }

  function render(usage, costs) {
    const totals = document.createElement("dl");
    totals.className = "totals card";
    for (const [term, value] of [
      ["Requests", count(usage.totals.count)],
      ["AI generations", count(usage.totals.generations)],
      [`Cost (${costs.currency})`, usd(costs.total_cost)],
    ]) {
      const item = document.createElement("div");
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      item.append(dt, dd);
      totals.append(item);
    }
    const usageDays = usage.by_day.map((d) => d.date);
    const costDays = costs.by_day.map((d) => d.date);
    const usageChart = barChart({
      title: `Requests per day, ${usageDays[0]} to ${usageDays.at(-1)}: ${count(usage.totals.count)} in all`,
      days: usageDays,
      values: usage.by_day.map((d) => d.count),
      format: count,
      barClass: "bar-1",
    });
    const costChart = barChart({
      title: `Cost per day in ${costs.currency}, ${costDays[0]} to ${costDays.at(-1)}: ${usd(costs.total_cost)} in all`,
      days: costDays,
      values: costs.by_day.map((d) => d.cost),
      format: usd,
      barClass: "bar-2",
    });
    const usageTable = table(
      "Requests per day",
      [["Date"], ["Requests", true], ["AI generations", true]],
      usage.by_day.map((d) => [d.date, count(d.count), count(d.generations)]),
    );
    const costTable = table(
      `Cost per day (${costs.currency})`,
      [["Date"], ["Requests", true], ["Cost", true]],
      costs.by_day.map((d) => [d.date, count(d.count), usd(d.cost)]),
    );
    const models = table(
      "Cost by model",
      [["Model"], ["Requests", true], ["Cost", true], ["Average", true]],
      costs.by_model.map((m) => [m.model, count(m.count), usd(m.cost), usd(m.average_cost)]),
    );
    const modelSection = document.createElement("section");
    modelSection.className = "card";
    modelSection.setAttribute("aria-labelledby", "models-title");
    modelSection.innerHTML = `<h2 id="models-title">By model</h2>`;
    if (costs.by_model.length) modelSection.append(models);
    else modelSection.insertAdjacentHTML("beforeend", `<p class="muted">No model was used in this period.</p>`);
    report.replaceChildren(
      totals,
      chartCard("usage-chart-title", "Requests per day", usageChart, usageTable),
      chartCard("cost-chart-title", "Cost per day", costChart, costTable),
      modelSection,
    );
  }

  select.addEventListener("change", load);
  root.querySelector("#period-form").addEventListener("submit", (event) => event.preventDefault());
  await load();
  return () => aborter?.abort();
}
