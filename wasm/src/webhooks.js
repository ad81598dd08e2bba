// sima/webhooks (Node): checks that a webhook came from your sima-server and was not changed
// on the way, and hands back the event. Server-side only: the secret it needs must never reach
// a browser, so browsers get webhooks-browser.js instead (package.json, "default" condition).
//
// The signature (the `Sima-Signature` header): `t=<unix seconds>,v1=<hex>[,v1=<hex>]`, each hex
// the HMAC-SHA256 of `<t>.<raw body>` keyed with an endpoint secret's full text (`whsec_...`);
// during a rotation's overlap the server signs with the new and the previous secret.
import { createHmac, timingSafeEqual } from 'node:crypto';

export class WebhookVerificationError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'WebhookVerificationError';
    this.code = code;
  }
}

const fail = (code, message) => { throw new WebhookVerificationError(code, message); };

// A real header is ~150 characters (two signatures during a rotation). Anything far longer is
// refused before it is split, so a hostile header costs nothing to turn away.
const MAX_HEADER = 1024;
const MAX_SIGNATURES = 8;
const HEX64 = /^[0-9a-f]{64}$/i;
const DIGITS = /^\d{1,12}$/;

function bytesOf(rawBody) {
  if (typeof rawBody === 'string') return Buffer.from(rawBody, 'utf8');
  if (rawBody instanceof Uint8Array) return rawBody; // Buffer included
  if (rawBody instanceof ArrayBuffer) return new Uint8Array(rawBody);
  // Most often a body a JSON middleware has already parsed: its bytes are gone, and
  // JSON.stringify would not give them back (spacing, key order, escapes).
  throw new TypeError('sima/webhooks: the body must be the exact bytes received (a string, Buffer, Uint8Array or ' +
    `ArrayBuffer), not ${rawBody === null ? 'null' : typeof rawBody}: read the body raw (e.g. express.raw({ type: 'application/json' }))`);
}

function secretsOf(secret) {
  const list = Array.isArray(secret) ? secret : [secret];
  if (list.length === 0 || !list.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new TypeError('sima/webhooks: secret must be a non-empty string or an array of them (the endpoint\'s whsec_... secrets)');
  }
  return list;
}

function secondsOf(now) {
  const ms = now === undefined ? Date.now() : now instanceof Date ? now.getTime() : now;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new TypeError('verifyWebhook: options.now must be a Date or milliseconds');
  return Math.floor(ms / 1000);
}

// `t=...,v1=...`: one timestamp, one or more v1 signatures; other keys (a later scheme) are
// skipped so a receiver keeps working when the server adds one.
function parseHeader(header) {
  if (Array.isArray(header)) header = header.join(',');
  if (header === undefined || header === null || header === '') {
    fail('missing_signature', 'no Sima-Signature header: this request was not sent by sima-server');
  }
  if (typeof header !== 'string') fail('malformed_signature', 'the Sima-Signature header is not text');
  if (header.length > MAX_HEADER) fail('malformed_signature', `the Sima-Signature header is longer than ${MAX_HEADER} characters`);
  let t = null;
  const signatures = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (eq < 0) fail('malformed_signature', 'the Sima-Signature header is not t=<seconds>,v1=<hex>');
    if (key === 't') {
      if (t !== null || !DIGITS.test(value)) fail('malformed_signature', 'the Sima-Signature header needs one t=<unix seconds>');
      t = value;
    } else if (key === 'v1') {
      if (!HEX64.test(value)) fail('malformed_signature', 'a v1 signature is not 64 hex characters');
      if (signatures.length === MAX_SIGNATURES) fail('malformed_signature', `more than ${MAX_SIGNATURES} v1 signatures`);
      signatures.push(Buffer.from(value, 'hex'));
    }
  }
  if (t === null) fail('malformed_signature', 'the Sima-Signature header has no t=<unix seconds>');
  if (signatures.length === 0) fail('malformed_signature', 'the Sima-Signature header has no v1 signature');
  return { t, signatures };
}

const hmac = (secret, t, bytes) => createHmac('sha256', secret).update(`${t}.`).update(bytes).digest();

/**
 * Verifies one delivery and returns its event ({id, type, created, org_id, sequence, data}).
 * Throws WebhookVerificationError (with a `code`) when it is not one; TypeError for arguments
 * that are wrong whatever the request (a parsed body, no secret).
 */
export function verifyWebhook(rawBody, header, secret, options = {}) {
  const bytes = bytesOf(rawBody);
  const secrets = secretsOf(secret);
  const { tolerance = 300, now } = options ?? {};
  if (typeof tolerance !== 'number' || !(tolerance >= 0)) throw new TypeError('verifyWebhook: options.tolerance must be seconds (>= 0)');
  const nowSeconds = secondsOf(now);
  const { t, signatures } = parseHeader(header);
  // Every secret against every signature, each compared in constant time: how long this takes
  // says nothing about how much of a guess was right.
  let matched = false;
  for (const s of secrets) {
    const expected = hmac(s, t, bytes);
    for (const candidate of signatures) if (timingSafeEqual(expected, candidate)) matched = true;
  }
  if (!matched) {
    fail('signature_mismatch', 'no signature in Sima-Signature matches this body with the given secret: wrong secret, or the body ' +
      'is not the exact bytes received (was it parsed and serialized again?)');
  }
  // Checked once the signature holds, so the time is the server's. An old delivery replayed.
  if (Math.abs(nowSeconds - Number(t)) > tolerance) {
    fail('timestamp_out_of_tolerance', `the signature's time is ${nowSeconds - Number(t)} s from now (more than ${tolerance} s): ` +
      'a replayed delivery, or this machine\'s clock is off');
  }
  let event;
  try {
    event = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    fail('malformed_body', 'the body is not JSON');
  }
  if (event === null || typeof event !== 'object' || Array.isArray(event) || typeof event.id !== 'string' || typeof event.type !== 'string') {
    fail('malformed_body', 'the body is not a sima event ({id, type, created, org_id, sequence, data})');
  }
  return event;
}

/**
 * The Sima-Signature value sima-server would send for `body` at `t` (unix seconds, default
 * now), one v1 per secret: for your own tests of a receiver.
 */
export function signWebhook(body, secret, t = Math.floor(Date.now() / 1000)) {
  if (!Number.isInteger(t) || t < 0) throw new TypeError('signWebhook: t must be whole unix seconds');
  const bytes = bytesOf(body);
  return [`t=${t}`, ...secretsOf(secret).map((s) => `v1=${hmac(s, t, bytes).toString('hex')}`)].join(',');
}
