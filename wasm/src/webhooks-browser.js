// sima/webhooks in a browser bundle (package.json "default" condition; Node gets webhooks.js).
// Verifying a webhook needs the endpoint's secret, which belongs on your server only; this
// stands in so that a bundle importing sima/webhooks fails at once with a clear message and
// never carries Node code. The exports match webhooks.js so bundlers resolve the names.
const message = 'sima/webhooks is server-side only: verify webhooks in your Node backend, where the whsec_ secret lives. ' +
  'It was imported into a browser bundle (the package\'s "default" condition), which never holds that secret.';

export class WebhookVerificationError extends Error {}
export function verifyWebhook() { throw new Error(message); }
export function signWebhook() { throw new Error(message); }

throw new Error(message);
