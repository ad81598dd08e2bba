// sima: plan limits, usage and upgrades in the browser, decided by the same compiled rules
// as sima-server. See README.md and index.d.ts.
export { init, createCore, Core, formatRupees } from './core.js';
export { createClient, SimaClient } from './client.js';
export { SimaError, LimitReachedError } from './errors.js';
