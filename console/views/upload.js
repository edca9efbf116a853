// #/upload: drop, paste or choose images; each file gets its own progress bar (real
// XMLHttpRequest upload events), a Cancel button, and once stored its thumbnail and a link
// to its detail. Which API call carries a file is upload-transfer.js's business.

import { EXPIRY_CHOICES, albumOptions, el, imageDetailHash, labelled, splitTags } from "./dom.js";
import { uploadFile } from "./upload-transfer.js";

const NEW_ALBUM = "__new__";
// At most this many files travel at once: the rest wait their turn in the list.
const PARALLEL_UPLOADS = 3;

function optionsForm(albums) {
  const tags = labelled(
    "Tags",
    el("input", { type: "text", name: "tags", autocomplete: "off" }),
    "Comma-separated, e.g. cats, holiday",
  );
  const album = labelled(
    "Album",
    el(
      "select",
      { name: "album" },
      albumOptions(albums, ""),
      el("option", { value: NEW_ALBUM }, "New album…"),
    ),
  );
  const newAlbum = labelled(
    "New album slug",
    el("input", {
      type: "text",
      name: "new-album",
      autocomplete: "off",
      pattern: "[a-z0-9-]{1,64}",
    }),
    "Lowercase letters, digits and '-'",
  );
  newAlbum.field.hidden = true;
  album.control.addEventListener("change", () => {
    newAlbum.field.hidden = album.control.value !== NEW_ALBUM;
  });
  const expiry = labelled(
    "Expires after",
    el(
      "select",
      { name: "expiry" },
      el("option", { value: "" }, "Never"),
      EXPIRY_CHOICES.map(([value, text]) => el("option", { value }, text)),
    ),
  );
  const quality = labelled(
    "Quality",
    el("input", { type: "number", name: "quality", min: 1, max: 100, inputMode: "numeric" }),
    "1–100; empty keeps the server's default",
  );
  const fieldset = el(
    "fieldset",
    { className: "upload-options" },
    el("legend", {}, "Options for the next files"),
    tags.field,
    album.field,
    newAlbum.field,
    expiry.field,
    quality.field,
  );
  const read = () => {
    const albumSlug =
      album.control.value === NEW_ALBUM ? newAlbum.control.value.trim() : album.control.value;
    const qualityValue = Number.parseInt(quality.control.value, 10);
    return {
      tags: splitTags(tags.control.value),
      album: albumSlug,
      expiryMinutes: Number.parseInt(expiry.control.value, 10) || 0,
      quality: qualityValue >= 1 && qualityValue <= 100 ? qualityValue : 0,
    };
  };
  return { fieldset, read };
}

function megabytes(bytes) {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

function dropZone(onFiles) {
  const input = el("input", {
    type: "file",
    id: "upload-files",
    className: "visually-hidden",
    multiple: true,
    accept: "image/*",
  });
  const zone = el(
    "div",
    { className: "dropzone" },
    el("p", {}, "Drop images here, paste them (Ctrl+V), or"),
    // The label is the visible button; the real input behind it keeps the keyboard and
    // assistive technology working (Tab reaches the input, Enter or Space opens the picker).
    el("label", { htmlFor: "upload-files", className: "button primary" }, "Choose images"),
    input,
  );
  input.addEventListener("change", () => {
    onFiles([...input.files]);
    input.value = ""; // choosing the same file again must fire `change` again
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    onFiles([...event.dataTransfer.files]);
  });
  return zone;
}

// One file's row: its name, bar, status line, Cancel button, later its result.
function uploadRow(file) {
  const bar = el("progress", { max: 100, value: 0, "aria-label": `Upload of ${file.name}` });
  const status = el("p", { className: "upload-status muted", role: "status" }, "Waiting…");
  const cancel = el(
    "button",
    { type: "button", className: "button", "aria-label": `Cancel ${file.name}` },
    "Cancel",
  );
  const result = el("div", { className: "upload-result" });
  const row = el(
    "li",
    { className: "upload-row" },
    el("div", { className: "upload-name" }, file.name),
    bar,
    status,
    el("div", { className: "actions" }, cancel),
    result,
  );
  return { row, bar, status, cancel, result };
}

function showResult(parts, image) {
  parts.bar.value = 100;
  parts.status.textContent = "Uploaded.";
  parts.cancel.remove();
  const link = el("a", { href: imageDetailHash(image.id) }, `Open ${image.filename}`);
  const thumbnail = image.thumbnail_url
    ? el("img", {
        src: image.thumbnail_url,
        alt: image.alt || image.filename,
        className: "upload-thumbnail",
        width: 96,
        height: 96,
      })
    : null;
  parts.result.replaceChildren(el("a", { href: imageDetailHash(image.id) }, thumbnail), link);
}

export async function mount(root, { api, toast }) {
  const [{ config }, { data: albums }] = await Promise.all([api("/api/config"), api("/v1/albums")]);
  const options = optionsForm(albums);
  const list = el("ul", { className: "upload-list", "aria-label": "Uploads" });
  const controllers = new Set();
  const waiting = [];
  let running = 0;

  function pump() {
    while (running < PARALLEL_UPLOADS && waiting.length) {
      const job = waiting.shift();
      if (job.controller.signal.aborted) continue;
      running += 1;
      run(job).finally(() => {
        running -= 1;
        controllers.delete(job.controller);
        pump();
      });
    }
  }

  async function run({ file, settings, parts, controller }) {
    parts.status.textContent = "Uploading…";
    try {
      const image = await uploadFile(
        api,
        file,
        settings,
        config,
        (fraction) => {
          if (fraction !== null) parts.bar.value = Math.round(fraction * 100);
        },
        controller.signal,
      );
      showResult(parts, image);
    } catch (error) {
      parts.cancel.remove();
      if (error.name === "AbortError") {
        parts.status.textContent = "Cancelled.";
      } else {
        parts.status.textContent = `Failed: ${error.message}`;
        parts.status.classList.add("error");
      }
    }
  }

  function addFiles(files) {
    const images = files.filter((file) => file.type.startsWith("image/"));
    if (images.length < files.length)
      toast("Only images can be uploaded: the rest were skipped.", "error");
    // CattoPic's app allows maxUploadCount files per batch; the console keeps to it.
    if (images.length > config.maxUploadCount) {
      toast(
        `At most ${config.maxUploadCount} files at a time: the first ones are uploading.`,
        "error",
      );
      images.length = config.maxUploadCount;
    }
    const settings = options.read();
    for (const file of images) {
      const parts = uploadRow(file);
      const controller = new AbortController();
      controllers.add(controller);
      parts.cancel.addEventListener("click", () => {
        controller.abort();
        parts.status.textContent = "Cancelled.";
        parts.cancel.remove();
      });
      list.prepend(parts.row);
      waiting.push({ file, settings, parts, controller });
    }
    pump();
  }

  // Ctrl+V anywhere on the page: clipboard images get a name of their own (they are all
  // "image.png" otherwise, and the album would refuse the second).
  function onPaste(event) {
    const pasted = [...(event.clipboardData?.files || [])].map((file, index) =>
      file.name && file.name !== "image.png"
        ? file
        : new File([file], `pasted-${Date.now()}-${index}.${file.type.split("/")[1] || "png"}`, {
            type: file.type,
          }),
    );
    if (pasted.length) {
      event.preventDefault();
      addFiles(pasted);
    }
  }
  document.addEventListener("paste", onPaste);

  root.append(
    el("h1", {}, "Upload"),
    el(
      "section",
      { className: "card" },
      dropZone(addFiles),
      el(
        "p",
        { className: "muted" },
        `Up to ${config.maxUploadCount} files at a time. Files over ${megabytes(config.maxFileSize)}, `,
        "and files going into an album, use the two-step upload.",
      ),
      options.fieldset,
    ),
    el("section", { "aria-label": "Upload progress" }, list),
  );

  return () => {
    document.removeEventListener("paste", onPaste);
    for (const controller of controllers) controller.abort();
  };
}
