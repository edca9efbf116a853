// Rendering a saved template: once with the editor's current values (the stored image's URL
// and the image), and as a batch: a table of variable sets (rows added by hand or pasted as
// CSV or JSON lines), POST batch-render, a progress bar polled from the batch's results,
// then every item's link. Renders use the saved template, not unsaved edits.

import { errorList, el, labelledField, newIdempotencyKey } from "./dom.js";
import { createBatchTable } from "./template-batch-table.js";

const POLL_MS = 1500; // Pictify's rate limit counts each poll; a person needs no faster bar
const FINISHED = new Set(["completed", "partial", "failed", "cancelled"]);
const RENDER_FORMATS = ["png", "jpeg", "webp"];

function formatSelect(id) {
  const select = el(
    "select",
    { id },
    RENDER_FORMATS.map((f) => el("option", { value: f }, f)),
  );
  return select;
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

export function mountRenderTools(container, { api, toast }, template, currentValues) {
  const lifetime = new AbortController(); // aborted when the editor goes away: stops polling
  const base = `/templates/${encodeURIComponent(template.uid)}`;

  // -- render once ---------------------------------------------------------------------
  const renderFormat = formatSelect("render-format");
  const renderButton = el("button", { type: "button", className: "button primary" }, "Render");
  const renderResult = el("div", { className: "render-result", role: "status" });
  renderButton.addEventListener("click", async () => {
    renderButton.disabled = true;
    renderResult.replaceChildren(el("p", { className: "muted" }, "Rendering…"));
    try {
      const answer = await api(`${base}/render`, {
        json: { variables: currentValues(), format: renderFormat.value },
        headers: { "Idempotency-Key": newIdempotencyKey() },
      });
      renderResult.replaceChildren(
        el("p", {}, "Rendered: ", el("a", { href: answer.url, className: "render-url" }, answer.url)),
        el("img", { src: answer.url, alt: `Render of ${template.name}`, className: "render-image" }),
      );
    } catch (error) {
      renderResult.replaceChildren(errorList(error));
    } finally {
      renderButton.disabled = false;
    }
  });

  // -- batch ---------------------------------------------------------------------------
  const table = createBatchTable(template.variableDefinitions || []);
  const batchFormat = formatSelect("batch-format");
  const startBatch = el("button", { type: "button", className: "button primary" }, "Render batch");
  const cancelBatch = el(
    "button",
    { type: "button", className: "button danger", hidden: true },
    "Cancel batch",
  );
  const progress = el("progress", { id: "batch-progress", max: "100", value: "0" });
  const progressText = el("p", { id: "batch-status", role: "status" });
  const progressArea = el(
    "div",
    { className: "batch-progress", hidden: true },
    el("label", { for: progress.id }, "Batch progress"),
    progress,
    progressText,
  );
  const batchResults = el("div", { className: "batch-results" });
  const batchError = el("div", { role: "alert" });
  let batchId = null;

  function showProgress(batch) {
    progress.value = batch.progress ?? 0;
    progressText.textContent = `${batch.status}: ${batch.completedItems ?? 0} of ${batch.totalItems ?? "?"} done, ${batch.failedItems ?? 0} failed.`;
    progressArea.dataset.status = batch.status;
  }

  async function pollUntilFinished(id) {
    while (!lifetime.signal.aborted) {
      try {
        const batch = await api(`/templates/batch/${encodeURIComponent(id)}/results?limit=1`, {
          signal: lifetime.signal,
        });
        showProgress(batch);
        if (FINISHED.has(batch.status)) return batch;
      } catch (error) {
        if (error.name === "AbortError") return null;
        // A 429 (rate limit) or a blip: keep polling, a little slower, and say so.
        progressText.textContent = `Still waiting (${error.message}).`;
        await sleep(POLL_MS, lifetime.signal);
      }
      await sleep(POLL_MS, lifetime.signal);
    }
    return null;
  }

  async function listResults(id) {
    const answer = await api(`/templates/batch/${encodeURIComponent(id)}/results?limit=100`, {
      signal: lifetime.signal,
    });
    batchResults.replaceChildren(
      el("h4", {}, "Results"),
      el(
        "ol",
        { className: "batch-result-list" },
        answer.results.map((item) =>
          el(
            "li",
            {},
            item.url
              ? el("a", { href: item.url }, `Item ${item.index + 1}: ${item.url}`)
              : `Item ${item.index + 1}: ${item.status}${item.error ? ` (${item.error})` : ""}`,
          ),
        ),
      ),
    );
  }

  startBatch.addEventListener("click", async () => {
    batchError.replaceChildren();
    const variableSets = table.variableSets();
    if (!variableSets.length) {
      batchError.replaceChildren(
        el("p", { className: "error" }, "Add at least one row of values first."),
      );
      return;
    }
    startBatch.disabled = true;
    batchResults.replaceChildren();
    try {
      const batch = await api(`${base}/batch-render`, {
        json: { variableSets, format: batchFormat.value },
        headers: { "Idempotency-Key": newIdempotencyKey() },
      });
      batchId = batch.batchId || batch.id;
      progressArea.hidden = false;
      cancelBatch.hidden = false;
      showProgress(batch);
      const finished = await pollUntilFinished(batchId);
      if (finished) {
        toast(`Batch ${finished.status}.`, finished.status === "completed" ? "success" : "info");
        await listResults(batchId);
      }
    } catch (error) {
      if (error.name !== "AbortError") batchError.replaceChildren(errorList(error));
    } finally {
      startBatch.disabled = false;
      cancelBatch.hidden = true;
    }
  });

  cancelBatch.addEventListener("click", async () => {
    try {
      showProgress(
        await api(`/templates/batch/${encodeURIComponent(batchId)}/cancel`, { method: "POST" }),
      );
    } catch (error) {
      toast(`Not cancelled: ${error.message}`, "error");
    }
  });

  container.append(
    el(
      "section",
      { className: "card", "aria-labelledby": "render-title" },
      el("h2", { id: "render-title" }, "Render"),
      el(
        "p",
        { className: "muted" },
        "Renders use the saved template with the values above; save first to render your edits.",
      ),
      el("div", { className: "field-row" }, labelledField("Format", renderFormat), renderButton),
      renderResult,
    ),
    el(
      "section",
      { className: "card", "aria-labelledby": "batch-title" },
      el("h2", { id: "batch-title" }, "Batch render"),
      table.element,
      el(
        "div",
        { className: "field-row" },
        labelledField("Format", batchFormat),
        startBatch,
        cancelBatch,
      ),
      batchError,
      progressArea,
      batchResults,
    ),
  );

  return { dispose: () => lifetime.abort() };
}
