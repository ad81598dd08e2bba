// sima/webhooks: verifyWebhook and signWebhook against the signature sima-server sends
// (`Sima-Signature: t=<unix seconds>,v1=<hex>`, HMAC-SHA256 of `<t>.<raw body>` keyed with the
// secret's full text), the errors a receiver answers 400 with, and the browser stand-in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { verifyWebhook, signWebhook, WebhookVerificationError } from '../src/webhooks.js';

// A delivery as sima-server writes it (nlohmann's dump: no spaces, UTF-8 as is), and its
// signature computed outside JavaScript from the format alone (Python's hmac module:
// hmac.new(secret, b'1764651600.' + body, sha256).hexdigest()).
const SECRET = 'whsec_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6';
const OLD_SECRET = 'whsec_Zy9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe';
const BODY = '{"id":"evt_4Xq9ZbLr0TnVw2KcYp7sJd","type":"payment.succeeded","created":"2026-12-02T05:00:00Z",' +
  '"org_id":"org_7Hc2","sequence":3,"data":{"payment":{"amount_paisa":190000,"note":"नमस्ते"}}}';
const T = 1764651600;
const V1 = '9bb3ab7c552caeded2b3f4917f0e07df4ebda26eb43735020ac3d6e54bccdda3';
const HEADER = `t=${T},v1=${V1}`;
const NOW = T * 1000 + 20_000; // 20 s after it was signed
const EVENT = {
  id: 'evt_4Xq9ZbLr0TnVw2KcYp7sJd', type: 'payment.succeeded', created: '2026-12-02T05:00:00Z', org_id: 'org_7Hc2',
  sequence: 3, data: { payment: { amount_paisa: 190000, note: 'नमस्ते' } },
};

// Runs fn, which must throw a WebhookVerificationError with `code`; returns it.
function refused(code, fn) {
  let error;
  assert.throws(fn, (e) => { error = e; return e instanceof WebhookVerificationError && e.code === code; });
  assert.equal(error.name, 'WebhookVerificationError');
  return error;
}

test('a genuine delivery verifies and returns its event: string, Buffer, Uint8Array and ArrayBuffer bodies', () => {
  assert.deepEqual(verifyWebhook(BODY, HEADER, SECRET, { now: NOW }), EVENT);
  const buffer = Buffer.from(BODY, 'utf8');
  assert.deepEqual(verifyWebhook(buffer, HEADER, SECRET, { now: NOW }), EVENT);
  // A view into a larger buffer (as a framework's pooled chunk): only its own bytes count.
  const pooled = Buffer.concat([Buffer.from('xxxx'), buffer, Buffer.from('yyyy')]);
  const view = new Uint8Array(pooled.buffer, pooled.byteOffset + 4, buffer.length);
  assert.deepEqual(verifyWebhook(view, HEADER, SECRET, { now: NOW }), EVENT);
  const ab = buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.length);
  assert.deepEqual(verifyWebhook(ab, HEADER, SECRET, { now: new Date(NOW) }), EVENT);
});

test('signWebhook makes the header sima-server sends (the vector computed outside JS)', () => {
  assert.equal(signWebhook(BODY, SECRET, T), HEADER);
  assert.equal(signWebhook(Buffer.from(BODY), SECRET, T), HEADER);
  const now = Math.floor(Date.now() / 1000);
  const fresh = signWebhook(BODY, SECRET);
  assert.match(fresh, /^t=\d+,v1=[0-9a-f]{64}$/);
  assert.ok(Math.abs(Number(fresh.slice(2, fresh.indexOf(','))) - now) <= 1);
  assert.deepEqual(verifyWebhook(BODY, fresh, SECRET), EVENT); // default now and tolerance
  // Independently of signWebhook: node:crypto on the format's message.
  const expected = crypto.createHmac('sha256', SECRET).update(`${T}.${BODY}`, 'utf8').digest('hex');
  assert.equal(expected, V1);
  assert.throws(() => signWebhook(BODY, SECRET, 1.5), TypeError);
});

test('the server\'s own vector (tests/server/webhook_test.cc, SignatureHeader) signs and verifies the same here', () => {
  const header = 't=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789';
  assert.equal(signWebhook('{"a":1}', 'whsec_test', 1700000000), header);
  // Not a sima event (no id, type): the signature holds, the body is what is refused.
  refused('malformed_body', () => verifyWebhook('{"a":1}', header, 'whsec_test', { now: 1700000000_000 }));
});

test('a changed body is refused: one byte, a space, or parsed and serialized again', () => {
  refused('signature_mismatch', () => verifyWebhook(BODY.replace('190000', '190001'), HEADER, SECRET, { now: NOW }));
  refused('signature_mismatch', () => verifyWebhook(`${BODY} `, HEADER, SECRET, { now: NOW }));
  const bytes = Buffer.from(BODY);
  bytes[bytes.length - 3] ^= 1;
  refused('signature_mismatch', () => verifyWebhook(bytes, HEADER, SECRET, { now: NOW }));
  // A body with an escape, signed as sent; JSON.parse + JSON.stringify rewrites the escape.
  const escaped = BODY.replace('नमस्ते', '\\u0928\\u092e');
  const header = signWebhook(escaped, SECRET, T);
  assert.equal(verifyWebhook(escaped, header, SECRET, { now: NOW }).data.payment.note, 'नम');
  const again = JSON.stringify(JSON.parse(escaped));
  assert.notEqual(again, escaped);
  const e = refused('signature_mismatch', () => verifyWebhook(again, header, SECRET, { now: NOW }));
  assert.match(e.message, /exact bytes/);
});

test('a wrong secret is refused, and no message holds a secret', () => {
  const e = refused('signature_mismatch', () => verifyWebhook(BODY, HEADER, OLD_SECRET, { now: NOW }));
  assert.ok(!e.message.includes(OLD_SECRET) && !e.message.includes(SECRET));
  // The timestamp is signed too: moving it breaks the signature.
  refused('signature_mismatch', () => verifyWebhook(BODY, `t=${T + 1},v1=${V1}`, SECRET, { now: NOW }));
});

test('rotation: the header carries the new and the previous signature; either secret, or both, verifies', () => {
  const both = signWebhook(BODY, [SECRET, OLD_SECRET], T);
  assert.equal(both, `${HEADER},v1=${crypto.createHmac('sha256', OLD_SECRET).update(`${T}.${BODY}`).digest('hex')}`);
  for (const secret of [SECRET, OLD_SECRET, [SECRET, OLD_SECRET], [OLD_SECRET, SECRET], ['whsec_other', OLD_SECRET]]) {
    assert.deepEqual(verifyWebhook(BODY, both, secret, { now: NOW }), EVENT, JSON.stringify(secret));
  }
  // A receiver that already holds both while the server still signs with the old one only.
  assert.deepEqual(verifyWebhook(BODY, signWebhook(BODY, OLD_SECRET, T), [SECRET, OLD_SECRET], { now: NOW }), EVENT);
  refused('signature_mismatch', () => verifyWebhook(BODY, both, ['whsec_a', 'whsec_b'], { now: NOW }));
});

test('the time: within 300 s either way by default; older or later is refused; tolerance can be set', () => {
  const at = (seconds) => ({ now: (T + seconds) * 1000 });
  assert.deepEqual(verifyWebhook(BODY, HEADER, SECRET, at(300)), EVENT);
  assert.deepEqual(verifyWebhook(BODY, HEADER, SECRET, at(-300)), EVENT);
  const old = refused('timestamp_out_of_tolerance', () => verifyWebhook(BODY, HEADER, SECRET, at(301)));
  assert.match(old.message, /301 s from now/);
  refused('timestamp_out_of_tolerance', () => verifyWebhook(BODY, HEADER, SECRET, at(-301)));
  refused('timestamp_out_of_tolerance', () => verifyWebhook(BODY, HEADER, SECRET, { now: Date.now() })); // signed in 2026-12
  assert.deepEqual(verifyWebhook(BODY, HEADER, SECRET, { ...at(3600), tolerance: 3600 }), EVENT);
  refused('timestamp_out_of_tolerance', () => verifyWebhook(BODY, HEADER, SECRET, { ...at(11), tolerance: 10 }));
  // A bad signature is reported as such, whatever the time: the time is the server's once signed.
  refused('signature_mismatch', () => verifyWebhook(BODY, HEADER, OLD_SECRET, at(100_000)));
  assert.throws(() => verifyWebhook(BODY, HEADER, SECRET, { tolerance: -1 }), TypeError);
  assert.throws(() => verifyWebhook(BODY, HEADER, SECRET, { now: 'today' }), TypeError);
});

test('malformed headers: missing, no t, no v1, garbage, odd values, too many signatures', () => {
  const v = (header) => () => verifyWebhook(BODY, header, SECRET, { now: NOW });
  for (const header of [undefined, null, '', []]) refused('missing_signature', v(header));
  for (const header of ['garbage', `v1=${V1}`, `t=${T}`, `t=${T},v1=`, `t=${T},v1=${V1.slice(1)}`, `t=${T},v1=${V1}0`,
    `t=${T},v1=${V1.replace('9', 'g')}`, `t=abc,v1=${V1}`, `t=-${T},v1=${V1}`, `t=1.5,v1=${V1}`, `t=${T},t=${T},v1=${V1}`,
    `t=${T},v1=${V1},`, `t=${T};v1=${V1}`, `${HEADER},${Array(8).fill(`v1=${V1}`).join(',')}`, 42, { t: T }]) {
    refused('malformed_signature', v(header));
  }
  // Accepted: spaces after commas (Node joins a repeated header with ", "), an array of header
  // values, upper-case hex, and a scheme this version does not know beside v1.
  assert.deepEqual(v(`t=${T}, v1=${V1}`)(), EVENT);
  assert.deepEqual(v([`t=${T}`, `v1=${V1}`])(), EVENT);
  assert.deepEqual(v(`t=${T},v1=${V1.toUpperCase()}`)(), EVENT);
  assert.deepEqual(v(`t=${T},v0=zz,v2=${'ab'.repeat(40)},v1=${V1}`)(), EVENT);
  assert.deepEqual(v(`${HEADER},${Array(7).fill(`v1=${'0'.repeat(64)}`).join(',')}`)(), EVENT);
});

test('a huge header is refused before it is parsed or any HMAC is computed', (t) => {
  const hmac = t.mock.method(crypto, 'createHmac');
  syncBuiltinESMExports();
  t.after(() => { t.mock.restoreAll(); syncBuiltinESMExports(); });
  const huge = `t=${T},${`v1=${V1},`.repeat(200_000)}`; // 13.6 MB
  const started = process.hrtime.bigint();
  const e = refused('malformed_signature', () => verifyWebhook(BODY, huge, SECRET, { now: NOW }));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.match(e.message, /longer than 1024/);
  assert.equal(hmac.mock.callCount(), 0);
  assert.ok(ms < 50, `${ms.toFixed(2)} ms`);
});

test('signatures are compared in constant time (crypto.timingSafeEqual), every secret against every signature', (t) => {
  const compare = t.mock.method(crypto, 'timingSafeEqual');
  syncBuiltinESMExports();
  t.after(() => { t.mock.restoreAll(); syncBuiltinESMExports(); });
  const both = signWebhook(BODY, [SECRET, OLD_SECRET], T);
  assert.deepEqual(verifyWebhook(BODY, both, [OLD_SECRET, 'whsec_third'], { now: NOW }), EVENT);
  assert.equal(compare.mock.callCount(), 4);
  for (const call of compare.mock.calls) {
    assert.ok(call.arguments.every((a) => Buffer.isBuffer(a) && a.length === 32));
    assert.equal(typeof call.result, 'boolean');
  }
  assert.equal(compare.mock.calls.filter((c) => c.result).length, 1);
  refused('signature_mismatch', () => verifyWebhook(BODY, HEADER, OLD_SECRET, { now: NOW }));
  assert.equal(compare.mock.callCount(), 5);
  // And no string comparison of signatures in the source.
  const source = readFileSync(new URL('../src/webhooks.js', import.meta.url), 'utf8');
  assert.doesNotMatch(source, /digest\('hex'\)\s*===|===\s*\w+\.digest\('hex'\)/);
});

test('a signed body that is not a sima event is malformed_body', () => {
  for (const body of ['not json', '[1,2]', 'null', '"evt_1"', '{"type":"payment.succeeded"}', '{"id":7,"type":"x"}', '']) {
    const header = signWebhook(body, SECRET, T);
    refused('malformed_body', () => verifyWebhook(body, header, SECRET, { now: NOW }));
  }
  // Unsigned garbage is a signature problem first: nothing about its content is trusted.
  refused('signature_mismatch', () => verifyWebhook('not json', HEADER, SECRET, { now: NOW }));
});

test('wrong arguments are TypeErrors (a bug in the receiver, not a bad request), without the secret', () => {
  const messages = [];
  const typeError = (fn) => assert.throws(fn, (e) => { messages.push(e.message); return e instanceof TypeError; });
  typeError(() => verifyWebhook(JSON.parse(BODY), HEADER, SECRET)); // express.json() ran first
  typeError(() => verifyWebhook(undefined, HEADER, SECRET));
  typeError(() => verifyWebhook(BODY, HEADER, ''));
  typeError(() => verifyWebhook(BODY, HEADER, []));
  typeError(() => verifyWebhook(BODY, HEADER, [SECRET, 7]));
  typeError(() => verifyWebhook(BODY, HEADER, undefined));
  assert.match(messages[0], /not object.*express\.raw/);
  for (const m of messages) assert.ok(!m.includes(SECRET), m);
});

test('the browser stand-in (the "default" condition) throws "server-side only" on import and carries no node:crypto', async () => {
  await assert.rejects(import('../src/webhooks-browser.js'), /sima\/webhooks is server-side only/);
  assert.doesNotMatch(readFileSync(new URL('../src/webhooks-browser.js', import.meta.url), 'utf8'), /node:|require\(/);
  const { exports } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.deepEqual(exports['./webhooks'], { types: './src/webhooks.d.ts', node: './dist/webhooks.js', default: './dist/webhooks-browser.js' });
  // Both export the same names, so a bundle resolves its imports either way.
  const names = (file) => [...readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8').matchAll(/^export (?:class|function) (\w+)/gm)]
    .map((m) => m[1]).sort();
  assert.deepEqual(names('webhooks-browser.js'), names('webhooks.js'));
});
