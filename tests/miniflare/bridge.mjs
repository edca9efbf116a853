// Pixhaven's Miniflare bridge: a JavaScript Worker that lets the Python contract suite drive
// Miniflare's own D1 (env.DB) and R2 (env.BUCKET) over HTTP, so the same assertions run against
// Cloudflare's emulator and against src/pixhaven/local/. It is a pass-through: arguments are
// decoded from JSON, the binding method is called as a JavaScript Worker would call it, and
// whatever comes back (or whatever is thrown) is encoded losslessly. No result is adjusted.
//
// Wire format (POST /rpc, JSON both ways):
//   request:  {"target": "d1" | "r2", "op": "...", ...}
//   response: {"ok": true, "value": <encoded>} or {"ok": false, "error": {"name", "message", ...}}
// Tagged values (a JSON object with exactly one "$..." key, in both directions):
//   {"$bytes": base64, "$type": "ArrayBuffer" | "Uint8Array" | ...}  binary data
//   {"$date": epoch_ms}            a JS Date
//   {"$bigint": "123"}             a JS BigInt
//   {"$number": "NaN"}             NaN / Infinity / -Infinity
//   {"$undefined": true}           undefined (kept so object keys survive, as Pyodide keeps them)
//   {"$stream": base64}            (request only) a ReadableStream of known length
//   {"$class": name, "$fields": {...}, "$body": base64?}  (response only) an instance of a
//                                  runtime class such as R2Object, with all its non-function
//                                  properties; "$body" holds an R2ObjectBody's bytes.

const TAGS = ["$bytes", "$date", "$bigint", "$number", "$undefined", "$stream"];

function toBase64(bytes) {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function isTag(value) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const keys = Object.keys(value);
  if (keys.length === 1 && TAGS.includes(keys[0])) return keys[0];
  return null;
}

// JSON from Python -> JS values.
function decode(value) {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(decode);
  switch (isTag(value)) {
    case "$bytes":
      return fromBase64(value.$bytes);
    case "$date":
      return new Date(value.$date);
    case "$bigint":
      return BigInt(value.$bigint);
    case "$number":
      return Number(value.$number);
    case "$undefined":
      return undefined;
    case "$stream":
      // A body stream of known length, like obj.body from a previous get().
      return new Response(fromBase64(value.$stream)).body;
  }
  const out = {};
  for (const [k, v] of Object.entries(value)) out[k] = decode(v);
  return out;
}

// Property names of a runtime class instance: own properties and getters up the prototype
// chain (workerd exposes R2Object fields either way depending on the type).
function propertyNames(obj) {
  const names = new Set(Object.getOwnPropertyNames(obj));
  let proto = Object.getPrototypeOf(obj);
  while (proto && proto !== Object.prototype) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const desc = Object.getOwnPropertyDescriptor(proto, name);
      if (desc && typeof desc.get === "function") names.add(name);
    }
    proto = Object.getPrototypeOf(proto);
  }
  names.delete("constructor");
  // The body stream is transported as "$body" bytes instead.
  names.delete("body");
  return [...names].sort();
}

// JS values -> JSON for Python.
function encode(value) {
  if (value === undefined) return { $undefined: true };
  if (value === null) return null;
  switch (typeof value) {
    case "number":
      return Number.isFinite(value) ? value : { $number: String(value) };
    case "bigint":
      return { $bigint: value.toString() };
    case "string":
    case "boolean":
      return value;
    case "function":
      return { $undefined: true };
  }
  if (value instanceof ArrayBuffer) {
    return { $bytes: toBase64(new Uint8Array(value)), $type: "ArrayBuffer" };
  }
  if (ArrayBuffer.isView(value)) {
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return { $bytes: toBase64(bytes), $type: value.constructor.name };
  }
  if (value instanceof Date) return { $date: value.getTime() };
  if (Array.isArray(value)) return value.map(encode);
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = encode(v);
    return out;
  }
  if (value instanceof Error) return { $class: value.constructor.name, $fields: errorFields(value) };
  const fields = {};
  for (const name of propertyNames(value)) {
    let v;
    try {
      v = value[name];
    } catch (e) {
      continue;
    }
    if (typeof v === "function") continue;
    fields[name] = encode(v);
  }
  return { $class: value.constructor ? value.constructor.name : "Object", $fields: fields };
}

// An R2ObjectBody (anything with a body and arrayBuffer()) is read here, once, and sent whole.
async function encodeResult(value) {
  if (
    value !== null &&
    typeof value === "object" &&
    typeof value.arrayBuffer === "function" &&
    "body" in value
  ) {
    const encoded = encode(value);
    encoded.$body = toBase64(new Uint8Array(await value.arrayBuffer()));
    return encoded;
  }
  if (Array.isArray(value)) return Promise.all(value.map(encodeResult));
  return encode(value);
}

function errorFields(error) {
  const fields = { name: error.name, message: error.message };
  if (error.cause !== undefined) {
    fields.cause =
      error.cause instanceof Error
        ? { name: error.cause.name, message: error.cause.message }
        : String(error.cause);
  }
  return fields;
}

// ---- D1 ---------------------------------------------------------------------------------

// A statement as Python built it: prepare(sql) then zero or more bind(...values) calls,
// replayed in order (bind returns a new statement, as in the Workers API).
function statement(db, spec) {
  let stmt = db.prepare(spec.sql);
  for (const values of spec.binds || []) stmt = stmt.bind(...decode(values));
  return stmt;
}

async function resetD1(db) {
  // Drop every user table and view; repeat while foreign keys or virtual-table shadows make
  // some drops fail on the first pass.
  for (let round = 0; round < 20; round++) {
    const { results } = await db
      .prepare(
        "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') " +
          "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY type DESC",
      )
      .all();
    if (results.length === 0) break;
    for (const { type, name } of results) {
      const quoted = '"' + name.replaceAll('"', '""') + '"';
      try {
        await db.exec(`DROP ${type === "view" ? "VIEW" : "TABLE"} IF EXISTS ${quoted}`);
      } catch (e) {
        if (round === 19) throw e;
      }
    }
  }
  try {
    await db.exec("DELETE FROM sqlite_sequence");
  } catch (e) {
    // No AUTOINCREMENT table ever existed.
  }
  return null;
}

async function d1(env, req) {
  const db = env.DB;
  const args = decode(req.args || []);
  switch (req.op) {
    case "all":
    case "run":
    case "first":
    case "raw":
      return statement(db, req.statement)[req.op](...args);
    case "bind":
      // bind() throws synchronously in JS (D1_TYPE_ERROR); Python checks it at bind time.
      statement(db, req.statement);
      return null;
    case "batch":
      return db.batch(req.statements.map((spec) => statement(db, spec)));
    case "exec":
      return db.exec(...args);
    case "reset":
      return resetD1(db);
  }
  throw new Error(`bridge: unknown D1 op ${req.op}`);
}

// ---- R2 ---------------------------------------------------------------------------------

async function resetR2(bucket) {
  for (;;) {
    const listed = await bucket.list({ limit: 1000 });
    if (listed.objects.length === 0) break;
    await bucket.delete(listed.objects.map((o) => o.key));
  }
  return null;
}

async function r2(env, req) {
  const bucket = env.BUCKET;
  const args = decode(req.args || []);
  switch (req.op) {
    case "put":
    case "get":
    case "head":
    case "delete":
    case "list":
    case "createMultipartUpload":
      return bucket[req.op](...args);
    case "reset":
      return resetR2(bucket);
  }
  throw new Error(`bridge: unknown R2 op ${req.op}`);
}

// ---- HTTP -------------------------------------------------------------------------------

function json(body) {
  return new Response(JSON.stringify(body), {
    headers: { "content-type": "application/json" },
  });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return json({ ok: true, bridge: "pixhaven-miniflare" });
    if (url.pathname !== "/rpc" || request.method !== "POST") {
      return new Response("not found", { status: 404 });
    }
    const req = await request.json();
    try {
      let result;
      if (req.target === "d1") result = await d1(env, req);
      else if (req.target === "r2") result = await r2(env, req);
      else throw new Error(`bridge: unknown target ${req.target}`);
      return json({ ok: true, value: await encodeResult(result) });
    } catch (e) {
      const error =
        e instanceof Error ? errorFields(e) : { name: "NonError", message: String(e) };
      return json({ ok: false, error });
    }
  },
};
