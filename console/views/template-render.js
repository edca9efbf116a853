// Rendering a saved template: once with the editor's current values (the stored image's URL
// and the image), and as a batch: a table of variable sets (rows added by hand or pasted as
// CSV or JSON lines), POST batch-render, a progress bar polled from the batch's results,
// then every item's link. Renders use the saved template, not unsaved edits.

import { errorList, h, labelled, newIdempotencyKey } from "./dom.js";
import { createBatchTable } from "./template-batch-table.js";

const POLL_MS = 1500; // Pictify's rate limit counts each poll; a person needs no faster bar
const FINISHED = new Set(["completed", "partial", "failed", "cancelled"]);
const RENDER_FORMATS = ["png", "jpeg", "webp"];

function formatSelect(id) {
  const select = h(
    "select",
    { id },
    RENDER_FORMATS.map((f) => h("option", { value: f }, f)),
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
  const renderButton = h("button", { type: "button", className: "button primary" }, "Render");
  const renderResult = h("div", { className: "render-result", role: "status" });
  renderButton.addEventListener("click", async () => {
    renderButton.disabled = true;
    renderResult.replaceChildren(h("p", { className: "muted" }, "Rendering…"));
    try {
      const answer = await api(`${base}/render`, {
        json: { variables: currentValues(), format: renderFormat.value },
        headers: { "Idempotency-Key": newIdempotencyKey() },
      });
      renderResult.replaceChildren(
        h("p", {}, "Rendered: ", h("a", { href: answer.url, className: "render-url" }, answer.url)),
        h("img", { src: answer.url, alt: `Render of ${template.name}`, className: "render-image" }),
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
  const startBatch = h("button", { type: "button", className: "button primary" }, "Render batch");
  const cancelBatch = h(
    "button",
    { type: "button", className: "button danger", hidden: true },
    "Cancel batch",
  );
  const progress = h("progress", { id: "batch-progress", max: "100", value: "0" });
  const progressText = h("p", { id: "batch-status", role: "status" });
  const progressArea = h(
    "div",
    { className: "batch-progress", hidden: true },
    h("label", { for: progress.id }, "Batch progress"),
    progress,
    progressText,
  );
  const batchResults = h("div", { className: "batch-results" });
  const batchError = h("div", { role: "alert" });
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
      h("h4", {}, "Results"),
      h(
        "ol",
        { className: "batch-result-list" },
        answer.results.map((item) =>
          h(
            "li",
            {},
            item.url
              ? h("a", { href: item.url }, `Item ${item.index + 1}: ${item.url}`)
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
        h("p", { className: "error" }, "Add at least one row of values first."),
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
    h(
      "section",
      { className: "card", "aria-labelledby": "render-title" },
      h("h2", { id: "render-title" }, "Render"),
      h(
        "p",
        { className: "muted" },
        "Renders use the saved template with the values above; save first to render your edits.",
      ),
      h("div", { className: "field-row" }, labelled("Format", renderFormat), renderButton),
      renderResult,
    ),
    h(
      "section",
      { className: "card", "aria-labelledby": "batch-title" },
      h("h2", { id: "batch-title" }, "Batch render"),
      table.element,
      h(
        "div",
        { className: "field-row" },
        labelled("Format", batchFormat),
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
