// For the test suite: reads a JSON list of URLs on stdin and prints, for each, why
// src/addresses.js refuses it (a string) or null, so tests/contract/test_browser_companion.py
// can hold these rules to the Python ones (src/pixhaven/net/addresses.py).
import { urlRefusal } from "../src/addresses.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const urls = JSON.parse(Buffer.concat(chunks).toString("utf8"));
process.stdout.write(JSON.stringify(urls.map((url) => urlRefusal(url))));
