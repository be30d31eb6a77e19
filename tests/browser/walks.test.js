// The site as a person walks it (issue 14): two tabs, Back and reload, no
// JavaScript, the confirmation page, a phone, the keyboard alone; and every
// page of the three listeners checked by axe-core and for console errors.
// Run: cargo build -p webra2-mock && (cd tests/browser && npm ci && npm test)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  OPENSSL_ENV, ROOT_PEM, axeViolations, mails, openssl, prepare, scratch, screenshots,
  sha1FiveGroups, startBrowser, startMock, watchPage,
} from "./lib/harness.js";
import { execFileSync } from "node:child_process";

const ROOT_FP = sha1FiveGroups(ROOT_PEM);
const ROOT_NAME = "NEC Certification Authority";
/** One date format, as the Windows certificate dialog writes it. */
const VALIDITY = /^\d{4}\/\d{2}\/\d{2} ～ \d{4}\/\d{2}\/\d{2}$/;
const PHONE = { width: 390, height: 844 };

let mock;
before(async () => { mock = await startMock(); });
after(async () => { await mock?.stop(); });

let users = 0;
/** A fresh enrollment for a test: [created, password]. */
async function enroll() {
  users += 1;
  const userId = `W${String(users).padStart(4, "0")}`;
  const password = `pw-${userId}`;
  return [await prepare(mock, { user_id: userId, auth_password: password }), password, userId];
}

async function withBrowser(options, fn) {
  const browser = await startBrowser(options);
  try { return await fn(browser.page, browser.context); } finally { await browser.close(); }
}

async function step1(page, url, password) {
  await page.goto(url);
  await page.getByLabel("認証情報パスワード").fill(password);
  await Promise.all([page.waitForURL(/\/auth$/), page.getByRole("button", { name: "次へ" }).click()]);
  await page.waitForSelector("body[data-step='2']");
}

/** Step 2 with the key made in the page; waits for Step 3's file. */
async function issueInPage(page, pin) {
  await page.locator("#pin").fill(pin);
  await page.locator("#pin-confirm").fill(pin);
  await page.getByRole("button", { name: "発行", exact: true }).click();
  await page.waitForSelector("body[data-step='3']");
}

/** Clicks what downloads; saves the file in `dir`; returns its path. */
async function download(page, act, dir) {
  const [dl] = await Promise.all([page.waitForEvent("download"), act()]);
  const path = join(dir, dl.suggestedFilename());
  await dl.saveAs(path);
  return path;
}

/** The public key of a PKCS#12's certificate and of its key, as PEM (they must be equal). */
function p12Keys(p12, pin) {
  const cert = openssl(["pkcs12", "-in", p12, "-passin", `pass:${pin}`, "-clcerts", "-nokeys"]);
  const key = openssl(["pkcs12", "-in", p12, "-passin", `pass:${pin}`, "-nocerts", "-nodes"]);
  return [openssl(["x509", "-noout", "-pubkey"], cert), openssl(["pkey", "-pubout"], key)];
}

/** A request made outside the browser (a user without JavaScript). */
function opensslCsr(dir, cn) {
  execFileSync("openssl", ["req", "-new", "-newkey", "rsa:1024", "-nodes", "-sha256",
    "-keyout", join(dir, "key.pem"), "-out", join(dir, "csr.pem"), "-subj", `/CN=${cn}`],
  { env: OPENSSL_ENV, stdio: "pipe" });
  return execFileSync("cat", [join(dir, "csr.pem")]).toString();
}

/**
 * Whether the page is wider than the phone: it scrolls sideways, or (a mobile
 * browser zooms out to fit a wide page) shows everything small.
 */
async function scrollsSideways(page) {
  const [scrollWidth, scale] = await page.evaluate(() => [document.documentElement.scrollWidth, window.visualViewport.scale]);
  return scrollWidth > PHONE.width || scale < 1;
}

/** A browser that presents the PKCS#12 to the confirm listener. */
function confirmOptions(p12, pin) {
  return {
    ignoreHTTPSErrors: true,
    clientCertificates: [{ origin: new URL(mock.confirm).origin, pfxPath: p12, passphrase: pin }],
  };
}

/** Issues in the page and saves the PKCS#12: [p12 path, serial, validity shown on Step 3]. */
async function issuedFile(pin) {
  const [created, password] = await enroll();
  const dir = scratch();
  return withBrowser({}, async (page) => {
    await step1(page, created.one_time_url, password);
    await issueInPage(page, pin);
    await page.waitForSelector("#client-cert[data-pkcs12='ready']");
    const p12 = await download(page, () => page.locator("#client-cert").click(), dir);
    const validity = (await page.locator("#validity").count()) ? (await page.locator("#validity").textContent()).trim() : null;
    return [p12, (await page.locator("#serial").textContent()).trim(), validity];
  });
}

describe("the site as a person walks it", () => {
  test("two tabs of one session: the second tab sees the certificate is not for its key and offers no file", async () => {
    const shot = screenshots("two-tabs");
    const [created, password] = await enroll();
    const dir = scratch();
    await withBrowser({}, async (first, context) => {
      const second = await context.newPage();
      second.setDefaultTimeout(10000);
      await step1(first, created.one_time_url, password);
      await step1(second, created.one_time_url, password);

      await issueInPage(first, "FirstTab1");
      await first.waitForSelector("#client-cert[data-pkcs12='ready']");
      await issueInPage(second, "SecondTab2");
      // The same certificate on both…
      assert.equal(await second.locator("body").getAttribute("data-serial"), await first.locator("body").getAttribute("data-serial"));
      // …but only the first tab holds its key.
      await second.waitForSelector("#client-cert[data-pkcs12='other-window']");
      const said = await second.locator("#pkcs12-status").textContent();
      assert.ok(said.includes("別のウィンドウ") && said.includes("先に「発行」を押したウィンドウ"), said);
      assert.equal(await second.locator("#client-cert").getAttribute("href"), null, "nothing to download in the second tab");
      assert.equal(await second.locator("#client-cert").getAttribute("aria-disabled"), "true");
      await shot(second, "second-tab");

      const p12 = await download(first, () => first.locator("#client-cert").click(), dir);
      const [certKey, fileKey] = p12Keys(p12, "FirstTab1");
      assert.equal(certKey, fileKey, "the first tab's file holds the certificate's key");
    });
  });

  test("Back from step 3 shows step 3 again; a browser without the session is told the certificate was issued", async () => {
    const shot = screenshots("back-and-used-url");
    const [created, password] = await enroll();
    const dir = scratch();
    await withBrowser({}, async (page) => {
      await step1(page, created.one_time_url, password);
      await issueInPage(page, "BackPin1");
      await page.waitForSelector("#client-cert[data-pkcs12='ready']");
      const serial = await page.locator("body").getAttribute("data-serial");
      await download(page, () => page.locator("#client-cert").click(), dir);

      await page.goBack();
      await page.waitForSelector("body[data-step='3']");
      assert.equal(await page.locator("body").getAttribute("data-serial"), serial);
      assert.equal(await page.locator("body").getAttribute("data-problem"), null);
      assert.ok(page.url().endsWith("/step3"), page.url());
      await shot(page, "back-to-step3");
    });
    await withBrowser({}, async (page) => {
      for (const url of [created.one_time_url, `${created.one_time_url}/step3`]) {
        await page.goto(url);
        assert.equal(await page.locator("body").getAttribute("data-problem"), "url-already-used", url);
        assert.ok((await page.title()).includes("発行済み"), await page.title());
        const next = await page.locator("#next-step").textContent();
        assert.ok(next.includes("インストール") && next.includes("ステップ3"), next);
        assert.ok(!next.includes("認証情報パスワードを入力し直して"), next);
        assert.equal(await page.getByRole("link", { name: "認証情報パスワードの入力へ戻る" }).count(), 0);
      }
      await shot(page, "already-issued");
    });
  });

  test("reload at step 3 asks first while the key is only in the page, and step 3 says what a reload loses", async () => {
    const shot = screenshots("reload");
    const [created, password] = await enroll();
    const dir = scratch();
    await withBrowser({}, async (page) => {
      await step1(page, created.one_time_url, password);
      await issueInPage(page, "ReloadPin1");
      await page.waitForSelector("#client-cert[data-pkcs12='ready']");
      const warning = await page.locator("#reload-warning").textContent();
      assert.ok(warning.includes("再読み込み") && warning.includes("秘密鍵は失われ"), warning);

      const asked = page.waitForEvent("dialog");
      await page.evaluate(() => { setTimeout(() => location.reload(), 0); });
      const dialog = await asked;
      assert.equal(dialog.type(), "beforeunload");
      await dialog.dismiss();
      // Still the same page, with the file still on offer.
      await page.waitForSelector("#client-cert[data-pkcs12='ready']");

      // Once saved, nothing is lost: a reload asks nothing and shows step 3 from the service.
      await download(page, () => page.locator("#client-cert").click(), dir);
      const dialogs = [];
      page.on("dialog", (d) => { dialogs.push(d.type()); d.dismiss(); });
      await page.reload();
      await page.waitForSelector("body[data-step='3']");
      assert.deepEqual(dialogs, []);
      assert.equal(await page.locator("#client-cert").getAttribute("data-pkcs12"), null);
      assert.ok(await page.locator("#no-key-note").isVisible(), "step 3 from the service says the key is not here");
      await shot(page, "reloaded");
    });
  });

  test("without JavaScript step 2 says so up front, a pasted request works, and the root check comes before the service-made file", async () => {
    const shot = screenshots("no-javascript");
    const dir = scratch();
    const [pasted, pw1, user1] = await enroll();
    await withBrowser({ javaScriptEnabled: false }, async (page) => {
      await page.goto(pasted.one_time_url);
      await page.getByLabel("認証情報パスワード").fill(pw1);
      await page.getByRole("button", { name: "次へ" }).click();
      await page.waitForSelector("body[data-step='2']");
      const notice = page.locator("#no-javascript");
      assert.ok(await notice.isVisible(), "the notice is shown");
      const text = await notice.textContent();
      assert.ok(text.includes("JavaScript") && text.includes("証明書要求を貼り付けて") && text.includes("鍵をサーバーで生成"), text);
      assert.ok(!(await page.locator("#pin").isVisible()), "the PIN of the in-page key is not offered");
      // The root check precedes the service-made file's button.
      const check = page.locator("#server-root-check");
      assert.equal((await check.locator(".fingerprint").textContent()).trim(), ROOT_FP);
      assert.ok((await check.textContent()).includes(ROOT_NAME));
      const [checkBox, buttonBox] = [await check.boundingBox(), await page.locator("#server-issue").boundingBox()];
      assert.ok(checkBox.y < buttonBox.y, "the fingerprint is shown above the button");
      await shot(page, "step2");

      await page.getByLabel("証明書要求 (PEM または Base64)").fill(opensslCsr(dir, user1));
      await page.getByRole("button", { name: "発行", exact: true }).click();
      await page.waitForSelector("body[data-step='3']");
      assert.match((await page.locator("#validity").textContent()).trim(), VALIDITY);
      assert.ok(await page.locator("#no-key-note").isVisible());
      await shot(page, "step3");
    });

    const [served, pw2] = await enroll();
    await withBrowser({ javaScriptEnabled: false }, async (page) => {
      await page.goto(served.one_time_url);
      await page.getByLabel("認証情報パスワード").fill(pw2);
      await page.getByRole("button", { name: "次へ" }).click();
      await page.waitForSelector("body[data-step='2']");
      // 発行 alone, nothing pasted: the page says why and which ways work.
      await page.getByRole("button", { name: "発行", exact: true }).click();
      await page.waitForSelector("body[data-problem='bad-csr']");
      const next = await page.locator("#next-step").textContent();
      assert.ok(next.includes("JavaScript") && next.includes("鍵をサーバーで生成する"), next);
      await page.getByRole("link", { name: "認証情報パスワードの入力へ戻る" }).click();
      await page.getByLabel("認証情報パスワード").fill(pw2);
      await page.getByRole("button", { name: "次へ" }).click();
      await page.waitForSelector("body[data-step='2']");
      await page.locator("#server-pin").fill("NoScript9");
      const p12 = await download(page, () => page.getByRole("button", { name: "サーバーで鍵を生成して発行" }).click(), dir);
      const [certKey, fileKey] = p12Keys(p12, "NoScript9");
      assert.equal(certKey, fileKey);
    });
  });

  test("the confirmation page has the site's style, a viewport, one date format and a link back to the site", async () => {
    const shot = screenshots("confirmation");
    const [p12, serial, validity] = await issuedFile("Confirm12");
    await withBrowser(confirmOptions(p12, "Confirm12"), async (page) => {
      const problems = watchPage(page);
      const resp = await page.goto(mock.confirm);
      assert.equal(resp.status(), 200);
      assert.deepEqual(problems, [], "the style sheet loads from the confirm listener");
      const background = await page.locator("h2.step").evaluate((h) => getComputedStyle(h).backgroundColor);
      assert.equal(background, "rgb(29, 79, 145)", "site.css is applied");
      assert.equal(await page.locator("meta[name=viewport]").count(), 1);
      assert.equal((await page.locator("#serial").textContent()).trim(), serial);
      assert.match(validity, VALIDITY);
      assert.equal((await page.locator("#validity").textContent()).trim(), validity, "the same dates as step 3");
      await shot(page, "confirmation");

      const back = page.getByRole("link", { name: "証明書発行サイトへ戻る" });
      assert.equal(await back.getAttribute("href"), `${mock.public}/`);
      await back.click();
      await page.waitForURL(`${mock.public}/`);
      assert.equal((await page.locator("#sha1").textContent()).trim(), ROOT_FP);
      assert.deepEqual(problems, []);
    });
  });

  test("on a phone (390 px) no page scrolls sideways", async () => {
    const shot = screenshots("phone");
    const [created, password] = await enroll();
    const [p12] = await issuedFile("PhonePin1");
    await withBrowser({ viewport: PHONE, isMobile: true, hasTouch: true }, async (page) => {
      await page.goto(`${mock.public}/`);
      assert.ok(!(await scrollsSideways(page)), "front page");
      await page.goto(created.one_time_url);
      assert.ok(!(await scrollsSideways(page)), "step 1");
      await page.getByLabel("認証情報パスワード").fill(password);
      await page.getByRole("button", { name: "次へ" }).click();
      await page.waitForSelector("body[data-step='2']");
      await page.locator("#paste summary").click();
      assert.ok(await page.locator("#csr").isVisible());
      assert.ok(!(await scrollsSideways(page)), "step 2 with the request area open");
      await shot(page, "step2");
      await issueInPage(page, "PhonePin1");
      await page.waitForSelector("#client-cert[data-pkcs12='ready']");
      assert.ok(!(await scrollsSideways(page)), "step 3");
      await shot(page, "step3");
      await page.goto(`${mock.public}/issue/no-such-token`);
      assert.ok(!(await scrollsSideways(page)), "an error page");
    });
    await withBrowser({ viewport: PHONE, isMobile: true, ...confirmOptions(p12, "PhonePin1") }, async (page) => {
      await page.goto(mock.confirm);
      assert.ok(!(await scrollsSideways(page)), "the confirmation page");
      await shot(page, "confirmation");
    });
  });

  test("with the keyboard alone: focus moves to step 3's heading and button links answer Space", async () => {
    const [created, password] = await enroll();
    const dir = scratch();
    await withBrowser({}, async (page) => {
      const tabTo = async (id) => {
        for (let i = 0; i < 30; i += 1) {
          await page.keyboard.press("Tab");
          if (await page.evaluate(() => document.activeElement && document.activeElement.id) === id) return;
        }
        assert.fail(`Tab never reached #${id}`);
      };
      await page.goto(created.one_time_url);
      await tabTo("auth_password");
      await page.keyboard.type(password);
      await page.keyboard.press("Enter");
      await page.waitForSelector("body[data-step='2']");
      await tabTo("pin");
      await page.keyboard.type("KeysOnly1");
      await tabTo("pin-confirm");
      await page.keyboard.type("KeysOnly1");
      await tabTo("issue");
      await page.keyboard.press("Space");
      await page.waitForSelector("#client-cert[data-pkcs12='ready']");
      assert.equal(await page.evaluate(() => document.activeElement.id), "page-heading", "focus is on step 3's heading");
      assert.ok((await page.evaluate(() => document.activeElement.textContent)).includes("【ステップ3】"));

      await tabTo("root-ca");
      const root = await download(page, () => page.keyboard.press("Space"), dir);
      assert.equal(sha1FiveGroups(root, "DER"), ROOT_FP);
      await tabTo("client-cert");
      const p12 = await download(page, () => page.keyboard.press("Space"), dir);
      const [certKey, fileKey] = p12Keys(p12, "KeysOnly1");
      assert.equal(certKey, fileKey);
    });
  });

  test("step 3 names the root as the manual's check does and says where each file goes on Windows, macOS and Firefox", async () => {
    const shot = screenshots("step3-words");
    const [created, password, userId] = await enroll();
    await withBrowser({}, async (page) => {
      await step1(page, created.one_time_url, password);
      await issueInPage(page, "WordsPin1");
      await page.waitForSelector("#client-cert[data-pkcs12='ready']");
      assert.equal((await page.locator("#root-name").textContent()).trim(), ROOT_NAME);
      const subject = openssl(["x509", "-in", ROOT_PEM, "-noout", "-subject", "-nameopt", "RFC2253"]).replace(/^subject=/, "").trim();
      assert.equal((await page.locator("#root-subject").textContent()).trim(), subject);
      assert.match((await page.locator("#validity").textContent()).trim(), VALIDITY);
      for (const [id, words] of [
        ["guide-windows", ["信頼されたルート証明機関", "個人", "拇印"]],
        ["guide-macos", ["キーチェーン", "常に信頼", ROOT_NAME]],
        ["guide-firefox", ["認証局証明書", "あなたの証明書", "この認証局によるウェブサイトの識別を信頼する"]],
      ]) {
        const text = await page.locator(`#${id}`).textContent();
        for (const w of words) assert.ok(text.includes(w), `${id} lacks ${w}`);
      }
      // The README's picture: without the focus ring of the heading.
      await page.locator("#page-heading").evaluate((h) => h.blur());
      await shot(page, "step3");
    });
    const [mail] = await mails(mock, `${userId.toLowerCase()}@example.test`);
    assert.ok(mail.body.includes(`ユーザーID: ${userId}`), mail.body);
    assert.ok(!/ユーザID|このURL/.test(mail.body), mail.body);
  });

  test("every page of the three listeners: no serious accessibility violation (axe-core), no console error, no failed request, one way of writing", async () => {
    const [created, password] = await enroll();
    const [used] = await enroll();
    const [p12] = await issuedFile("EveryPage1");
    const seen = [];
    /** Checks the page the browser shows now. */
    async function check(page, problems, name) {
      const violations = await axeViolations(page);
      assert.deepEqual(violations, [], `${name}: axe`);
      assert.deepEqual(problems.splice(0), [], `${name}: console and network`);
      const text = await page.locator("body").textContent();
      for (const wrong of [/このURL/, /ユーザID/, /\d{4}年\d{1,2}月/, /\d{4}-\d{2}-\d{2}/]) {
        assert.ok(!wrong.test(text), `${name} writes ${wrong}`);
      }
      seen.push(name);
    }
    await withBrowser({}, async (page) => {
      const problems = watchPage(page);
      await page.goto(`${mock.public}/`);
      await check(page, problems, "front page");
      await page.goto(created.one_time_url);
      await check(page, problems, "step 1");
      await page.getByLabel("認証情報パスワード").fill("wrong");
      await page.getByRole("button", { name: "次へ" }).click();
      await page.waitForSelector("#remaining-attempts");
      await check(page, problems, "step 1, wrong password");
      await page.getByLabel("認証情報パスワード").fill(password);
      await page.getByRole("button", { name: "次へ" }).click();
      await page.waitForSelector("body[data-step='2']");
      await page.locator("#paste summary").click();
      await check(page, problems, "step 2");
      await page.locator("#paste summary").click();
      await issueInPage(page, "EveryPage2");
      await page.waitForSelector("#client-cert[data-pkcs12='ready']");
      await page.locator("#install-guide details").evaluateAll((ds) => ds.forEach((d) => { d.open = true; }));
      await check(page, problems, "step 3");
      for (const [path, name] of [
        ["/issue/no-such-token", "unknown URL"],
        [`/issue/${new URL(used.one_time_url).pathname.split("/")[2]}/step3`, "session required"],
        [new URL(created.one_time_url).pathname.replace(/$/, "/nope"), "not found"],
        ["/static/nope.css", "no such file"],
      ]) {
        await page.goto(`${mock.public}${path}`);
        assert.ok(await page.locator("body").getAttribute("data-problem"), name);
        await page.locator("#problem-detail").evaluate((d) => { d.open = true; });
        await check(page, problems, name);
      }
    });
    await withBrowser({}, async (page) => {
      const problems = watchPage(page);
      await page.goto(created.one_time_url);
      await check(page, problems, "used URL");
      await page.goto(`${mock.admin}/admin/mails`);
      assert.deepEqual(problems.splice(0), [], "admin listener");
    });
    await withBrowser({ ignoreHTTPSErrors: true }, async (page) => {
      const problems = watchPage(page);
      const resp = await page.goto(mock.confirm);
      assert.equal(resp.status(), 401);
      await check(page, problems, "confirmation without a certificate");
    });
    await withBrowser(confirmOptions(p12, "EveryPage1"), async (page) => {
      const problems = watchPage(page);
      await page.goto(mock.confirm);
      await check(page, problems, "confirmation page");
    });
    assert.equal(seen.length, 12, seen.join(", "));
  });
});

