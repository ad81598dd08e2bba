// Must compile with `tsc --noEmit -p test/types`: sima/webhooks as a user's backend sees it.
import {
  signWebhook, verifyWebhook, WebhookVerificationError,
  type WebhookEvent, type WebhookEventType, type WebhookVerificationErrorCode,
} from '../../src/webhooks.js';

interface PaymentData { payment: { payment_id: string; amount_paisa: number } }

export function receive(raw: Uint8Array | string, header: string | undefined, secrets: string[]): number {
  try {
    const event: WebhookEvent = verifyWebhook(raw, header, secrets, { tolerance: 300, now: Date.now() });
    const id: string = event.id;
    const created: string = event.created;
    const seq: number = event.sequence;
    if (event.type === 'payment.succeeded') {
      const typed = verifyWebhook<PaymentData>(raw, header, secrets[0]);
      const paisa: number = typed.data.payment.amount_paisa;
      return paisa + seq + id.length + created.length;
    }
    const known: WebhookEventType | string = event.type;
    return known.length;
  } catch (e) {
    if (e instanceof WebhookVerificationError) {
      const code: WebhookVerificationErrorCode = e.code;
      // @ts-expect-error not one of the codes
      const wrong: WebhookVerificationErrorCode = 'expired';
      return code.length + wrong.length;
    }
    throw e;
  }
}

const header: string = signWebhook('{}', ['whsec_new', 'whsec_old'], 1764651600);
verifyWebhook(new ArrayBuffer(2), header, 'whsec_new', { now: new Date() });
// @ts-expect-error a parsed body is not raw bytes
verifyWebhook({ id: 'evt_1' }, header, 'whsec_new');
// @ts-expect-error tolerance is seconds, a number
verifyWebhook('{}', header, 'whsec_new', { tolerance: '5m' });
