// Which URLs a rendered page may reach: the rules of src/pixhaven/net/addresses.py, in
// JavaScript, for every request the browser makes (navigation, sub-resources, redirects,
// iframes). Pure checks, no I/O.
//
// Host spellings: URLs are parsed with the WHATWG URL parser (`new URL`), the parser the
// browser itself uses, so legacy IPv4 forms (`0x7f.1`, `2130706433`, `017700000001`, `127.1`)
// arrive here already as the dotted quad they mean, and IPv6 literals in canonical form.
// What is checked is therefore the address the browser would connect to.
//
// Names are not resolved: a Worker cannot resolve DNS itself. On Cloudflare that is safe
// enough, because Browser Rendering's Chromium runs in Cloudflare's network and egresses
// from it: a public name that resolves to 10.0.0.1 or 127.0.0.1 (rebinding) reaches
// Cloudflare's own isolated network, never the deployer's private network or metadata
// service. The literal and name checks here stop the obvious attempts at any address.

const BLOCKED_NAMES = new Set([
  "localhost",
  "metadata",
  "metadata.goog",
  "metadata.google.internal",
  "instance-data",
  "ip6-localhost",
  "ip6-loopback",
]);
const BLOCKED_SUFFIXES = [
  ".localhost",
  ".local",
  ".localdomain",
  ".internal",
  ".home.arpa",
  ".intranet",
  ".lan",
];

// [first address, prefix length, why]: IPv4 ranges that are not global unicast (the
// ranges Python's ipaddress calls private, reserved, shared or not global).
const IPV4_REFUSED = [
  ["0.0.0.0", 8, "an unspecified (this network) address"],
  ["10.0.0.0", 8, "a private address"],
  ["100.64.0.0", 10, "a shared (CGNAT) address"],
  ["127.0.0.0", 8, "a loopback address"],
  ["169.254.0.0", 16, "a link-local address"],
  ["172.16.0.0", 12, "a private address"],
  ["192.0.0.0", 24, "an IETF protocol assignment address"],
  ["192.0.2.0", 24, "a documentation address"],
  ["192.88.99.0", 24, "a 6to4 relay address"],
  ["192.168.0.0", 16, "a private address"],
  ["198.18.0.0", 15, "a benchmarking address"],
  ["198.51.100.0", 24, "a documentation address"],
  ["203.0.113.0", 24, "a documentation address"],
  ["224.0.0.0", 4, "a multicast address"],
  ["240.0.0.0", 4, "a reserved address"],
];
// Cloud metadata services reachable at addresses outside the ranges above.
const IPV4_METADATA = new Set(["169.254.169.254", "169.254.170.2", "100.100.100.200", "168.63.129.16", "192.0.0.192"]);

function ipv4Number(text) {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
    return null;
  }
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

function ipv4Text(number) {
  return [24, 16, 8, 0].map((shift) => Math.floor(number / 2 ** shift) % 256).join(".");
}

/** Why this IPv4 address (a 32-bit number) may not be reached, or null. */
function ipv4Refusal(number) {
  if (IPV4_METADATA.has(ipv4Text(number))) return "a cloud metadata address";
  for (const [first, bits, why] of IPV4_REFUSED) {
    const size = 2 ** (32 - bits);
    const start = ipv4Number(first);
    if (number >= start && number < start + size) return why;
  }
  return null;
}

/** The eight 16-bit groups of an IPv6 literal (no brackets), or null. */
export function ipv6Groups(text) {
  let head = text;
  let tail4 = [];
  const dotted = text.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const number = ipv4Number(dotted[2]);
    if (number === null) return null;
    head = dotted[1] + "0:0";
    tail4 = [Math.floor(number / 65536), number % 65536];
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const parse = (part) => (part === "" ? [] : part.split(":"));
  const left = parse(halves[0]);
  const right = halves.length === 2 ? parse(halves[1]) : [];
  if (![...left, ...right].every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...left, ...Array(missing).fill("0"), ...right].map((g) => parseInt(g, 16));
  if (tail4.length) groups.splice(6, 2, ...tail4);
  return groups;
}

const v4From = (high, low) => high * 65536 + low;

/** IPv4 addresses an IPv6 address carries: mapped, NAT64, 6to4, Teredo, compatible. */
function embeddedIpv4(g) {
  const found = [];
  const zeros = (from, to) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) found.push(v4From(g[6], g[7])); // ::ffff:a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) found.push(v4From(g[6], g[7])); // NAT64
  if (g[0] === 0x2002) found.push(v4From(g[1], g[2])); // 6to4
  if (g[0] === 0x2001 && g[1] === 0) {
    // Teredo: the server, and the client with its bits inverted.
    found.push(v4From(g[2], g[3]), v4From(g[6] ^ 0xffff, g[7] ^ 0xffff));
  }
  if (zeros(0, 6) && v4From(g[6], g[7]) > 1) found.push(v4From(g[6], g[7])); // ::a.b.c.d
  return found;
}

/** Why this IPv6 address (eight groups) may not be reached, or null. */
function ipv6Refusal(g) {
  const value = g.map((x) => x.toString(16).padStart(4, "0")).join(":");
  if (g.every((x) => x === 0)) return "an unspecified address";
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return "a loopback address";
  if (value === "fd00:0ec2:0000:0000:0000:0000:0000:0254") return "a cloud metadata address";
  for (const inner of embeddedIpv4(g)) {
    const why = ipv4Refusal(inner);
    if (why) return `${why} (inside ${ipv6Compact(g)})`;
  }
  const mapped = g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0);
  if (mapped || nat64) return null; // the IPv4 inside it is global
  if ((g[0] & 0xffc0) === 0xfe80) return "a link-local address";
  if ((g[0] & 0xfe00) === 0xfc00) return "a private (unique local) address";
  if ((g[0] & 0xff00) === 0xff00) return "a multicast address";
  if (g[0] === 0x2001 && g[1] === 0x0db8) return "a documentation address";
  if (g[0] === 0x2001 && g[1] < 0x0200) return "an IETF protocol assignment address";
  if ((g[0] & 0xe000) !== 0x2000) return "not a global unicast address";
  return null;
}

function ipv6Compact(g) {
  return g.map((x) => x.toString(16)).join(":");
}

/** Why a URL host (as `new URL(...).hostname` gives it) is refused, or null. */
export function hostRefusal(hostname) {
  let host = String(hostname).toLowerCase();
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (!host) return "the URL has no host";
  if (host.includes(":")) {
    if (host.includes("%")) return "IPv6 zone identifiers are not allowed";
    const groups = ipv6Groups(host);
    return groups ? ipv6Refusal(groups) : "an invalid IPv6 address";
  }
  const v4 = ipv4Number(host);
  if (v4 !== null) return ipv4Refusal(v4);
  if (/^[0-9.]+$/.test(host) || /^0x/i.test(host)) return "an invalid IPv4 address";
  const name = host.replace(/\.+$/, "");
  if (BLOCKED_NAMES.has(name) || BLOCKED_SUFFIXES.some((s) => name.endsWith(s)) || !name.includes(".")) {
    return "a local or internal host name";
  }
  return null;
}

/** True when the host is a loopback literal (127.0.0.0/8 or ::1). */
function isLoopback(hostname) {
  const host = String(hostname).replace(/^\[|\]$/g, "");
  const v4 = ipv4Number(host);
  if (v4 !== null) return Math.floor(v4 / 2 ** 24) === 127;
  const g = host.includes(":") ? ipv6Groups(host) : null;
  return Boolean(g && g.slice(0, 7).every((x) => x === 0) && g[7] === 1);
}

/**
 * Why the browser may not request `url`, or null when it may.
 *
 * `allowLoopbackPorts` is the test-only exception (the test suite's own servers): a
 * loopback literal on one of these ports is allowed, on any port when it holds "any". It
 * is empty unless the Node test harness is started with `--allow-loopback-port`; the
 * Worker never sets it.
 */
export function urlRefusal(url, { allowLoopbackPorts = [] } = {}) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return "the URL cannot be parsed";
  }
  if (parsed.protocol === "data:") return null;
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return `only http, https and data: URLs are loaded, not ${parsed.protocol}`;
  }
  if (parsed.username || parsed.password) return "URLs with user information are not loaded";
  const port = Number(parsed.port || (parsed.protocol === "https:" ? 443 : 80));
  const portAllowed = allowLoopbackPorts.includes("any") || allowLoopbackPorts.includes(port);
  if (portAllowed && isLoopback(parsed.hostname)) return null;
  const why = hostRefusal(parsed.hostname);
  return why ? `${parsed.hostname}: ${why}` : null;
}
