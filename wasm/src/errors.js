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
// server (status 403, body = the server's limit_reached body). For a switch (kind "boolean")
// `limit` is false and `upgrade` names the plan that turns it on.
export class LimitReachedError extends SimaError {
  /**
   * @param {{feature: string, kind?: string, current: number, requested?: number, limit: number|boolean,
   *          plan: string, override?: object|null, upgrade: object|null}} d
   * @param {{status?: number|null, body?: unknown}} [extra]
   */
  constructor(d, extra = {}) {
    super('limit_reached', `Limit reached: ${what(d)} on ${d.plan}`, extra);
    this.name = 'LimitReachedError';
    this.feature = d.feature;
    this.kind = d.kind ?? 'metered';
    this.current = d.current;
    this.limit = d.limit;
    this.plan = d.plan;
    this.override = d.override ?? null;
    this.upgrade = d.upgrade ?? null;
  }
}

// "invoices 10/10", "pdf_export is off", "attachment_mb 30 is over 25".
function what(d) {
  if (d.kind === 'boolean') return `${d.feature} is off`;
  if (d.kind === 'value') return d.requested === undefined ? `${d.feature} is over ${d.limit}` : `${d.feature} ${d.requested} is over ${d.limit}`;
  return `${d.feature} ${d.current}/${d.limit}`;
}

export function invalid(message) {
  return new SimaError('validation_error', message);
}
