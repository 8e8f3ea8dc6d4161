import { sessionHeaders } from './api.js';

/** What the page does with the stream: a handler per event name, and the connection's state. */
export interface StreamHandlers {
  onEvent: (name: string, data: string) => void;
  onOpen: () => void;
  onError: () => void;
  /** The session ended (logout elsewhere, expiry): the stream stops; the page asks for a login. */
  onUnauthorized: () => void;
}

const DEFAULT_RETRY_MS = 2_000;

/**
 * Server-Sent Events over `fetch`, since `EventSource` cannot send the session header: reads
 * `event:`, `data:`, `id:` and `retry:` lines, reconnects after `retry` ms with `Last-Event-ID`
 * (the server replays what was missed), and stops on 401. Returns a function that closes it.
 */
export function openEventStream(path: string, handlers: StreamHandlers): () => void {
  const abort = new AbortController();
  let lastEventId: string | null = null;
  let retryMs = DEFAULT_RETRY_MS;

  const readOnce = async (): Promise<boolean> => {
    const response = await fetch(path, {
      credentials: 'omit',
      signal: abort.signal,
      headers: { accept: 'text/event-stream', ...sessionHeaders(), ...(lastEventId === null ? {} : { 'last-event-id': lastEventId }) },
    });
    if (response.status === 401) {
      handlers.onUnauthorized();
      return false;
    }
    if (!response.ok || response.body === null) return true;
    handlers.onOpen();
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return true;
      buffered += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) !== -1) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        dispatch(block);
      }
    }
  };

  const dispatch = (block: string): void => {
    let name = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') lastEventId = value;
      else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
    }
    if (data.length > 0) handlers.onEvent(name, data.join('\n'));
  };

  void (async () => {
    while (!abort.signal.aborted) {
      let shouldRetry = true;
      try {
        shouldRetry = await readOnce();
      } catch {
        // A cut connection: reconnect below.
      }
      if (abort.signal.aborted || !shouldRetry) return;
      handlers.onError();
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  })();
  return () => abort.abort();
}
