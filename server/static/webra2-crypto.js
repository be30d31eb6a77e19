/*
 * webra2-crypto.js: what the enrollment control of the real site did, done in
 * the page with WebCrypto. A key pair is generated in the browser, a PKCS#10
 * request is built and signed here, and the certificate comes back as a
 * PKCS#12 file protected by the user's PIN. The private key never leaves the
 * page except inside that PIN-encrypted file, which the user downloads.
 *
 * A small DER writer instead of a bundled ASN.1 library: the structures are
 * few and fixed (RFC 2986, RFC 7292, RFC 8018), the writer is ~40 lines, and
 * nothing has to be rebuilt or vendored.
 *
 * Served by the mock itself at /static/webra2-crypto.js; also loadable in
 * Node (>= 20, which has globalThis.crypto) for checks outside a browser.
 */
(function (root) {
  "use strict";
  var subtle = root.crypto && root.crypto.subtle;

  // ---- DER writer -------------------------------------------------------
  function concat(parts) {
    var n = 0, i;
    for (i = 0; i < parts.length; i++) n += parts[i].length;
    var out = new Uint8Array(n), at = 0;
    for (i = 0; i < parts.length; i++) { out.set(parts[i], at); at += parts[i].length; }
    return out;
  }
  function len(n) {
    if (n < 0x80) return Uint8Array.of(n);
    var bytes = [];
    while (n > 0) { bytes.unshift(n & 0xff); n = Math.floor(n / 256); }
    return Uint8Array.from([0x80 | bytes.length].concat(bytes));
  }
  function tlv(tag, body) { return concat([Uint8Array.of(tag), len(body.length), body]); }
  function seq() { return tlv(0x30, concat(Array.prototype.slice.call(arguments))); }
  function set() { return tlv(0x31, concat(Array.prototype.slice.call(arguments))); }
  function octets(b) { return tlv(0x04, b); }
  function bits(b) { return tlv(0x03, concat([Uint8Array.of(0), b])); }
  function nul() { return Uint8Array.of(0x05, 0x00); }
  function explicit(n, body) { return tlv(0xa0 + n, body); }
  function int(n) {
    var bytes = [];
    do { bytes.unshift(n & 0xff); n = Math.floor(n / 256); } while (n > 0);
    if (bytes[0] & 0x80) bytes.unshift(0);
    return tlv(0x02, Uint8Array.from(bytes));
  }
  function oid(dotted) {
    var arcs = dotted.split(".").map(Number), out = [arcs[0] * 40 + arcs[1]];
    for (var i = 2; i < arcs.length; i++) {
      var a = arcs[i], chunk = [a & 0x7f];
      while ((a = Math.floor(a / 128)) > 0) chunk.unshift(0x80 | (a & 0x7f));
      out = out.concat(chunk);
    }
    return tlv(0x06, Uint8Array.from(out));
  }
  function utf8(s) { return tlv(0x0c, new TextEncoder().encode(s)); }
  function bmp(s) {
    var out = new Uint8Array(s.length * 2);
    for (var i = 0; i < s.length; i++) { out[2 * i] = s.charCodeAt(i) >> 8; out[2 * i + 1] = s.charCodeAt(i) & 0xff; }
    return out;
  }

  var OID = {
    rsaSha256: "1.2.840.113549.1.1.11",
    commonName: "2.5.4.3",
    data: "1.2.840.113549.1.7.1",
    encryptedData: "1.2.840.113549.1.7.6",
    pbes2: "1.2.840.113549.1.5.13",
    pbkdf2: "1.2.840.113549.1.5.12",
    hmacSha256: "1.2.840.113549.2.9",
    aes256cbc: "2.16.840.1.101.3.4.1.42",
    sha256: "2.16.840.1.101.3.4.2.1",
    shroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
    certBag: "1.2.840.113549.1.12.10.1.3",
    x509Certificate: "1.2.840.113549.1.9.22.1",
    friendlyName: "1.2.840.113549.1.9.20",
    localKeyId: "1.2.840.113549.1.9.21"
  };

  // ---- encodings ----------------------------------------------------------
  function toBase64(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s);
  }
  function fromBase64(text) {
    var s = atob(text.replace(/[^A-Za-z0-9+/=]/g, ""));
    var out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  function pem(label, der) {
    var b64 = toBase64(der), lines = [];
    for (var i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
    return "-----BEGIN " + label + "-----\n" + lines.join("\n") + "\n-----END " + label + "-----\n";
  }
  function random(n) { var b = new Uint8Array(n); root.crypto.getRandomValues(b); return b; }

  // ---- the PIN -----------------------------------------------------------
  /**
   * The manual's rule: half-width alphanumerics, case-sensitive; 4 to 128 of
   * them, the lengths the service's own PKCS#12 path takes.
   */
  /** The manual's PIN rule: half-width alphanumerics, case-sensitive, `min` to `max`
   *  characters (the profile's; without them 1 to 4096, the widest a profile allows). */
  function validPin(pin, min, max) {
    var lo = min || 1, hi = max || 4096;
    return typeof pin === "string" && /^[A-Za-z0-9]*$/.test(pin) && pin.length >= lo && pin.length <= hi;
  }

  // ---- key and PKCS#10 ---------------------------------------------------
  /** An RSA key pair of `bits` for signing; extractable so it can go into the PKCS#12. */
  function generateKey(bits) {
    return subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: bits, publicExponent: Uint8Array.of(1, 0, 1), hash: "SHA-256" },
      true, ["sign", "verify"]);
  }

  /** A PKCS#10 request (DER) for the key pair, signed with SHA-256. The CA decides the subject. */
  async function buildCsr(keys, commonName) {
    var spki = new Uint8Array(await subtle.exportKey("spki", keys.publicKey));
    var subject = seq(set(seq(oid(OID.commonName), utf8(commonName || "webra2 browser key"))));
    var info = seq(int(0), subject, spki, tlv(0xa0, new Uint8Array(0)));
    var sig = new Uint8Array(await subtle.sign("RSASSA-PKCS1-v1_5", keys.privateKey, info));
    return seq(info, seq(oid(OID.rsaSha256), nul()), bits(sig));
  }

  // ---- reading a certificate ----------------------------------------------
  /** The TLV at `at` of `der`: tag, and where its body starts and it ends. */
  function readTlv(der, at) {
    if (at + 2 > der.length) throw new Error("DER が途中で切れています");
    var first = der[at + 1], start = at + 2, n = first;
    if (first & 0x80) {
      var count = first & 0x7f;
      if (count < 1 || count > 4) throw new Error("DER の長さを読めません");
      n = 0;
      for (var i = 0; i < count; i++) n = n * 256 + der[start + i];
      start += count;
    }
    if (start + n > der.length) throw new Error("DER が途中で切れています");
    return { tag: der[at], at: at, start: start, end: start + n };
  }
  function children(der, node) {
    var out = [], at = node.start;
    while (at < node.end) { var c = readTlv(der, at); out.push(c); at = c.end; }
    return out;
  }

  /** The SubjectPublicKeyInfo (DER) of an X.509 certificate (DER). */
  function certificateSpki(certDer) {
    var cert = readTlv(certDer, 0);
    var tbs = children(certDer, cert)[0];
    var fields = children(certDer, tbs);
    // [0] version is optional; then serial, signature, issuer, validity, subject, key.
    var spki = fields[(fields[0] && fields[0].tag === 0xa0 ? 1 : 0) + 5];
    if (!spki || spki.tag !== 0x30) throw new Error("証明書の公開鍵を読めません");
    return certDer.slice(spki.at, spki.end);
  }

  /** The SubjectPublicKeyInfo (DER) of a generated key pair. */
  async function publicKeyDer(keys) {
    return new Uint8Array(await subtle.exportKey("spki", keys.publicKey));
  }

  /** Whether two SubjectPublicKeyInfos hold the same key (their BIT STRINGs, byte for byte). */
  function samePublicKey(a, b) {
    function key(spki) {
      var parts = children(spki, readTlv(spki, 0)), bitString = parts[parts.length - 1];
      return spki.slice(bitString.start, bitString.end);
    }
    var x = key(a), y = key(b);
    if (x.length !== y.length) return false;
    for (var i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }

  // ---- PKCS#12 -----------------------------------------------------------
  var ITERATIONS = 2048;

  /** PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), as OpenSSL 3 writes it by default. */
  async function pbes2Encrypt(pin, plain) {
    var salt = random(16), iv = random(16);
    var base = await subtle.importKey("raw", new TextEncoder().encode(pin), "PBKDF2", false, ["deriveKey"]);
    var key = await subtle.deriveKey(
      { name: "PBKDF2", salt: salt, iterations: ITERATIONS, hash: "SHA-256" },
      base, { name: "AES-CBC", length: 256 }, false, ["encrypt"]);
    var enc = new Uint8Array(await subtle.encrypt({ name: "AES-CBC", iv: iv }, key, plain));
    var alg = seq(oid(OID.pbes2), seq(
      seq(oid(OID.pbkdf2), seq(octets(salt), int(ITERATIONS), seq(oid(OID.hmacSha256), nul()))),
      seq(oid(OID.aes256cbc), octets(iv))));
    return { alg: alg, enc: enc };
  }

  /** RFC 7292 appendix B key derivation, ID 3 (MAC key), SHA-256: one block suffices for 32 bytes. */
  async function pkcs12MacKey(pin, salt, iterations) {
    var v = 64, password = concat([bmp(pin), Uint8Array.of(0, 0)]);
    function fill(src) {
      if (src.length === 0) return new Uint8Array(0);
      var out = new Uint8Array(v * Math.ceil(src.length / v));
      for (var i = 0; i < out.length; i++) out[i] = src[i % src.length];
      return out;
    }
    var d = new Uint8Array(v).fill(3);
    var a = concat([d, fill(salt), fill(password)]);
    for (var i = 0; i < iterations; i++) a = new Uint8Array(await subtle.digest("SHA-256", a));
    return a;
  }

  function bagAttributes(localKeyId, name) {
    return set(
      seq(oid(OID.friendlyName), set(tlv(0x1e, bmp(name)))),
      seq(oid(OID.localKeyId), set(octets(localKeyId))));
  }

  /**
   * A PKCS#12 file holding the private key (shrouded), the client certificate
   * and the root (encrypted), with a SHA-256 MAC; all keyed by `pin`.
   */
  async function buildPkcs12(privateKey, certDer, rootDer, pin, name) {
    if (!validPin(pin)) throw new Error("PIN は半角英数字で入力してください");
    var pkcs8 = new Uint8Array(await subtle.exportKey("pkcs8", privateKey));
    var localKeyId = new Uint8Array(await subtle.digest("SHA-1", certDer));
    var friendly = name || "webra2 client certificate";

    var shrouded = await pbes2Encrypt(pin, pkcs8);
    var keyBag = seq(oid(OID.shroudedKeyBag), explicit(0, seq(shrouded.alg, octets(shrouded.enc))),
      bagAttributes(localKeyId, friendly));
    var certBag = function (der, attrs) {
      var parts = [oid(OID.certBag), explicit(0, seq(oid(OID.x509Certificate), explicit(0, octets(der))))];
      if (attrs) parts.push(attrs);
      return seq.apply(null, parts);
    };
    var certs = seq(certBag(certDer, bagAttributes(localKeyId, friendly)), certBag(rootDer, null));
    var encCerts = await pbes2Encrypt(pin, certs);

    var authSafe = seq(
      seq(oid(OID.encryptedData), explicit(0, seq(int(0),
        seq(oid(OID.data), encCerts.alg, tlv(0x80, encCerts.enc))))),
      seq(oid(OID.data), explicit(0, octets(seq(keyBag)))));

    var macSalt = random(16);
    var macKey = await subtle.importKey("raw", await pkcs12MacKey(pin, macSalt, ITERATIONS),
      { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    var mac = new Uint8Array(await subtle.sign("HMAC", macKey, authSafe));
    return seq(int(3), seq(oid(OID.data), explicit(0, octets(authSafe))),
      seq(seq(seq(oid(OID.sha256), nul()), octets(mac)), octets(macSalt), int(ITERATIONS)));
  }

  root.Webra2Crypto = {
    validPin: validPin,
    generateKey: generateKey,
    buildCsr: buildCsr,
    buildPkcs12: buildPkcs12,
    pem: pem,
    fromBase64: fromBase64,
    certificateSpki: certificateSpki,
    publicKeyDer: publicKeyDer,
    samePublicKey: samePublicKey
  };
})(typeof window !== "undefined" ? window : globalThis);
