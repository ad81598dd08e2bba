// The errors sima throws. Every one is a SimaError with a machine-readable `code`: the
// server's `code` for answers from sima-server, the core's for local checks.

export class SimaError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {{status?: number|null, body?: unknown, cause?: unknown}} [extra]
   */
  constructor(code, message, extra = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'SimaError';
    this.code = code;
    this.status = extra.status ?? null;
    this.body = extra.body ?? null;
  }
}

// A hard limit refused the action: decided locally by the core (status null) or by the
// server (status 403, body = the server's limit_reached body).
export class LimitReachedError extends SimaError {
  /**
   * @param {{feature: string, current: number, limit: number, plan: string, upgrade: object|null}} d
   * @param {{status?: number|null, body?: unknown}} [extra]
   */
  constructor(d, extra = {}) {
    super('limit_reached', `Limit reached: ${d.feature} ${d.current}/${d.limit} on ${d.plan}`, extra);
    this.name = 'LimitReachedError';
    this.feature = d.feature;
    this.current = d.current;
    this.limit = d.limit;
    this.plan = d.plan;
    this.upgrade = d.upgrade ?? null;
  }
}

export function invalid(message) {
  return new SimaError('validation_error', message);
}
