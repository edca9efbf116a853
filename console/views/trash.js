// #/trash: the caller's deleted images not purged yet (GET /v1/images?deleted_only=true,
// newest first, thumbnails through signed view URLs), each with Restore
// (POST /v1/images/{id}/restore: 410 past retention, 409 when its filename was taken).

import { el } from "./dom.js";
import { createImageGrid } from "./image-grid.js";

export async function mount(root, { api, toast }) {
  let grid = null;

  const tileActions = (image) => {
    const restore = el("button", { type: "button", className: "button" }, "Restore");
    restore.setAttribute("aria-label", `Restore ${image.filename}`);
    restore.addEventListener("click", async () => {
      restore.disabled = true;
      try {
        await api(`/v1/images/${encodeURIComponent(image.id)}/restore`, { method: "POST" });
        toast(`${image.filename} restored.`, "success");
        grid.remove(image.id);
        // The tile and its button are gone: keep the keyboard user in the grid.
        root.querySelector(".tile button")?.focus();
      } catch (error) {
        restore.disabled = false;
        toast(`Not restored: ${error.message}`, "error");
      }
    });
    return restore;
  };

  grid = createImageGrid(
    api,
    new URLSearchParams({ deleted_only: "true" }),
    tileActions,
    "The trash is empty.",
  );
  root.append(
    el("h1", {}, "Trash"),
    el(
      "p",
      { className: "muted" },
      "Deleted images stay here until they are purged; restore puts one back.",
    ),
    grid.element,
  );
  return () => grid.destroy();
}
