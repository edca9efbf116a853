// The console's shell: a hash router (`#/<name>` mounts console/views/<name>.js), the nav,
// sign-in gating, toasts and the colour theme. Views export
// `async function mount(root, ctx)` and may return a cleanup function; ctx is
// {api, navigate(hash), toast(message, kind)}.
//
// A view is registered by adding one entry to ROUTES (its nav label), nothing else.

import { api as callApi, clearToken, getToken } from "./api.js";

export const ROUTES = [
  { name: "gallery", label: "Gallery" },
  { name: "upload", label: "Upload" },
  { name: "trash", label: "Trash" },
  { name: "tags", label: "Tags" },
  { name: "albums", label: "Albums" },
  { name: "random", label: "Random link" },
  { name: "templates", label: "Templates" },
  { name: "webhooks", label: "Webhooks" },
  { name: "keys", label: "Keys" },
  { name: "usage", label: "Usage" },
];

const SIGN_IN = { name: "signin", label: "Sign in" };
const THEME_KEY = "pixhaven.theme";
const TOAST_SECONDS = 6;

const main = document.getElementById("main");
const navLinks = document.getElementById("nav-links");
const nav = document.getElementById("site-nav");
const navToggle = document.querySelector(".nav-toggle");
const signOut = document.getElementById("sign-out");
const themeToggle = document.getElementById("theme-toggle");
const toasts = document.getElementById("toasts");

let cleanup = null;
let mounting = 0; // which navigation is current: a slower, older mount is discarded
let afterSignIn = ROUTES[0].name; // where "#/" goes once signed in
let loaded = false; // the first page of a load leaves the focus alone (the skip link first)

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

export function toast(message, kind = "info") {
  const item = document.createElement("p");
  item.className = `toast toast-${kind}`;
  item.textContent = message;
  toasts.append(item);
  setTimeout(() => item.remove(), TOAST_SECONDS * 1000);
}

// The views' API: a 401 while signed in means the stored token no longer works (revoked,
// or the admin token changed): forget it and ask again.
async function api(path, options) {
  try {
    return await callApi(path, options);
  } catch (error) {
    if (error.status === 401 && getToken()) {
      clearToken();
      toast("The server no longer accepts this token: sign in again.", "error");
      navigate(`#/${SIGN_IN.name}`);
    }
    throw error;
  }
}

const ctx = { api, navigate, toast };

function renderNav(current) {
  const signedIn = Boolean(getToken());
  nav.hidden = !signedIn;
  navToggle.hidden = !signedIn;
  signOut.hidden = !signedIn;
  navLinks.replaceChildren(
    ...ROUTES.map(({ name, label }) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = `#/${name}`;
      link.textContent = label;
      if (name === current) link.setAttribute("aria-current", "page");
      item.append(link);
      return item;
    }),
  );
}

function showNotFound(root, name) {
  const heading = document.createElement("h1");
  heading.textContent = "No such page";
  const text = document.createElement("p");
  text.append(`The console has no page “${name}”. `);
  const back = document.createElement("a");
  back.href = "#/";
  back.textContent = "Back to the console";
  text.append(back);
  root.append(heading, text);
}

async function route() {
  const requested = location.hash.replace(/^#\/?/, "").split(/[/?]/)[0];
  const signedIn = Boolean(getToken());
  if (!signedIn && requested !== SIGN_IN.name) {
    if (requested) afterSignIn = requested;
    location.replace(`#/${SIGN_IN.name}`);
    return;
  }
  if (signedIn && (requested === "" || requested === SIGN_IN.name)) {
    location.replace(`#/${afterSignIn}`);
    return;
  }
  const current = ++mounting;
  if (cleanup) {
    const previous = cleanup;
    cleanup = null;
    previous();
  }
  setNavOpen(false);
  renderNav(requested);
  const known = requested === SIGN_IN.name ? SIGN_IN : ROUTES.find((r) => r.name === requested);
  const root = document.createElement("div");
  root.className = `view view-${requested}`;
  main.replaceChildren(root);
  document.title = `${known ? known.label : "Not found"} · Pixhaven console`;
  if (!known) {
    showNotFound(root, requested);
    return;
  }
  try {
    const view = await import(`./views/${known.name}.js`);
    const done = await view.mount(root, ctx);
    if (current !== mounting) {
      if (typeof done === "function") done();
      return;
    }
    cleanup = typeof done === "function" ? done : null;
  } catch (error) {
    if (current !== mounting) return;
    const message = document.createElement("p");
    message.className = "error";
    message.setAttribute("role", "alert");
    message.textContent = `This page could not be shown: ${error.message}`;
    root.append(message);
  }
  // After a navigation, move the reading position to the new page (screen readers,
  // keyboard users).
  if (current === mounting && loaded && document.activeElement === document.body) main.focus();
  loaded = true;
}

function setNavOpen(open) {
  navToggle.setAttribute("aria-expanded", String(open));
  nav.classList.toggle("open", open);
}

function applyTheme() {
  const chosen = localStorage.getItem(THEME_KEY);
  const dark = chosen ? chosen === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.dataset.theme = dark ? "dark" : "light";
  themeToggle.setAttribute("aria-pressed", String(dark));
}

themeToggle.addEventListener("click", () => {
  const dark = document.documentElement.dataset.theme !== "dark";
  localStorage.setItem(THEME_KEY, dark ? "dark" : "light");
  applyTheme();
});
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", applyTheme);

navToggle.addEventListener("click", () => {
  setNavOpen(navToggle.getAttribute("aria-expanded") !== "true");
});

signOut.addEventListener("click", () => {
  clearToken();
  afterSignIn = ROUTES[0].name;
  toast("Signed out.");
  navigate(`#/${SIGN_IN.name}`);
});

// The skip link's own "#main" would be read as a route: move the focus instead.
document.querySelector(".skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});

window.addEventListener("hashchange", route);
applyTheme();
route();
