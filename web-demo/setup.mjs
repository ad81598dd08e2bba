// First start of the demo (run by scripts/demo once sima-server answers): creates the demo
// organization through the admin API, keeps its secret key in a 0600 file, and seeds it with
// the numbers of the seed design, so the dashboard opens on FREE with
//   invoices 8/10 (80%), customers 3/5, team members 1/1, API calls ~450/100 ⚠ OVER.
// Does nothing when the organization already exists (a second run reuses the data).
//
// Environment: SIMA_SERVER_URL, SIMA_DEMO_DATA (folder), SIMA_ADMIN_TOKEN.
import { writeFile, readFile, rename } from 'node:fs/promises';
import path from 'node:path';

const server = (process.env.SIMA_SERVER_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
const data = process.env.SIMA_DEMO_DATA;
const admin = process.env.SIMA_ADMIN_TOKEN;
if (!data || !admin) {
  console.error('setup.mjs: SIMA_DEMO_DATA and SIMA_ADMIN_TOKEN are required');
  process.exit(2);
}
const keyFile = path.join(data, 'org.key');

async function call(method, route, token, body) {
  const res = await fetch(`${server}${route}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const answer = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${method} ${route} answered ${res.status}: ${JSON.stringify(answer)}`);
  return answer;
}

async function exists(file) {
  try {
    await readFile(file);
    return true;
  } catch {
    return false;
  }
}

if (await exists(keyFile)) process.exit(0);

// With a billing e-mail: payment confirmations and renewal reminders (with their pay links)
// are written to the demo's mail folder.
const org = await call('POST', '/admin/orgs/', admin, { name: 'Himalayan Invoices', billing_email: 'billing@himalayan-invoices.example' });
// Write the key first to a temporary name and rename: a crash never leaves half a key.
await writeFile(`${keyFile}.tmp`, `${org.api_key}\n`, { mode: 0o600 });
await writeFile(path.join(data, 'org.json'), `${JSON.stringify({ org_id: org.org_id, name: org.name }, null, 2)}\n`);

const sk = org.api_key;
const customers = [
  { name: 'Everest Traders', email: 'accounts@everest-traders.example' },
  { name: 'Pokhara Prints', email: 'billing@pokhara-prints.example' },
  { name: 'Lalitpur Tea House', email: 'owner@lalitpur-tea.example' },
];
const made = [];
for (const c of customers) made.push(await call('POST', '/customers/', sk, c));
const amounts = [250000, 120000, 87500, 450000, 99000, 310000, 64000, 150000];
for (const [i, amount] of amounts.entries()) {
  await call('POST', '/invoices/', sk, {
    amount_paisa: amount,
    customer_id: String(made[i % made.length].id),
    description: `Invoice ${i + 1}`,
  });
}
await call('POST', '/team-members/', sk, { email: 'owner@himalayan-invoices.example', name: 'Asha Gurung' });
// The seed's API calls: over the soft limit (every authenticated call counts one more).
const usage = await call('GET', '/billing/usage/', sk);
const used = usage.usage?.api_calls?.used ?? 0;
if (used < 449) await call('POST', '/usage/api_calls/', sk, { quantity: 449 - used });

await rename(`${keyFile}.tmp`, keyFile);
console.error(`setup.mjs: created the demo organization ${org.org_id} (${org.name}) and seeded it`);
