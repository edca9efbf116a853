// API keys (/v1/keys): create one with a name and scopes (the full key is shown once, with a
// copy button), list them, revoke one after a confirmation.

import { confirmDialog } from "./form-dialog.js";

// The scopes a key can carry, as src/pixhaven/security/scopes.py names them (a test checks
// the two agree).
const SCOPES = [
  ["images:read", "List and read images, albums and tags"],
  ["images:write", "Upload, edit, delete and restore images; manage albums and tags"],
  ["render", "Render images, GIFs and PDFs from components or templates"],
  ["generate", "Generate images with AI models"],
  ["templates:read", "List and read templates"],
  ["templates:write", "Create, edit and delete templates"],
  ["webhooks", "Manage webhook subscriptions and bindings"],
  ["analytics:read", "Read usage and cost analytics"],
  ["keys:read", "List API keys"],
  ["keys:write", "Create and revoke API keys"],
];

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "never";
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

export async function mount(root, { api, toast }) {
  root.innerHTML = `
    <h1>API keys</h1>
    <section class="card" aria-labelledby="create-title">
      <h2 id="create-title">Create a key</h2>
      <form id="create-key" novalidate>
        <label for="key-name">Name</label>
        <input id="key-name" name="name" type="text" maxlength="100" required
               aria-describedby="create-error">
        <fieldset>
          <legend>Scopes</legend>
          <div class="checks"></div>
        </fieldset>
        <p id="create-error" class="error" role="alert"></p>
        <button type="submit" class="button primary">Create key</button>
      </form>
      <div id="created" hidden>
        <h3>Key created: copy it now</h3>
        <p>This is the only time the full key is shown. Store it somewhere safe.</p>
        <label for="created-key">The new key</label>
        <input id="created-key" class="secret" type="text" readonly>
        <div class="actions">
          <button type="button" id="copy-key" class="button primary">Copy key</button>
          <button type="button" id="hide-key" class="button">Done</button>
        </div>
      </div>
    </section>
    <section class="card" aria-labelledby="list-title">
      <h2 id="list-title">Keys</h2>
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">API keys</caption>
          <thead>
            <tr>
              <th scope="col">Name</th><th scope="col">Key starts</th><th scope="col">Owner</th>
              <th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">Last used</th>
              <th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody id="key-rows"></tbody>
        </table>
      </div>
      <p id="list-status" class="muted" role="status"></p>
    </section>`;

  const checks = root.querySelector(".checks");
  for (const [scope, description] of SCOPES) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = "scopes";
    box.value = scope;
    box.checked = scope === "images:read";
    const text = document.createElement("span");
    text.innerHTML = "<code></code> ";
    text.querySelector("code").textContent = scope;
    text.append(description);
    label.append(box, text);
    checks.append(label);
  }

  const form = root.querySelector("#create-key");
  const nameInput = root.querySelector("#key-name");
  const createError = root.querySelector("#create-error");
  const created = root.querySelector("#created");
  const createdKey = root.querySelector("#created-key");
  const rows = root.querySelector("#key-rows");
  const listStatus = root.querySelector("#list-status");
  const aborter = new AbortController();

  async function refresh() {
    listStatus.textContent = "Loading…";
    try {
      const { data } = await api("/v1/keys", { signal: aborter.signal });
      rows.replaceChildren(...data.map(row));
      const count = data.length === 1 ? "1 key." : `${data.length} keys.`;
      listStatus.textContent = data.length ? count : "No keys yet.";
    } catch (error) {
      if (error.name === "AbortError") return;
      listStatus.textContent = `The keys could not be listed: ${error.message}`;
    }
  }

  function row(key) {
    const tr = document.createElement("tr");
    tr.dataset.keyId = key.id;
    tr.append(
      cell(key.name),
      cell(`${key.prefix}…`, "mono"),
      cell(key.owner),
      cell(key.scopes.join(", ")),
      cell(when(key.created_at)),
      cell(when(key.last_used_at)),
      cell(key.revoked_at ? `Revoked ${when(key.revoked_at)}` : "Active"),
    );
    const actions = document.createElement("td");
    if (!key.revoked_at) {
      const revoke = document.createElement("button");
      revoke.type = "button";
      revoke.className = "button danger";
      revoke.textContent = "Revoke";
      revoke.setAttribute("aria-label", `Revoke ${key.name}`);
      revoke.addEventListener("click", () => confirmRevoke(key));
      actions.append(revoke);
    }
    tr.append(actions);
    return tr;
  }

  async function confirmRevoke(key) {
    const revoked = await confirmDialog({
      title: "Revoke this key?",
      text: `“${key.name}” (${key.prefix}…) stops working at once. This cannot be undone.`,
      confirmLabel: "Revoke key",
      submit: () => api(`/v1/keys/${encodeURIComponent(key.id)}`, { method: "DELETE" }),
    });
    if (!revoked) return;
    toast(`Revoked “${key.name}”.`, "success");
    await refresh();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    createError.textContent = "";
    const name = nameInput.value.trim();
    const scopes = [...form.querySelectorAll("input[name=scopes]:checked")].map((b) => b.value);
    if (!name) {
      createError.textContent = "Give the key a name.";
      nameInput.focus();
      return;
    }
    if (!scopes.length) {
      createError.textContent = "Choose at least one scope.";
      return;
    }
    try {
      const key = await api("/v1/keys", { method: "POST", json: { name, scopes } });
      createdKey.value = key.key;
      created.hidden = false;
      form.reset();
      checks.querySelector("input[value='images:read']").checked = true;
      createdKey.focus();
      createdKey.select();
      await refresh();
    } catch (error) {
      createError.textContent = `The key was not created: ${error.message}`;
    }
  });

  root.querySelector("#copy-key").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(createdKey.value);
      toast("Key copied to the clipboard.", "success");
    } catch {
      createdKey.select();
      toast("Copying was refused: the key is selected, copy it with Ctrl+C.", "error");
    }
  });

  root.querySelector("#hide-key").addEventListener("click", () => {
    createdKey.value = "";
    created.hidden = true;
    nameInput.focus();
  });

  await refresh();
  return () => {
    aborter.abort();
    createdKey.value = "";
  };
}
