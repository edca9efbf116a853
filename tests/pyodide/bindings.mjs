// Miniflare's D1 and R2 as Workers bindings for the Pyodide harness, without Miniflare's
// synchronous proxies. `mf.getD1Database()` / `getR2Bucket()` give proxy stubs whose every
// property read is a blocking round trip to a helper thread; under load that channel lost a
// reply (`assert(message?.id === id)` in Miniflare's SynchronousFetcher) and every later call
// failed. So the bindings live inside Miniflare's own Worker (BRIDGE_SCRIPT, below), reached
// with the asynchronous `mf.dispatchFetch`, and this module rebuilds their results in Node
// as plain objects of the classes workerd names (D1Database, R2Bucket, R2Object,
// R2ObjectBody): workers-runtime-sdk decides by those names which objects it wraps.

// The Worker inside Miniflare: POST /d1 (JSON call in the body), POST /r2 (JSON call in the
// x-call header, an object's bytes in the body either way).
export const BRIDGE_SCRIPT = `
const b64 = (bytes) => { let s = ""; for (let i = 0; i < bytes.length; i += 32768) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 32768)); return btoa(s); };
const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
function encode(v) {
  if (v === null || v === undefined) return v ?? null;
  if (v instanceof ArrayBuffer) return { $bytes: b64(new Uint8Array(v)) };
  if (ArrayBuffer.isView(v)) return { $bytes: b64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
  if (v instanceof Date) return { $date: v.getTime() };
  if (Array.isArray(v)) return v.map(encode);
  if (typeof v === "object") { const o = {}; for (const k in v) { const x = v[k]; if (typeof x !== "function") o[k] = encode(x); } return o; }
  return v;
}
function decode(v) {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(decode);
  if ("$bytes" in v) return unb64(v.$bytes);
  if ("$date" in v) return new Date(v.$date);
  const o = {}; for (const k in v) o[k] = decode(v[k]); return o;
}
function meta(obj) {
  if (!obj) return null;
  const checksums = {};
  for (const name of ["md5", "sha1", "sha256", "sha384", "sha512"]) if (obj.checksums?.[name]) checksums[name] = obj.checksums[name];
  return encode({ key: obj.key, version: obj.version, size: obj.size, etag: obj.etag, httpEtag: obj.httpEtag,
    uploaded: obj.uploaded, httpMetadata: obj.httpMetadata, customMetadata: obj.customMetadata,
    checksums, storageClass: obj.storageClass, range: obj.range });
}
function statement(db, s) { const st = db.prepare(s.sql); return s.params.length ? st.bind(...decode(s.params)) : st; }
async function d1(db, call) {
  if (call.kind === "batch") return db.batch(call.statements.map((s) => statement(db, s)));
  if (call.kind === "exec") return db.exec(call.sql);
  return statement(db, call.statements[0])[call.kind](...call.args);
}
async function r2(bucket, call, request) {
  const options = decode(call.options ?? undefined) ?? undefined;
  if (call.op === "put") {
    const body = call.isNull ? null : new Uint8Array(await request.arrayBuffer());
    return Response.json({ object: meta(await bucket.put(call.key, body, options)) });
  }
  if (call.op === "get") {
    const obj = await bucket.get(call.key, options);
    const head = { object: meta(obj), body: Boolean(obj && "body" in obj) };
    return new Response(head.body ? obj.body : null, { headers: { "x-result": JSON.stringify(head) } });
  }
  if (call.op === "head") return Response.json({ object: meta(await bucket.head(call.key)) });
  if (call.op === "delete") { await bucket.delete(call.keys); return Response.json({}); }
  if (call.op === "list") {
    const listing = await bucket.list(options);
    return Response.json({ ...encode({ truncated: listing.truncated, cursor: listing.cursor, delimitedPrefixes: listing.delimitedPrefixes }), objects: listing.objects.map(meta) });
  }
  throw new Error("R2 " + call.op + " is not available in the Pyodide harness");
}
export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    try {
      if (path === "/d1") return Response.json({ ok: true, value: encode(await d1(env.DB, await request.json())) });
      if (path === "/r2") return await r2(env.BUCKET, JSON.parse(request.headers.get("x-call")), request);
      return new Response("bindings only", { status: 404 });
    } catch (e) {
      return Response.json({ ok: false, error: { name: e.name, message: e.message } }, { status: 599 });
    }
  },
};
`;

const ORIGIN = "http://bindings.invalid";

function encode(v) {
  if (v === null || v === undefined) return v ?? null;
  if (v instanceof ArrayBuffer) return { $bytes: Buffer.from(v).toString("base64") };
  if (ArrayBuffer.isView(v)) {
    return { $bytes: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") };
  }
  if (v instanceof Date) return { $date: v.getTime() };
  if (Array.isArray(v)) return v.map(encode);
  if (typeof v === "object") {
    const out = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = encode(x);
    return out;
  }
  return v;
}

function decode(v) {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(decode);
  if ("$bytes" in v) {
    const bytes = Buffer.from(v.$bytes, "base64");
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  }
  if ("$date" in v) return new Date(v.$date);
  const out = {};
  for (const [k, x] of Object.entries(v)) out[k] = decode(x);
  return out;
}

function failure(error) {
  const e = new Error(error.message);
  e.name = error.name;
  return e;
}

// Streams whose length workerd knows: an R2 object's body, the readable half of a
// FixedLengthStream. R2's put refuses any other stream, as workerd does.
const KNOWN_LENGTH = new WeakSet();
const R2_CHUNK = 64 * 1024;

// An object's body as R2 gives it: a stream of chunks of known total length.
function objectStream(bytes) {
  let offset = 0;
  const stream = new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + R2_CHUNK));
      offset += R2_CHUNK;
    },
  });
  KNOWN_LENGTH.add(stream);
  return stream;
}

// workerd's FixedLengthStream (a global there, set on globalThis by harness.mjs): an identity
// TransformStream whose readable half has a known length; writing more bytes than declared,
// or closing short of them, errors the stream with workerd's messages.
export class FixedLengthStream extends TransformStream {
  constructor(expectedLength) {
    let seen = 0;
    super({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > expectedLength) {
          controller.error(new TypeError("Attempt to write too many bytes through a FixedLengthStream."));
          return;
        }
        controller.enqueue(chunk);
      },
      flush(controller) {
        if (seen !== expectedLength) {
          controller.error(new TypeError("FixedLengthStream did not see all expected bytes before close()."));
        }
      },
    });
    KNOWN_LENGTH.add(this.readable);
  }
}

async function bytesOf(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return new TextEncoder().encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value.getReader === "function") {
    if (!KNOWN_LENGTH.has(value)) {
      throw new TypeError(
        "Provided readable stream must have a known length (request/response body or readable half of FixedLengthStream)",
      );
    }
    return new Uint8Array(await new Response(value).arrayBuffer());
  }
  if (typeof value.arrayBuffer === "function") return new Uint8Array(await value.arrayBuffer());
  throw new TypeError("R2 put: unsupported value");
}

export function makeBindings(mf) {
  async function d1(call) {
    const response = await mf.dispatchFetch(`${ORIGIN}/d1`, { method: "POST", body: JSON.stringify(call) });
    const answer = await response.json();
    if (!answer.ok) throw failure(answer.error);
    return decode(answer.value);
  }

  class D1PreparedStatement {
    constructor(sql, params) {
      this.sql = sql;
      this.params = params;
    }
    bind(...values) {
      return new D1PreparedStatement(this.sql, encode(values));
    }
    first(column) {
      return d1({ kind: "first", statements: [this], args: column === undefined ? [] : [column] });
    }
    all() {
      return d1({ kind: "all", statements: [this], args: [] });
    }
    run() {
      return d1({ kind: "run", statements: [this], args: [] });
    }
    raw(options) {
      return d1({ kind: "raw", statements: [this], args: options === undefined ? [] : [options] });
    }
  }

  class D1Database {
    prepare(sql) {
      return new D1PreparedStatement(sql, []);
    }
    batch(statements) {
      return d1({ kind: "batch", statements: [...statements] });
    }
    exec(sql) {
      return d1({ kind: "exec", sql });
    }
  }

  class R2Object {
    constructor(fields) {
      Object.assign(this, fields);
    }
    writeHttpMetadata(headers) {
      for (const [k, v] of Object.entries(this.httpMetadata || {})) if (v != null) headers.set(k, String(v));
    }
  }

  class R2ObjectBody extends R2Object {
    constructor(fields, bytes) {
      super(fields);
      this._bytes = bytes;
      this.body = objectStream(bytes);
    }
    get bodyUsed() {
      return this.body.locked;
    }
    async arrayBuffer() {
      return this._bytes.buffer.slice(this._bytes.byteOffset, this._bytes.byteOffset + this._bytes.byteLength);
    }
    async bytes() {
      return new Uint8Array(await this.arrayBuffer());
    }
    async text() {
      return new TextDecoder().decode(this._bytes);
    }
    async json() {
      return JSON.parse(await this.text());
    }
  }

  const object = (fields) => (fields ? new R2Object(decode(fields)) : null);

  async function r2(call, body) {
    const response = await mf.dispatchFetch(`${ORIGIN}/r2`, {
      method: "POST",
      headers: { "x-call": JSON.stringify(call) },
      body,
    });
    if (response.status === 599) throw failure((await response.json()).error);
    return response;
  }

  class R2Bucket {
    async head(key) {
      return object((await (await r2({ op: "head", key })).json()).object);
    }
    async get(key, options) {
      const response = await r2({ op: "get", key, options: encode(options) });
      const result = JSON.parse(response.headers.get("x-result"));
      if (!result.object) return null;
      if (!result.body) return new R2Object(decode(result.object));
      return new R2ObjectBody(decode(result.object), new Uint8Array(await response.arrayBuffer()));
    }
    async put(key, value, options) {
      const bytes = await bytesOf(value);
      const call = { op: "put", key, options: encode(options), isNull: bytes === null };
      return object((await (await r2(call, bytes)).json()).object);
    }
    async delete(keys) {
      await r2({ op: "delete", keys });
    }
    async list(options) {
      const listing = await (await r2({ op: "list", options: encode(options) })).json();
      const out = { objects: listing.objects.map(object), truncated: listing.truncated };
      out.delimitedPrefixes = listing.delimitedPrefixes || [];
      if (listing.cursor !== undefined && listing.cursor !== null) out.cursor = listing.cursor;
      return out;
    }
  }

  return { DB: new D1Database(), BUCKET: new R2Bucket() };
}
