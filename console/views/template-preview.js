// The editor's live preview: POST /templates/preview renders the unsaved draft and answers
// the image bytes. api.js parses JSON, so the bytes are fetched here with the same token and
// shown through a blob: URL (same origin, nothing leaves it). Renders are debounced and the
// previous request is aborted, so typing never queues a backlog of renders (Pictify's rate
// limit counts every one).

import { ApiError, getToken } from "../api.js";
import { errorList, el } from "./dom.js";

const DEBOUNCE_MS = 400;

// A mistake found before anything is sent (JSON that does not parse): shown like the API's
// own field errors.
export class DraftError extends Error {
  constructor(field, message) {
    super(message);
    this.details = { errors: [{ field, message }] };
  }
}

// POSTs `json` to `path` with the signed-in token and resolves to the answer's Blob; an
// error answer rejects with the ApiError api.js would have made of it.
export async function fetchImage(path, json, signal) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { Authorization: `Bearer ${getToken()}`, "Content-Type": "application/json" },
      body: JSON.stringify(json),
      signal,
      credentials: "same-origin",
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "NETWORK_ERROR", "The server could not be reached", {});
  }
  if (!response.ok) {
    const envelope = await response.json().catch(() => null);
    throw ApiError.fromEnvelope(response.status, envelope);
  }
  return response.blob();
}

// buildRequest() returns the body of POST /templates/preview for the draft as it is now, or
// throws a DraftError.
export function createPreview(buildRequest) {
  const status = el("p", { className: "muted", role: "status" }, "The preview appears here.");
  const image = el("img", {
    className: "preview-image",
    alt: "Preview of the template",
    hidden: true,
  });
  const errors = el("div", { className: "preview-errors", role: "alert" });
  const element = el(
    "section",
    { className: "card preview-pane", "aria-labelledby": "preview-title" },
    el("h2", { id: "preview-title" }, "Preview"),
    status,
    el("div", { className: "preview-frame" }, image),
    errors,
  );
  let timer = null;
  let inFlight = null;
  let objectUrl = null;
  let renders = 0; // how many previews were shown: lets tests and people see it changed

  function show(blob) {
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = URL.createObjectURL(blob);
    image.src = objectUrl;
    image.hidden = false;
    errors.replaceChildren();
    renders += 1;
    element.dataset.renders = String(renders);
    status.textContent = `Preview up to date (${blob.type || "image"}, ${Math.ceil(blob.size / 1024)} KB).`;
  }

  function showError(error) {
    // The errors take the image's place: an old image beside new errors would mislead.
    image.hidden = true;
    status.textContent = "The draft cannot be rendered:";
    errors.replaceChildren(errorList(error));
  }

  async function render() {
    timer = null;
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    let body;
    try {
      body = buildRequest();
    } catch (error) {
      showError(error);
      return;
    }
    status.textContent = "Rendering…";
    element.setAttribute("aria-busy", "true");
    try {
      show(await fetchImage("/templates/preview", body, controller.signal));
    } catch (error) {
      if (error.name !== "AbortError") showError(error);
    } finally {
      if (inFlight === controller) {
        inFlight = null;
        element.removeAttribute("aria-busy");
      }
    }
  }

  return {
    element,
    // Render after DEBOUNCE_MS without another change. A render still running is for a
    // draft that no longer exists: it is aborted now rather than shown late.
    schedule() {
      clearTimeout(timer);
      inFlight?.abort();
      timer = setTimeout(render, DEBOUNCE_MS);
    },
    dispose() {
      clearTimeout(timer);
      inFlight?.abort();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    },
  };
}
