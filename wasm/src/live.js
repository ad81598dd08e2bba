// Live usage: the organization's state pushed by sima-server (GET /events/{org_id}/, a
// text/event-stream; docs/api.md) to the open pages. Read with fetch, not EventSource: the
// session token goes in the Authorization header, never in a URL that logs keep. One tab of
// a browser streams (it holds a Web Lock) and relays what it reads to the others over a
// BroadcastChannel; without those APIs every tab streams. Where streaming is not possible
// (404: the server has it off; 503: its streams are full; no ReadableStream) the usage is
// polled every refreshInterval and the stream tried again later.

const MIN_DELAY = 1000;
const MAX_DELAY = 30000;

/**
 * Parses a text/event-stream (the WHATWG "event stream interpretation") fed in chunks cut
 * anywhere: calls onEvent({id, event, data}) per dispatched event and onRetry(ms) for a
 * `retry:` field. Comments (`: ping`) and unknown fields are skipped.
 */
export class SseParser {
  #buffer = '';
  #data = [];
  #event = '';
  #id = null;
  #sawCr = false;

  constructor(onEvent, onRetry = () => {}) {
    this.onEvent = onEvent;
    this.onRetry = onRetry;
  }

  push(text) {
    // A "\r\n" split between two chunks: the "\n" ends nothing more.
    if (this.#sawCr && text.startsWith('\n')) text = text.slice(1);
    this.#sawCr = text.endsWith('\r');
    const lines = (this.#buffer + text).split(/\r\n|\r|\n/);
    this.#buffer = lines.pop();
    for (const line of lines) this.#line(line);
  }

  #line(line) {
    if (line === '') {
      if (this.#data.length > 0) this.onEvent({ id: this.#id, event: this.#event || 'message', data: this.#data.join('\n') });
      this.#data = [];
      this.#event = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.onRetry(Number(value));
  }
}

/**
 * Keeps a page's view live until close():
 *   url: the events URL; auth(): the Authorization header value; fetch;
 *   poll(): GET /billing/usage/ (resolves with the answer);
 *   apply(usage): takes an event's or a poll's usage answer;
 *   status(s): 'connecting' | 'open' | 'polling';
 *   refreshInterval (ms); channel: the Web Lock / BroadcastChannel name ('' for none).
 */
export function startLive({ url, auth, fetch, poll, apply, status, refreshInterval, channel }) {
  const stop = new AbortController();
  const signal = stop.signal;
  const Channel = globalThis.BroadcastChannel;
  const locks = globalThis.navigator?.locks;
  const relay = channel && Channel && locks ? new Channel(channel) : null;
  let leader = !relay;
  let current = 'connecting';
  let lastId = null;
  let retry = MIN_DELAY;

  const say = (s) => {
    current = s;
    status(s);
    if (leader && relay) relay.postMessage({ status: s });
  };
  // The event id goes along, so a tab that takes the stream over resumes where it was.
  const take = (usage, id = null) => {
    apply(usage);
    if (relay) relay.postMessage({ usage, id });
  };
  // Waits `ms`, or less when closed.
  const sleep = (ms) => new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
  const pollOnce = async () => {
    try {
      take(await poll());
    } catch {
      // offline or refused: the next poll or stream tries again
    }
  };

  // Streams until closed, reconnecting with backoff (and jitter, so a restarted server is not
  // met by every page at once); polls while streaming is not possible.
  async function run() {
    let attempt = 0;
    let reconnect = false;
    while (!signal.aborted) {
      say('connecting');
      let response = null;
      try {
        const headers = { Accept: 'text/event-stream', Authorization: await auth() };
        if (lastId !== null) headers['Last-Event-ID'] = lastId;
        response = await fetch(url, { headers, signal, cache: 'no-store' });
      } catch {
        if (signal.aborted) return;
        // A server whose CORS does not allow Last-Event-ID fails every request that sends it:
        // the next try goes without (the re-read after a reconnect covers what was missed).
        lastId = null;
      }
      if (response && (response.status === 404 || response.status === 503 || (response.ok && !response.body?.getReader))) {
        // Streaming is off, full or unsupported here: poll, and try the stream again later.
        response.body?.cancel?.().catch(() => {});
        const after = Number(response.headers.get('Retry-After')) * 1000 || 10 * refreshInterval;
        say('polling');
        for (const until = Date.now() + after; !signal.aborted && Date.now() < until;) {
          await sleep(Math.min(refreshInterval, Math.max(0, until - Date.now())));
          if (!signal.aborted) await pollOnce();
        }
        continue;
      }
      if (response?.ok) {
        say('open');
        attempt = 0;
        if (reconnect) pollOnce(); // what changed while disconnected and was not resent
        reconnect = true;
        await read(response.body.getReader());
        if (signal.aborted) return;
      } else {
        response?.body?.cancel?.().catch(() => {});
      }
      say('connecting');
      const delay = Math.min(MAX_DELAY, Math.max(MIN_DELAY, retry) * 2 ** attempt++);
      await sleep(delay / 2 + Math.random() * delay / 2);
    }
  }

  async function read(reader) {
    const decoder = new TextDecoder();
    const parser = new SseParser(({ id, event, data }) => {
      if (id !== null) lastId = id;
      if (event !== 'usage') return;
      let usage;
      try {
        usage = JSON.parse(data);
      } catch {
        return; // not ours: skip it, keep reading
      }
      take(usage, id);
    }, (ms) => { retry = ms; });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        parser.push(decoder.decode(value, { stream: true }));
      }
    } catch {
      // dropped (network, server restart, closed): the caller reconnects
    }
  }

  if (relay) {
    relay.onmessage = ({ data }) => {
      if (leader) {
        if (data.hello) relay.postMessage({ status: current });
        return;
      }
      if (data.id) lastId = data.id;
      if (data.usage) apply(data.usage);
      if (data.status) status(data.status);
    };
    relay.postMessage({ hello: true }); // the streaming tab answers with its status
    // The tab that gets the lock streams for all until it closes; then the next one does.
    locks.request(channel, { signal }, () => {
      leader = true;
      return run();
    }).catch(() => {});
  } else {
    run();
  }

  return () => {
    stop.abort();
    relay?.close();
  };
}
