// How one file reaches Pixhaven (docs/CONSOLE_API.md "Upload"): small files in one
// request to CattoPic's `POST /api/upload/single`; files over `maxFileSize`, and files going
// into an album, through PixelFlare's two steps (`POST /v1/images`, then `PUT upload_url`).
// Both send the bytes with XMLHttpRequest, whose upload events are the progress bar.

import { ApiError, uploadWithProgress } from "../api.js";

// Every progress event of this page, for whoever wants to check the bars are real (the
// browser tests do): {file, loaded, total}.
window.__pixhavenUploadEvents = window.__pixhavenUploadEvents || [];

function recordProgress(file, onProgress) {
  return ({ loaded, total }) => {
    window.__pixhavenUploadEvents.push({ file: file.name, loaded, total });
    onProgress(total ? loaded / total : null);
  };
}

function failure(status, json) {
  return ApiError.fromEnvelope(status, json);
}

// The upload URL is a signature of its own (an R2 presigned PUT on Cloudflare): the bearer
// token must not go with it, and uploadWithProgress always adds it, so this PUT has its own
// small XMLHttpRequest.
function putWithoutToken(url, file, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("PUT", url);
    if (file.type) request.setRequestHeader("Content-Type", file.type);
    request.upload.addEventListener("progress", (event) => {
      onProgress({ loaded: event.loaded, total: event.lengthComputable ? event.total : null });
    });
    const abort = () => request.abort();
    const done = () => signal.removeEventListener("abort", abort);
    request.addEventListener("load", () => {
      done();
      let json = null;
      try {
        json = request.responseText ? JSON.parse(request.responseText) : null;
      } catch {
        json = null; // an R2 presigned PUT answers no JSON
      }
      resolve({ status: request.status, json });
    });
    request.addEventListener("error", () => {
      done();
      reject(new ApiError(0, "NETWORK_ERROR", "The upload could not reach the server", {}));
    });
    request.addEventListener("abort", () => {
      reject(new DOMException("The upload was cancelled", "AbortError"));
    });
    if (signal.aborted) {
      reject(new DOMException("The upload was cancelled", "AbortError"));
      return;
    }
    signal.addEventListener("abort", abort, { once: true });
    request.send(file);
  });
}

async function uploadSingle(api, file, options, onProgress, signal) {
  const form = new FormData();
  form.append("image", file, file.name);
  if (options.tags.length) form.append("tags", options.tags.join(","));
  if (options.expiryMinutes) form.append("expiryMinutes", String(options.expiryMinutes));
  if (options.quality) form.append("quality", String(options.quality));
  const { status, json } = await uploadWithProgress("/api/upload/single", {
    body: form,
    onProgress: recordProgress(file, onProgress),
    signal,
  });
  if (status < 200 || status >= 300) throw failure(status, json);
  // The /v1 resource has what the result shows (thumbnail_url, filename).
  return api(`/v1/images/${encodeURIComponent(json.result.id)}`, { signal });
}

async function uploadTwoStep(api, file, options, onProgress, signal, onCreated) {
  const created = await api("/v1/images", {
    json: {
      filename: file.name,
      album: options.album || undefined,
      tags: options.tags,
    },
    signal,
  });
  // From here a cancel must also remove the pending image (it is not removed by itself).
  onCreated(created.id);
  const { status, json } = await putWithoutToken(
    created.upload_url,
    file,
    recordProgress(file, onProgress),
    signal,
  );
  if (status < 200 || status >= 300) throw failure(status, json);
  const path = `/v1/images/${encodeURIComponent(created.id)}`;
  if (options.expiryMinutes) {
    await api(`/api/images/${encodeURIComponent(created.id)}`, {
      method: "PUT",
      json: { expiryMinutes: options.expiryMinutes },
      signal,
    });
  }
  // Read back in every case: with an R2 presigned PUT this is what completes the image.
  return api(path, { signal });
}

// Uploads `file` with `options` {tags: [], album: slug or "", expiryMinutes, quality};
// `limits` is GET /api/config's {maxFileSize}. Calls onProgress(fraction or null) as bytes
// go out. Resolves to the image's /v1 resource; rejects with an AbortError once `signal`
// aborts (after removing a pending two-step image), or an ApiError.
export async function uploadFile(api, file, options, limits, onProgress, signal) {
  const twoStep = Boolean(options.album) || file.size > limits.maxFileSize;
  if (!twoStep) return uploadSingle(api, file, options, onProgress, signal);
  let pendingId = null;
  try {
    return await uploadTwoStep(api, file, options, onProgress, signal, (id) => {
      pendingId = id;
    });
  } catch (error) {
    if (error.name === "AbortError" && pendingId) {
      // Not with `signal`: it is aborted already, and this request must still go.
      await api(`/v1/images/${encodeURIComponent(pendingId)}`, { method: "DELETE" }).catch(
        () => {},
      );
    }
    throw error;
  }
}
