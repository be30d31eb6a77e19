// The harness of the browser tests: the real webra2-mock binary, Debian's
// Chromium driven by playwright-core, the admin API, openssl, screenshots.
import { spawn, execFileSync } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

/** axe-core's browser bundle, injected into a page to check its accessibility. */
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

/** The workspace root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
/** Where each test's screenshots go: artifacts/screenshots/<test>/NN-step.png. */
export const SCREENSHOTS = join(ROOT, "artifacts", "screenshots");
const BINARY = process.env.WEBRA2_MOCK_BIN || join(ROOT, "target", "debug", "webra2-mock");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
// Without the background-networking flags Chromium keeps dialling Google's
// hosts, which this machine's closed network refuses.
const CHROMIUM_ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
/** The test root's fixture, to compare what the pages show with. */
export const ROOT_PEM = join(ROOT, "fixtures", "root.cert.pem");
/** OpenSSL at security level 0: RSA-1024 keys signed with SHA-1 appear in the renewal fixtures. */
export const OPENSSL_ENV = { ...process.env, OPENSSL_CONF: join(ROOT, "fixtures", "openssl-seclevel0.cnf") };

/** Starts `webra2-mock serve` on free ports with an in-memory store; resolves once its ready line is read. */
export async function startMock() {
  if (!existsSync(BINARY)) {
    throw new Error(`${BINARY} is missing: run \`cargo build -p webra2-mock\` first`);
  }
  const child = spawn(BINARY, [
    "serve",
    "--public-addr", "127.0.0.1:0",
    "--admin-addr", "127.0.0.1:0",
    "--confirm-addr", "127.0.0.1:0",
    "--db", "sqlite::memory:",
  ], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WEBRA2_LOG: "warn" } });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line in 20 s; stderr:\n${stderr}`)), 20000);
    lines.on("line", (line) => {
      const m = /public=(\S+) admin=(\S+) confirm=(\S+)/.exec(line);
      if (m) { clearTimeout(timer); resolveReady({ public: m[1], admin: m[2], confirm: m[3] }); }
    });
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`webra2-mock exited ${code}:\n${stderr}`)); });
  });
  const urls = await ready;
  return {
    ...urls,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
    },
  };
}

/**
 * A fresh headless Chromium (its own empty profile) with downloads allowed.
 * `options` are more context options: `javaScriptEnabled: false`, a phone's
 * `viewport`, `clientCertificates` for the confirmation page (with
 * `ignoreHTTPSErrors`: its server certificate chains to the mock's root).
 */
export async function startBrowser(options = {}) {
  const profile = mkdtempSync(join(tmpdir(), "webra2-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    acceptDownloads: true,
    locale: "ja-JP",
    viewport: { width: 1000, height: 900 },
    ...options,
  });
  const page = context.pages()[0] || await context.newPage();
  // A page that lost what a test waits for fails in seconds, not after 30.
  page.setDefaultTimeout(10000);
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A screenshot per step: artifacts/screenshots/<test>/NN-<step>.png. */
export function screenshots(test) {
  const dir = join(SCREENSHOTS, test);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let n = 0;
  return async (page, step) => {
    n += 1;
    const path = join(dir, `${String(n).padStart(2, "0")}-${step}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
  };
}

/** A scratch folder for downloads and openssl files. */
export function scratch() {
  return mkdtempSync(join(tmpdir(), "webra2-browser-"));
}

/** `POST /admin/enrollments`; returns the answer (with `one_time_url`). */
export async function prepare(mock, fields) {
  const resp = await fetch(`${mock.admin}/admin/enrollments`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      email: `${fields.user_id.toLowerCase()}@example.test`,
      ...fields,
    }),
  });
  const body = await resp.json();
  if (resp.status !== 201) throw new Error(`prepare: ${resp.status} ${JSON.stringify(body)}`);
  return body;
}

/** `GET /admin/enrollments/{id}`. */
export async function enrollment(mock, id) {
  const resp = await fetch(`${mock.admin}/admin/enrollments/${id}`);
  return resp.json();
}

/** `PUT /admin/clock`. */
export async function setClock(mock, now) {
  const resp = await fetch(`${mock.admin}/admin/clock`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ now }),
  });
  if (!resp.ok) throw new Error(`clock: ${resp.status}`);
}

/** Issues a certificate through the JSON API with a key made by openssl (a user who already holds one). */
export async function issueViaApi(mock, userId, password) {
  const created = await prepare(mock, { user_id: userId, auth_password: password });
  const auth = await fetch(`${created.one_time_url}/auth`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ auth_password: password }),
  });
  const { session } = await auth.json();
  const dir = scratch();
  execFileSync("openssl", ["req", "-new", "-newkey", "rsa:1024", "-nodes", "-sha256",
    "-keyout", join(dir, "key.pem"), "-out", join(dir, "csr.pem"), "-subj", `/CN=${userId}`],
  { env: OPENSSL_ENV, stdio: "pipe" });
  const csr = execFileSync("cat", [join(dir, "csr.pem")]);
  const resp = await fetch(`${created.one_time_url}/csr`, {
    method: "POST",
    headers: { "content-type": "application/x-pem-file", accept: "application/json", authorization: `Bearer ${session}` },
    body: csr,
  });
  const issued = await resp.json();
  if (resp.status !== 201) throw new Error(`csr: ${resp.status} ${JSON.stringify(issued)}`);
  rmSync(dir, { recursive: true, force: true });
  return { created, issued };
}

/** Runs openssl; returns stdout as text (throws with stderr on failure). */
export function openssl(args, input) {
  return execFileSync("openssl", args, { env: OPENSSL_ENV, input, stdio: ["pipe", "pipe", "pipe"] }).toString();
}

/** The SHA-1 fingerprint of a certificate file as the issuance site prints it: five groups of eight. */
export function sha1FiveGroups(certPath, inform = "PEM") {
  const line = openssl(["x509", "-in", certPath, "-inform", inform, "-noout", "-fingerprint", "-sha1"]);
  const hex = line.split("=")[1].replace(/[:\s]/g, "").toUpperCase();
  return hex.match(/.{8}/g).join(" ");
}

/** Writes text to a file in `dir`; returns its path. */
export function write(dir, name, text) {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/**
 * Runs axe-core in the page; answers its serious and critical violations,
 * one line each (rule, impact, help, where).
 */
export async function axeViolations(page) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

/**
 * Records what a page's console and network say went wrong: console errors,
 * uncaught exceptions, failed requests, and 4xx/5xx answers to anything but
 * the document itself (an error page's own status is what it is for, and so
 * is Chromium's console line about it).
 */
export function watchPage(page) {
  const problems = [];
  const documentErrors = new Set();
  page.on("response", (r) => {
    if (r.status() < 400) return;
    if (r.request().isNavigationRequest()) documentErrors.add(r.url());
    else problems.push(`HTTP ${r.status()} ${r.url()}`);
  });
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const at = m.location().url;
    if (documentErrors.has(at) && m.text().startsWith("Failed to load resource")) return;
    problems.push(`console: ${m.text()} (${at})`);
  });
  page.on("pageerror", (e) => problems.push(`exception: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
  return problems;
}

/** `GET /admin/mails?to=`: the outbox to one address. */
export async function mails(mock, to) {
  const resp = await fetch(`${mock.admin}/admin/mails?to=${encodeURIComponent(to)}`);
  return resp.json();
}
