// The console's one way to the Pixhaven API: the signed-in token, JSON calls that turn
// Pixhaven's error envelope into an ApiError, and uploads with progress.
//
// The token lives in sessionStorage (gone when the tab closes) and is never logged.

const TOKEN_KEY = "pixhaven.token";

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

// An error answer: Pixhaven's envelope {"success": false, "error", "code", "message",
// "details"}, or what can be said of an answer that is not one (a proxy's page, a network
// failure: status 0).
export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }

  static fromEnvelope(status, envelope) {
    if (envelope && typeof envelope === "object" && envelope.success === false) {
      const message = envelope.message || envelope.error || `HTTP ${status}`;
      return new ApiError(status, envelope.code || "ERROR", message, envelope.details ?? {});
    }
    return new ApiError(status, "HTTP_ERROR", `The server answered ${status}`, {});
  }
}

function withAuthorization(headers) {
  const all = new Headers(headers || {});
  const token = getToken();
  if (token && !all.has("Authorization")) all.set("Authorization", `Bearer ${token}`);
  return all;
}

function parseJson(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// Calls the API at `path` (same origin). `json` is sent as a JSON body; `body` as is
// (FormData, Blob...). Resolves to the parsed JSON answer (null for 204), rejects with
// ApiError.
export async function api(path, { method, json, body, headers, signal } = {}) {
  const all = withAuthorization(headers);
  let payload = body;
  if (json !== undefined) {
    all.set("Content-Type", "application/json");
    payload = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, {
      method: method || (payload === undefined ? "GET" : "POST"),
      headers: all,
      body: payload,
      signal,
      credentials: "same-origin",
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "NETWORK_ERROR", "The server could not be reached", {});
  }
  if (response.status === 204) return null;
  const parsed = parseJson(await response.text());
  if (!response.ok) throw ApiError.fromEnvelope(response.status, parsed);
  if (parsed === undefined) {
    throw new ApiError(response.status, "NOT_JSON", "The server's answer is not JSON", {});
  }
  return parsed;
}

// Sends `body` with XMLHttpRequest, whose upload events report progress (fetch has none):
// onProgress({loaded, total}) as bytes go out. Resolves to {status, json} whatever the
// status (json: the parsed answer, or null); rejects on a network failure, and with an
// AbortError when `signal` aborts.
export function uploadWithProgress(url, { method = "POST", body, headers, onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(method, url);
    for (const [name, value] of withAuthorization(headers)) request.setRequestHeader(name, value);
    if (onProgress) {
      request.upload.addEventListener("progress", (event) => {
        onProgress({ loaded: event.loaded, total: event.lengthComputable ? event.total : null });
      });
    }
    const abort = () => request.abort();
    request.addEventListener("load", () => {
      signal?.removeEventListener("abort", abort);
      resolve({ status: request.status, json: parseJson(request.responseText) ?? null });
    });
    request.addEventListener("error", () => {
      signal?.removeEventListener("abort", abort);
      reject(new ApiError(0, "NETWORK_ERROR", "The upload could not reach the server", {}));
    });
    request.addEventListener("abort", () => {
      reject(new DOMException("The upload was cancelled", "AbortError"));
    });
    if (signal) {
      if (signal.aborted) {
        reject(new DOMException("The upload was cancelled", "AbortError"));
        return;
      }
      signal.addEventListener("abort", abort, { once: true });
    }
    request.send(body ?? null);
  });
}
