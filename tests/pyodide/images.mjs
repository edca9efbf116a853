// env.IMAGES for the Pyodide harness: Pixhaven's own emulation of Cloudflare Images
// (LocalImages, held to the contract suite), which tests/pyodide/worker.py serves over HTTP
// on 127.0.0.1 from the test process. Miniflare's Images binding is not used: it ignores
// `fit` and ran out of memory scaling a 12000×12000 image down.
//
// The objects have workerd's class names (ImagesBindingImpl, ImageTransformerImpl,
// ImageTransformationResultImpl): workers-runtime-sdk wraps `env.IMAGES` only when its
// class is one it knows (`_EnvWrapper._BINDING_TYPES`), and then converts arguments
// (Python dicts to JS objects, bytes to a Uint8Array) and results (a Response to
// workers.Response) as it does on Cloudflare.
//
// As on workerd, `input()` only records its source and the steps; the source is read at
// `output()` (`info()` reads it at once). A source that is not a ReadableStream is not
// refused here: it goes to LocalImages as the Python value it stands for (`x-source`), and
// LocalImages answers its own `IMAGES_..._ERROR 9412`, the error workerd gives for a
// source it reads as text. `draw()` is not provided: Pixhaven does not call it.

const BYTES = new Set([
  "ArrayBuffer",
  "Uint8Array",
  "Int8Array",
  "Uint8ClampedArray",
  "DataView",
  "Buffer",
]);

// What the binding was given, as `x-source` and the bytes to send.
async function describe(source) {
  if (source instanceof ReadableStream) {
    return { kind: "stream", body: new Uint8Array(await new Response(source).arrayBuffer()) };
  }
  if (source instanceof ArrayBuffer) return { kind: "bytes", body: new Uint8Array(source) };
  if (ArrayBuffer.isView(source) && BYTES.has(source.constructor.name)) {
    return { kind: "bytes", body: new Uint8Array(source.buffer, source.byteOffset, source.byteLength) };
  }
  if (typeof source === "string") return { kind: "string", body: new TextEncoder().encode(source) };
  const name = source === null || source === undefined ? "NoneType" : source.constructor?.name;
  return { kind: name || typeof source, body: new Uint8Array(0) };
}

export function makeImages(url) {
  async function call(path, source, headers = {}) {
    const { kind, body } = await describe(source);
    const response = await fetch(url + path, {
      method: "POST",
      headers: { "x-source": kind, ...headers },
      body,
    });
    if (!response.ok) {
      // LocalImages' text, e.g. "IMAGES_TRANSFORM_ERROR 9412: Input is not an image: ...".
      throw new Error((await response.json()).message);
    }
    return response;
  }

  class ImageTransformationResultImpl {
    constructor(bytes, type) {
      this._bytes = bytes;
      this._type = type;
    }
    response() {
      return new Response(this._bytes, { headers: { "content-type": this._type } });
    }
    contentType() {
      return this._type;
    }
    image() {
      return new Response(this._bytes).body;
    }
  }

  class ImageTransformerImpl {
    constructor(source) {
      this._source = source;
      this._steps = [];
    }
    transform(options) {
      this._steps.push(options ?? {});
      return this;
    }
    async output(options) {
      const response = await call("/transform", this._source, {
        "x-steps": JSON.stringify(this._steps),
        "x-output": JSON.stringify(options ?? {}),
      });
      const bytes = new Uint8Array(await response.arrayBuffer());
      return new ImageTransformationResultImpl(bytes, response.headers.get("content-type"));
    }
  }

  class ImagesBindingImpl {
    async info(source) {
      return (await call("/info", source)).json();
    }
    input(source) {
      return new ImageTransformerImpl(source);
    }
  }

  return new ImagesBindingImpl();
}
