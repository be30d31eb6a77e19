// The issuance site in real Chromium, walked as the manual describes it.
// Run: cargo build -p webra2-mock && (cd tests/browser && npm ci && npm test)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ROOT_PEM, enrollment, issueViaApi, openssl, prepare, scratch, screenshots, setClock,
  sha1FiveGroups, startBrowser, startMock, write,
} from "./lib/harness.js";

const FIXED_CSP = "Microsoft Enhanced Cryptographic Provider v1.0";
const ROOT_FP = sha1FiveGroups(ROOT_PEM);

let mock;
before(async () => { mock = await startMock(); });
after(async () => { await mock?.stop(); });

/** Opens a fresh browser for one test and closes it afterwards. */
async function withBrowser(fn) {
  const browser = await startBrowser();
  try { return await fn(browser.page, browser.context); } finally { await browser.close(); }
}

/** The frame every page of the site has: lang="ja", the site title as <h1> and in <title>, the step. */
async function assertFrame(page, siteTitle, stepHeading) {
  assert.equal(await page.locator("html").getAttribute("lang"), "ja");
  assert.equal((await page.locator("header h1").textContent()).trim(), siteTitle);
  const title = await page.title();
  assert.ok(title.startsWith(siteTitle), `title ${title}`);
  assert.ok(title.includes(stepHeading), `title ${title} lacks ${stepHeading}`);
  assert.ok((await page.locator("h2.step").first().textContent()).includes(stepHeading));
}

async function step1(page, url, siteTitle, password, shot) {
  const resp = await page.goto(url);
  assert.equal(resp.status(), 200);
  await assertFrame(page, siteTitle, "【ステップ1】");
  await page.getByLabel("認証情報パスワード").fill(password);
  if (shot) await shot(page, "step1");
  await page.getByRole("button", { name: "次へ" }).click();
  await page.waitForLoadState();
}

async function assertStep2(page, siteTitle) {
  await assertFrame(page, siteTitle, "【ステップ2】");
  assert.equal((await page.locator("#csp").textContent()).trim(), `CSP : ${FIXED_CSP}`);
  assert.equal((await page.locator("#key-length").textContent()).trim(), "Key 長 : 1024 bit");
  const hint = await page.locator(".hint").first().textContent();
  assert.ok(hint.includes("◆ヒント◆") && hint.includes("固定"), hint);
  assert.ok((await page.locator("body").textContent()).includes("「発行」ボタンは一度だけ押してください"));
  assert.ok(await page.getByRole("button", { name: "発行", exact: true }).isVisible());
}

/** Checks Step 3's root section against openssl; returns the serial shown. */
async function assertStep3(page, siteTitle) {
  await page.waitForSelector("body[data-step='3']");
  await assertFrame(page, siteTitle, "【ステップ3】");
  assert.equal((await page.locator("#sha1").textContent()).trim(), ROOT_FP);
  const subject = openssl(["x509", "-in", ROOT_PEM, "-noout", "-subject", "-nameopt", "RFC2253"]);
  assert.ok(subject.includes("CN=NEC Certification Authority"));
  assert.ok((await page.locator("#root-subject").textContent()).includes("NEC Certification Authority"));
  assert.ok(await page.getByRole("button", { name: "ルート CA 証明書のインストール" }).isVisible());
  assert.ok(await page.getByRole("button", { name: "クライアント証明書のインストール" }).isVisible());
  const confirm = await page.locator("#confirm-url").getAttribute("href");
  assert.equal(confirm, mock.confirm);
  assert.ok((await page.locator("body").textContent()).includes("証明書確認ページ"));
  return (await page.locator("#serial").textContent()).trim();
}

/** Clicks a button that downloads; saves the file in `dir`; returns [path, suggested name]. */
async function download(page, name, dir) {
  const [dl] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name }).click(),
  ]);
  const path = join(dir, dl.suggestedFilename());
  await dl.saveAs(path);
  return [path, dl.suggestedFilename()];
}

/** Opens a PKCS#12 with the PIN (no -legacy) and checks it against the root; returns its parts as PEM files. */
function checkPkcs12(p12, pin, dir) {
  const leaf = write(dir, "leaf.pem", openssl(["pkcs12", "-in", p12, "-passin", `pass:${pin}`, "-clcerts", "-nokeys"]));
  const key = write(dir, "key.pem", openssl(["pkcs12", "-in", p12, "-passin", `pass:${pin}`, "-nocerts", "-nodes"]));
  const cas = openssl(["pkcs12", "-in", p12, "-passin", `pass:${pin}`, "-cacerts", "-nokeys"]);
  assert.ok(cas.includes("BEGIN CERTIFICATE"), "the root is in the file");
  assert.ok(openssl(["verify", "-CAfile", ROOT_PEM, leaf]).includes(": OK"));
  // The PIN is case-sensitive.
  assert.throws(() => openssl(["pkcs12", "-in", p12, "-passin", `pass:${pin.toLowerCase()}`, "-nokeys"]));
  const keyPub = openssl(["pkey", "-in", key, "-pubout"]);
  assert.equal(openssl(["x509", "-in", leaf, "-noout", "-pubkey"]), keyPub, "the certificate is for the key in the file");
  return { leaf, key, keyPub };
}

describe("the issuance site in Chromium", () => {
  test("a new issuance walks steps 1 to 3 with the key made in the page", async () => {
    const shot = screenshots("new-issuance");
    const dir = scratch();
    const created = await prepare(mock, { user_id: "B0001", auth_password: "Passw0rd" });
    await withBrowser(async (page) => {
      await step1(page, created.one_time_url, "証明書発行サイト", "Passw0rd", shot);
      await assertStep2(page, "証明書発行サイト");

      const csrBodies = [];
      page.on("request", (r) => { if (r.method() === "POST" && r.url().endsWith("/csr")) csrBodies.push(r.postData()); });

      // The manual's PIN rule: half-width alphanumerics only.
      await page.locator("#pin").fill("ｐｉｎ１２３");
      await page.locator("#pin-confirm").fill("ｐｉｎ１２３");
      await page.getByRole("button", { name: "発行", exact: true }).click();
      assert.ok((await page.locator("#enroll-status").textContent()).includes("半角英数字"));
      assert.equal(csrBodies.length, 0, "no request with a bad PIN");

      const pin = "Webra2Pin";
      await page.locator("#pin").fill(pin);
      await page.locator("#pin-confirm").fill(pin);
      await shot(page, "step2");
      // Pressed twice: one request, one certificate.
      await page.getByRole("button", { name: "発行", exact: true }).dblclick();
      const serial = await assertStep3(page, "証明書発行サイト");
      await page.waitForSelector("#client-cert[data-pkcs12='ready']");
      await shot(page, "step3");
      assert.equal(csrBodies.length, 1, "発行 sent one request");
      assert.ok(csrBodies[0].startsWith("-----BEGIN CERTIFICATE REQUEST-----"));
      assert.match(serial, /^[0-9A-F]+$/);

      const [root, rootName] = await download(page, "ルート CA 証明書のインストール", dir);
      assert.equal(rootName, "root.crt");
      assert.equal(sha1FiveGroups(root, "DER"), ROOT_FP, "the file downloaded is the root whose fingerprint the page shows");

      const [p12, p12Name] = await download(page, "クライアント証明書のインストール", dir);
      assert.equal(p12Name, `B0001-${serial}.p12`);
      const { leaf, keyPub } = checkPkcs12(p12, pin, dir);
      const csr = write(dir, "sent.csr.pem", csrBodies[0]);
      openssl(["req", "-in", csr, "-noout", "-verify"]); // throws unless the signature verifies
      assert.equal(openssl(["req", "-in", csr, "-noout", "-pubkey"]), keyPub, "the key in the file is the key of the request the page sent");
      assert.ok(openssl(["x509", "-in", leaf, "-noout", "-text"]).includes("Public-Key: (1024 bit)"));
      assert.equal(openssl(["x509", "-in", leaf, "-noout", "-serial"]).trim(), `serial=${serial}`);

      // The form sent again by the same session shows the same Step 3, and issues nothing.
      const again = await page.request.post(`${created.one_time_url}/csr`, {
        headers: { accept: "text/html" }, form: { csr: csrBodies[0] },
      });
      assert.equal(again.status(), 200);
      const html = await again.text();
      assert.ok(html.includes("【ステップ3】") && html.includes(serial), "same certificate");
    });
    const state = await enrollment(mock, created.enrollment_id);
    assert.equal(state.state, "issued");
  });

  test("a renewal is the same walk under the renewal title", async () => {
    const shot = screenshots("renewal");
    await issueViaApi(mock, "B0002", "first-pw");
    const created = await prepare(mock, { user_id: "B0002", auth_password: "renew-pw", kind: "renew" });
    await withBrowser(async (page) => {
      await step1(page, created.one_time_url, "証明書更新サイト", "renew-pw", shot);
      await assertStep2(page, "証明書更新サイト");
      await page.locator("#pin").fill("Renew1");
      await page.locator("#pin-confirm").fill("Renew1");
      await shot(page, "step2");
      await page.getByRole("button", { name: "発行", exact: true }).click();
      await assertStep3(page, "証明書更新サイト");
      await page.waitForSelector("#client-cert[data-pkcs12='ready']");
      await shot(page, "step3");
      const dir = scratch();
      const [p12] = await download(page, "クライアント証明書のインストール", dir);
      const { leaf } = checkPkcs12(p12, "Renew1", dir);
      assert.ok(openssl(["x509", "-in", leaf, "-noout", "-subject"]).includes("B0002"));
    });
  });

  test("wrong passwords count down on the step 1 page and the fifth locks the URL", async () => {
    const shot = screenshots("wrong-password-then-lockout");
    const created = await prepare(mock, { user_id: "B0003", auth_password: "right" });
    await withBrowser(async (page) => {
      await page.goto(created.one_time_url);
      for (const left of [4, 3, 2, 1]) {
        await page.getByLabel("認証情報パスワード").fill("wrong");
        const [resp] = await Promise.all([
          page.waitForResponse((r) => r.url().endsWith("/auth")),
          page.getByRole("button", { name: "次へ" }).click(),
        ]);
        await page.waitForLoadState();
        assert.equal(resp.status(), 401);
        await assertFrame(page, "証明書発行サイト", "【ステップ1】");
        assert.equal((await page.locator("#remaining-attempts strong").textContent()).trim(), String(left));
        if (left === 4) await shot(page, "wrong-password");
      }
      await page.getByLabel("認証情報パスワード").fill("wrong");
      const [locked] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith("/auth")),
        page.getByRole("button", { name: "次へ" }).click(),
      ]);
      await page.waitForLoadState();
      assert.equal(locked.status(), 423);
      assert.equal(await page.locator("body").getAttribute("data-problem"), "locked");
      assert.ok((await page.title()).includes("ロック"));
      assert.ok((await page.locator("#next-step").textContent()).includes("管理者"));
      await shot(page, "locked");

      // Locked for good: the right password and the URL itself get the same page.
      const reopened = await page.goto(created.one_time_url);
      assert.equal(reopened.status(), 423);
      assert.equal(await page.locator("body").getAttribute("data-problem"), "locked");
    });
  });

  test("a used URL, an expired URL, a missing and an expired session each get a page that says what to do", async () => {
    const shot = screenshots("error-pages");
    const { created } = await issueViaApi(mock, "B0004", "pw-4");
    const stale = await prepare(mock, { user_id: "B0005", auth_password: "pw-5", url_valid_days: 1 });
    const fresh = await prepare(mock, { user_id: "B0006", auth_password: "pw-6" });
    await withBrowser(async (page) => {
      const used = await page.goto(created.one_time_url);
      assert.equal(used.status(), 410);
      assert.equal(await page.locator("body").getAttribute("data-problem"), "url-already-used");
      assert.ok((await page.title()).includes("発行済み"));
      assert.ok((await page.locator("#next-step").textContent()).includes("管理者"));
      await shot(page, "used-url");

      const gone = await page.goto(`${fresh.one_time_url}/step3`);
      assert.equal(gone.status(), 401);
      assert.equal(await page.locator("body").getAttribute("data-problem"), "session-required");
      assert.ok(await page.getByRole("link", { name: "認証情報パスワードの入力へ戻る" }).isVisible());
      await shot(page, "session-required");
      await page.getByRole("link", { name: "認証情報パスワードの入力へ戻る" }).click();
      await assertFrame(page, "証明書発行サイト", "【ステップ1】");

      // The session gone while Step 2 was open: 発行 shows the page that says to start again.
      await step1(page, fresh.one_time_url, "証明書発行サイト", "pw-6");
      await setClock(mock, new Date(Date.now() + 40 * 60e3).toISOString());
      try {
        await page.locator("#pin").fill("Late1234");
        await page.locator("#pin-confirm").fill("Late1234");
        await page.getByRole("button", { name: "発行", exact: true }).click();
        await page.waitForSelector("body[data-problem='session-expired']");
        assert.ok((await page.title()).includes("セッション"));
        assert.ok(await page.getByRole("link", { name: "認証情報パスワードの入力へ戻る" }).isVisible());
        await shot(page, "session-expired");
      } finally {
        await fetch(`${mock.admin}/admin/clock`, { method: "DELETE" });
      }

      const unknown = await page.goto(`${mock.public}/issue/no-such-token`);
      assert.equal(unknown.status(), 404);
      assert.equal(await page.locator("body").getAttribute("data-problem"), "unknown-url");

      await setClock(mock, new Date(Date.now() + 3 * 86400e3).toISOString());
      try {
        const expired = await page.goto(stale.one_time_url);
        assert.equal(expired.status(), 410);
        assert.equal(await page.locator("body").getAttribute("data-problem"), "url-expired");
        assert.ok((await page.locator("#next-step").textContent()).includes("管理者"));
        await shot(page, "expired-url");
      } finally {
        await fetch(`${mock.admin}/admin/clock`, { method: "DELETE" });
      }
    });
    // API clients still get the problem document.
    const api = await fetch(created.one_time_url, { headers: { accept: "application/json" } });
    assert.equal(api.status, 410);
    assert.equal(api.headers.get("content-type"), "application/problem+json");
  });

  test("the service-made PKCS#12 fallback ends on step 3 with a file that opens with the PIN", async () => {
    const shot = screenshots("server-pkcs12");
    const dir = scratch();
    const created = await prepare(mock, { user_id: "B0007", auth_password: "pw-7" });
    await withBrowser(async (page) => {
      await step1(page, created.one_time_url, "証明書発行サイト", "pw-7", shot);
      await page.locator("#server-pin").fill("Server7");
      await page.locator("#server-pin-confirm").fill("Server7");
      await shot(page, "step2");
      await page.getByRole("button", { name: "サーバーで鍵を生成して発行" }).click();
      const serial = await assertStep3(page, "証明書発行サイト");
      await page.waitForSelector("#client-cert[data-pkcs12='ready']");
      await shot(page, "step3");
      const [p12] = await download(page, "クライアント証明書のインストール", dir);
      const { leaf } = checkPkcs12(p12, "Server7", dir);
      assert.equal(openssl(["x509", "-in", leaf, "-noout", "-serial"]).trim(), `serial=${serial}`);
    });
  });

  test("「古い Windows / macOS 用」 gives the legacy PKCS#12: OpenSSL 3 opens it only with -legacy", async () => {
    const shot = screenshots("server-pkcs12-legacy");
    const dir = scratch();
    const created = await prepare(mock, { user_id: "B0008", auth_password: "pw-8" });
    await withBrowser(async (page) => {
      await step1(page, created.one_time_url, "証明書発行サイト", "pw-8", shot);
      // The profile's PIN rule, in the words the server and the client use.
      const rule = await page.locator("#server-pkcs12 .pin-rule").textContent();
      assert.ok(rule.includes("半角英数字") && rule.includes("1 文字から 1024 文字まで"), rule);
      await page.locator("#server-pin").fill("Old7");
      await page.locator("#server-pin-confirm").fill("Old7");
      await page.getByLabel("古い Windows / macOS 用", { exact: false }).check();
      await shot(page, "step2");
      await page.getByRole("button", { name: "サーバーで鍵を生成して発行" }).click();
      await assertStep3(page, "証明書発行サイト");
      await page.waitForSelector("#client-cert[data-pkcs12='ready']");
      const [p12] = await download(page, "クライアント証明書のインストール", dir);
      assert.throws(() => openssl(["pkcs12", "-in", p12, "-passin", "pass:Old7", "-info", "-nokeys"]));
      const certs = openssl(["pkcs12", "-in", p12, "-passin", "pass:Old7", "-info", "-nokeys", "-legacy"]);
      assert.ok(certs.includes("NEC Certification Authority"), certs);
    });
  });
});
