import fs from 'node:fs';
import path from 'node:path';
import { ensurePrivateDir, writePrivateFileAtomic } from './private-files.js';

/** An ACME token as RFC 8555 makes them (base64url); anything else never names a file. */
const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

/** Whether `token` may name a file in the challenges folder. The proxy checks it too before it reads one. */
export function isChallengeToken(token: string): boolean {
  return TOKEN.test(token);
}

/**
 * The HTTP-01 answers the proxy serves at `/.well-known/acme-challenge/TOKEN` on the shared HTTP
 * listener: one file per token in `DATA_DIR/certs/acme-challenges`, holding the key authorization.
 */
export class ChallengeFiles {
  constructor(private readonly dir: string) {}

  write(token: string, keyAuthorization: string): void {
    ensurePrivateDir(this.dir);
    writePrivateFileAtomic(this.file(token), keyAuthorization);
  }

  remove(token: string): void {
    fs.rmSync(this.file(token), { force: true });
  }

  private file(token: string): string {
    if (!isChallengeToken(token)) throw new Error(`the CA sent a challenge token that is not base64url (${JSON.stringify(token.slice(0, 40))})`);
    return path.join(this.dir, token);
  }
}
