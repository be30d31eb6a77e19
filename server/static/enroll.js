/*
 * enroll.js: the behaviour of the Step 2 and Step 3 pages, in place of the
 * real site's enrollment control. Served by the mock at /static/enroll.js.
 *
 * Step 2, 発行: check the PIN, generate the key pair in the page, send the
 * PKCS#10 request, show the Step 3 page the service answers, and turn its
 * クライアント証明書のインストール button into the download of a PKCS#12 file
 * (key + certificate + root) encrypted with the PIN. The key stays in this
 * page's memory and leaves it only inside that file.
 *
 * Step 2, the fallback: the service generates the key and answers the PKCS#12
 * file; the page then shows Step 3 with the same button.
 *
 * The button disables itself on the first press: 発行 sends one request only.
 * Without JavaScript the forms still post (a pasted request, or the PIN).
 *
 * A key that is only in this page's memory is guarded: leaving the page
 * (reload, Back, closing) asks first, until its PKCS#12 file is saved. A
 * certificate whose public key is not this page's key (issued in another
 * window of the same session) is never packed with it.
 */
(function () {
  "use strict";
  var W = window.Webra2Crypto;

  function $(id) { return document.getElementById(id); }

  function say(el, text, failed) {
    if (!el) return;
    el.hidden = false;
    el.textContent = text;
    el.classList.toggle("failed", !!failed);
  }

  /** The PIN rule of the manual: half-width alphanumerics, case-sensitive, typed twice. */
  function checkPin(pin, again, status) {
    // The rule and its words come from the profile, as the server says them.
    var rule = pin.form ? pin.form.dataset : {};
    if (!W.validPin(pin.value, Number(rule.pinMin), Number(rule.pinMax))) {
      say(status, rule.pinRule || "PIN は半角英数字 (0-9 A-Z a-z) で入力してください。", true);
      pin.focus();
      return null;
    }
    if (pin.value !== again.value) {
      say(status, "PIN と PIN (確認) が一致しません。", true);
      again.focus();
      return null;
    }
    return pin.value;
  }

  /** Shows a page the service answered in place of this one (the key stays in memory). */
  function showPage(html, url) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    document.title = doc.title;
    document.body.replaceWith(document.adoptNode(doc.body));
    if (url) history.replaceState(null, "", url);
    // Focus follows the content: keyboard and screen reader users start at the new heading.
    var heading = $("page-heading");
    if (heading) heading.focus();
  }

  // ---- the key only in memory ---------------------------------------------
  function holdOn(event) {
    event.preventDefault();
    event.returnValue = "";
    return "";
  }
  function guardKey() { window.addEventListener("beforeunload", holdOn); }
  function releaseKey() { window.removeEventListener("beforeunload", holdOn); }

  /** Whether `certDer` is the certificate of the key pair `keys`. */
  async function certificateIsFor(certDer, keys) {
    return W.samePublicKey(W.certificateSpki(certDer), await W.publicKeyDer(keys));
  }

  function otherWindow() {
    releaseKey();
    var button = $("client-cert");
    if (button) {
      button.removeAttribute("href");
      button.setAttribute("aria-disabled", "true");
      button.dataset.pkcs12 = "other-window";
    }
    var note = $("no-key-note");
    if (note) note.hidden = true;
    say($("pkcs12-status"),
      "この証明書は、別のウィンドウ (タブ) で先に発行されたものです。" +
      "このページで生成した鍵はこの証明書と対にならないため、このページでは PKCS#12 ファイルを作りません。" +
      "証明書と秘密鍵をまとめたファイルは、先に「発行」を押したウィンドウのステップ3で" +
      "「クライアント証明書のインストール」を押して保存してください。" +
      "そのウィンドウを閉じてしまった場合は、管理者に証明書の再発行を依頼してください。", true);
  }

  function offerPkcs12(bytes) {
    var button = $("client-cert");
    if (!button) return;
    var name = (document.body.dataset.userId || "client") + "-" + (document.body.dataset.serial || "") + ".p12";
    button.href = URL.createObjectURL(new Blob([bytes], { type: "application/x-pkcs12" }));
    button.download = name;
    button.dataset.pkcs12 = "ready";
    var note = $("no-key-note");
    if (note) note.hidden = true;
    // Saved once, the key is in the file: leaving the page loses nothing.
    button.addEventListener("click", releaseKey);
    guardKey();
    say($("pkcs12-status"),
      "クライアント証明書と秘密鍵を PKCS#12 ファイル (" + name + ") にまとめました。" +
      "インストールのときに、ステップ2で決めた PIN を入力してください。");
  }

  async function fetchBytes(url) {
    var resp = await fetch(url, { credentials: "same-origin" });
    if (!resp.ok) throw new Error(url + ": HTTP " + resp.status);
    return new Uint8Array(await resp.arrayBuffer());
  }

  function start(form, button) {
    if (form.dataset.sent) return false;
    form.dataset.sent = "1";
    button.disabled = true;
    return true;
  }

  function reset(form, button) {
    delete form.dataset.sent;
    button.disabled = false;
  }

  async function issueInPage(form) {
    var button = $("issue"), status = $("enroll-status");
    var pin = checkPin($("pin"), $("pin-confirm"), status);
    if (pin === null || !start(form, button)) return;
    try {
      var bits = Number(form.dataset.keyLength);
      say(status, "鍵を生成しています (RSA " + bits + " bit)…");
      var keys = await W.generateKey(bits);
      guardKey();
      var csr = await W.buildCsr(keys);
      say(status, "証明書を発行しています…");
      var resp = await fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/x-pem-file", "Accept": "text/html" },
        body: W.pem("CERTIFICATE REQUEST", csr)
      });
      var html = await resp.text();
      if (!resp.ok) { releaseKey(); showPage(html); return; }
      showPage(html, form.dataset.step3);
      var cert = await fetchBytes($("cert-der").getAttribute("href"));
      // 発行 pressed in two windows: the service issued once, to the other one.
      if (!(await certificateIsFor(cert, keys))) { otherWindow(); return; }
      var root = await fetchBytes($("root-ca").getAttribute("href"));
      offerPkcs12(await W.buildPkcs12(keys.privateKey, cert, root, pin, document.body.dataset.userId));
    } catch (err) {
      releaseKey();
      var after = $("pkcs12-status");
      if (after) { say(after, "PKCS#12 ファイルを作れませんでした: " + err.message, true); return; }
      say(status, "発行できませんでした: " + err.message, true);
      reset(form, button);
    }
  }

  /** The PKCS#12 form chosen (「古い Windows / macOS 用」 is legacy). */
  function compatChoice(form) {
    var checked = form.querySelector('input[name="compat"]:checked');
    return checked ? checked.value : "modern";
  }

  async function issueOnServer(form) {
    var button = $("server-issue"), status = $("server-status");
    var pin = checkPin($("server-pin"), $("server-pin-confirm"), status);
    if (pin === null || !start(form, button)) return;
    try {
      say(status, "サーバーで鍵を生成しています…");
      var resp = await fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/x-pkcs12, text/html" },
        body: JSON.stringify({ pin: pin, compat: compatChoice(form) })
      });
      if (!resp.ok) { showPage(await resp.text()); return; }
      var p12 = new Uint8Array(await resp.arrayBuffer());
      var page = await fetch(form.dataset.step3, { credentials: "same-origin", headers: { "Accept": "text/html" } });
      showPage(await page.text(), page.ok ? form.dataset.step3 : null);
      offerPkcs12(p12);
    } catch (err) {
      say(status, "発行できませんでした: " + err.message, true);
      reset(form, button);
    }
  }

  // With the key made in the page available, the pasted request is the fallback: folded.
  var paste = $("paste");
  if (paste && W && window.crypto && window.crypto.subtle) paste.open = false;

  // A corrected PIN clears the complaint about the old one.
  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (!form) return;
    var status = form.querySelector(".status.failed");
    if (status) { status.textContent = ""; status.classList.remove("failed"); }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id === "enroll") {
      var pasted = $("csr") && $("csr").value.trim();
      if (pasted || !W || !window.crypto || !window.crypto.subtle) {
        // A request made elsewhere is posted as a form, once.
        if (form.dataset.sent) { event.preventDefault(); return; }
        form.dataset.sent = "1";
        return;
      }
      event.preventDefault();
      issueInPage(form);
    } else if (form.id === "server-pkcs12") {
      event.preventDefault();
      issueOnServer(form);
    }
  });
})();
