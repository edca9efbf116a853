// #/gallery: the caller's images, newest first, in an infinitely scrolling grid, filtered
// by tag, album, orientation and format. The filters live in the hash's query
// (#/gallery?tag=cats&format=png) so a reload or a shared link keeps them; `image=<id>` there
// opens that image's detail.
//
// The hash is rewritten with history.replaceState: assigning location.hash would make the
// router mount the view again.

import { albumOptions, el, hashQuery, labelled } from "./dom.js";
import { openImageDetail } from "./image-detail.js";
import { createImageGrid } from "./image-grid.js";

const FILTERS = ["tag", "album", "orientation", "format"];
const ORIENTATIONS = [
  ["", "Any"],
  ["landscape", "Landscape"],
  ["portrait", "Portrait"],
];
const FORMATS = [
  ["", "Any"],
  ["jpg", "JPEG"],
  ["png", "PNG"],
  ["gif", "GIF"],
  ["webp", "WebP"],
  ["avif", "AVIF"],
];

function choices(pairs, selected) {
  return pairs.map(([value, text]) => el("option", { value, selected: value === selected }, text));
}

// A value from the hash the lists do not have (a tag whose last image is gone, a link
// from elsewhere) stays selectable: the filter is applied as asked, not dropped silently.
function keepUnlisted(listed, wanted, make) {
  return wanted && !listed.includes(wanted) ? [make(wanted)] : [];
}

function filterForm(tags, albums, current) {
  const wantedTag = current.get("tag");
  const wantedAlbum = current.get("album");
  const tag = labelled(
    "Tag",
    el(
      "select",
      { name: "tag" },
      el("option", { value: "" }, "Any"),
      tags.map(({ tag: name, count }) =>
        el("option", { value: name, selected: name === wantedTag }, `${name} (${count})`),
      ),
      keepUnlisted(
        tags.map(({ tag: name }) => name),
        wantedTag,
        (name) => el("option", { value: name, selected: true }, `${name} (0)`),
      ),
    ),
  );
  const album = labelled(
    "Album",
    el(
      "select",
      { name: "album" },
      albumOptions(albums, wantedAlbum, "Any"),
      keepUnlisted(
        albums.map(({ slug }) => slug),
        wantedAlbum,
        (slug) => el("option", { value: slug, selected: true }, slug),
      ),
    ),
  );
  const orientation = labelled(
    "Orientation",
    el("select", { name: "orientation" }, choices(ORIENTATIONS, current.get("orientation") || "")),
  );
  const format = labelled(
    "Format",
    el("select", { name: "format" }, choices(FORMATS, current.get("format") || "")),
  );
  const form = el(
    "form",
    { className: "filters", "aria-label": "Filters" },
    tag.field,
    album.field,
    orientation.field,
    format.field,
  );
  form.addEventListener("submit", (event) => event.preventDefault());
  return form;
}

function writeHash(params) {
  const query = params.toString();
  history.replaceState(null, "", `#/gallery${query ? `?${query}` : ""}`);
}

export async function mount(root, ctx) {
  const { api } = ctx;
  const initial = hashQuery();
  let mounted = true;
  const [{ data: tags }, { data: albums }] = await Promise.all([
    api("/v1/tags"),
    api("/v1/albums"),
  ]);
  const filters = filterForm(tags, albums, initial);
  const filterQuery = () => {
    const params = new URLSearchParams();
    for (const name of FILTERS) {
      const value = filters.elements[name].value;
      if (value) params.set(name, value);
    }
    return params;
  };

  function openDetail(id) {
    const params = filterQuery();
    params.set("image", id);
    writeHash(params);
    openImageDetail(id, ctx, {
      onChange: (image) => grid.update(image),
      onDelete: (deleted) => grid.remove(deleted),
      onClose: () => {
        // Not once the view is gone: the hash is another view's by then.
        if (!mounted) return;
        writeHash(filterQuery());
        // An edit re-drew the tile whose button opened the dialog: focus its successor.
        if (document.activeElement === document.body) {
          grid.element.querySelector(`[data-id="${CSS.escape(id)}"] .tile-open`)?.focus();
        }
      },
    });
  }

  const tileActions = (image) => {
    const open = el("button", { type: "button", className: "button tile-open" }, "Details");
    open.setAttribute("aria-label", `Details of ${image.filename}`);
    open.addEventListener("click", () => openDetail(image.id));
    return open;
  };

  let grid = createImageGrid(api, filterQuery(), tileActions, "No images match these filters.");
  filters.addEventListener("change", () => {
    writeHash(filterQuery());
    const next = createImageGrid(api, filterQuery(), tileActions, "No images match these filters.");
    grid.destroy();
    grid.element.replaceWith(next.element);
    grid = next;
  });

  root.append(el("h1", {}, "Gallery"), filters, grid.element);
  if (initial.get("image")) openDetail(initial.get("image"));

  return () => {
    mounted = false;
    grid.destroy();
    document.querySelector("dialog.image-detail")?.close();
  };
}
