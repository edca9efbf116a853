// Sign-in: an API key or the admin token, checked against the API before it is kept
// (sessionStorage, api.js). POST /api/validate-api-key accepts any valid key, whatever its
// scopes, and changes nothing.

import { ApiError, setToken } from "../api.js";

export async function mount(root, { api, navigate, toast }) {
  root.innerHTML = `
    <section class="card narrow" aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in</h1>
      <p>Paste an API key or the admin token. It is kept in this tab only and forgotten when
      the tab closes.</p>
      <form novalidate>
        <label for="signin-token">API key or admin token</label>
        <input id="signin-token" name="token" type="password" autocomplete="off"
               spellcheck="false" required aria-describedby="signin-error">
        <p id="signin-error" class="error" role="alert"></p>
        <button type="submit" class="button primary">Sign in</button>
      </form>
    </section>`;
  const form = root.querySelector("form");
  const input = root.querySelector("#signin-token");
  const error = root.querySelector("#signin-error");
  const submit = root.querySelector("button[type=submit]");
  input.focus();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    error.textContent = "";
    if (!token) {
      error.textContent = "Paste a key or the admin token first.";
      input.focus();
      return;
    }
    submit.disabled = true;
    try {
      await api("/api/validate-api-key", {
        method: "POST",
        headers: { Authorization: `Bearer ${token}` },
      });
      setToken(token);
      input.value = "";
      toast("Signed in.", "success");
      navigate("#/");
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 401) {
        const reason = failure.details?.reason;
        error.textContent = `Not signed in: ${failure.message}${reason ? ` (${reason})` : ""}.`;
      } else {
        error.textContent = `Could not check the token: ${failure.message}`;
      }
      input.focus();
      input.select();
    } finally {
      submit.disabled = false;
    }
  });
}
