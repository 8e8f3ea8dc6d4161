import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

/** Where HTTP-01 challenges are asked for (RFC 8555 §8.3). */
export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';
/** What a challenge token may look like (base64url); anything else is 404 without touching the disk. */
const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;
/** A key authorization is short; a larger file is no answer of ours. */
const MAX_ANSWER_BYTES = 4_096;

/** True for a request the challenge responder answers (before routing and redirects, for any host). */
export function isAcmeChallenge(url: string | undefined): boolean {
  return url !== undefined && url.startsWith(ACME_CHALLENGE_PREFIX);
}

/**
 * Answers `GET /.well-known/acme-challenge/TOKEN` (`target`: the request's origin-form target) with the file `DATA_DIR/certs/acme-challenges/TOKEN`
 * the ACME client wrote, as text/plain; 404 for a bad token, a missing file or no data dir, 405
 * for other methods than GET and HEAD. The file is opened without following a symbolic link.
 */
export function answerAcmeChallenge(dataDir: string | null, target: string, req: IncomingMessage, res: ServerResponse): void {
  void respond(dataDir, target, req, res).catch(() => send(res, 404, 'not found\n'));
}

async function respond(dataDir: string | null, url: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'method not allowed\n', ['allow', 'GET, HEAD']);
    return;
  }
  const query = url.indexOf('?');
  const token = url.slice(ACME_CHALLENGE_PREFIX.length, query === -1 ? undefined : query);
  if (dataDir === null || !TOKEN.test(token)) {
    send(res, 404, 'not found\n');
    return;
  }
  const file = await open(join(dataDir, 'certs', 'acme-challenges', token), constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buffer = Buffer.alloc(MAX_ANSWER_BYTES + 1);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
    if (bytesRead > MAX_ANSWER_BYTES) throw new Error('challenge answer too large');
    send(res, 200, req.method === 'HEAD' ? '' : buffer.subarray(0, bytesRead).toString('latin1'), [], bytesRead);
  } finally {
    await file.close();
  }
}

function send(res: ServerResponse, status: number, body: string, extra: string[] = [], length = Buffer.byteLength(body)): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, ['content-type', 'text/plain', 'content-length', String(length), 'cache-control', 'no-store', ...extra]);
  res.end(body);
}
