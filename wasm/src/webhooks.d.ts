// sima/webhooks: verifying sima-server's signed webhooks in a Node backend (server-side only;
// a browser bundle importing it throws at load).

/** Event types sima-server sends; a receiver should ignore types it does not know. */
export type WebhookEventType =
  | 'payment.succeeded'
  | 'payment.failed'
  | 'payment.needs_attention'
  | 'payment.refunded'
  | 'subscription.activated'
  | 'subscription.renewed'
  | 'subscription.renewal_due'
  | 'subscription.grace_started'
  | 'subscription.expired'
  | 'subscription.changed'
  | 'usage.threshold_crossed';

/** The body of every delivery. `id` is the dedupe key: a delivery may arrive more than once. */
export interface WebhookEvent<Data = Record<string, unknown>> {
  /** `evt_...`, the same on every try and re-send. */
  id: string;
  type: WebhookEventType | (string & {});
  /** RFC 3339, when the change happened. */
  created: string;
  org_id: string;
  /** Per organization, increasing in the order of the changes. */
  sequence: number;
  data: Data;
}

export type WebhookVerificationErrorCode =
  | 'missing_signature'
  | 'malformed_signature'
  | 'timestamp_out_of_tolerance'
  | 'signature_mismatch'
  | 'malformed_body';

/** The request is not a genuine, fresh delivery: answer it with a 400. No message holds a secret. */
export class WebhookVerificationError extends Error {
  readonly name: 'WebhookVerificationError';
  readonly code: WebhookVerificationErrorCode;
}

export interface VerifyWebhookOptions {
  /** Seconds the signature's time may differ from `now` (default 300). */
  tolerance?: number;
  /** The time to check against: a Date or milliseconds (default the clock). */
  now?: Date | number;
}

/** The bytes exactly as received. A body parsed as JSON and serialized again does not verify. */
export type RawBody = string | Uint8Array | ArrayBuffer;

/**
 * Checks the `Sima-Signature` header against the raw body with the endpoint's secret (or
 * secrets, during a rotation: any may match) and returns the event.
 * @throws WebhookVerificationError when it is not a genuine, fresh delivery
 * @throws TypeError when the body is not raw bytes or text, or no secret is given
 */
export function verifyWebhook<Data = Record<string, unknown>>(
  rawBody: RawBody,
  header: string | string[] | null | undefined,
  secret: string | readonly string[],
  options?: VerifyWebhookOptions,
): WebhookEvent<Data>;

/**
 * The `Sima-Signature` value sima-server would send for `body` at `t` (unix seconds, default
 * now), one `v1` per secret: for testing your receiver.
 */
export function signWebhook(body: RawBody, secret: string | readonly string[], t?: number): string;
