import http from 'node:http';
import https from 'node:https';

/**
 * Fetches the CA's directory once before an attempt, so that a CA that cannot be reached, or
 * whose TLS certificate is not trusted, fails with the reason (`connect ECONNREFUSED …`,
 * `self-signed certificate in certificate chain`): acme-client 5.4 loses that reason when a
 * request gets no response at all.
 */
export function checkDirectory(directoryUrl: string, agent: https.Agent | undefined, timeoutMs: number): Promise<void> {
  const url = new URL(directoryUrl);
  const get = url.protocol === 'http:' ? http.get : https.get;
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => reject(new Error(`cannot reach the ACME directory ${directoryUrl}: ${why}`));
    const request = get(url, { agent, timeout: timeoutMs }, (response) => {
      response.resume();
      if (response.statusCode === 200) resolve();
      else fail(`it answered HTTP ${response.statusCode}`);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer in ${timeoutMs / 1000}s`)));
    request.on('error', (error) => fail(error.message));
  });
}

/** acme-client 5.4's words for "a request got no response" (it reads the missing response): said plainly. */
export function plainTransportError(error: unknown, directoryUrl: string): unknown {
  if (error instanceof TypeError && /reading 'config'/.test(error.message)) {
    return new Error(`lost the connection to the CA at ${new URL(directoryUrl).origin} during the attempt`, { cause: error });
  }
  return error;
}
