/**
 * HTTPS and HTTP/2 clients for the front door's tests (not a test file itself). They connect to
 * 127.0.0.1 and send the SNI name and Host they are given, trusting the given certificates.
 */
import { connect as h2connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { request as httpsRequest, type Agent } from 'node:https';
import type { PeerCertificate, TLSSocket } from 'node:tls';

export interface TlsResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** An HTTP/2 session to `port` for `servername` (SNI and :authority). */
export function h2Session(port: number, servername: string, ca: string | string[]): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = h2connect(`https://${servername}:${port}`, { ca, servername, host: '127.0.0.1', port } as never);
    session.once('connect', () => {
      session.off('error', reject);
      resolve(session);
    });
    session.once('error', reject);
  });
}

/** One request on an HTTP/2 session. */
export function h2Get(session: ClientHttp2Session, path: string, headers: Record<string, string> = {}, body?: string): Promise<TlsResponse> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ [constants.HTTP2_HEADER_PATH]: path, [constants.HTTP2_HEADER_METHOD]: body === undefined ? 'GET' : 'POST', ...headers });
    const chunks: Buffer[] = [];
    let responseHeaders: IncomingHttpHeaders = {};
    stream.on('response', (h) => (responseHeaders = h));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ status: Number(responseHeaders[':status']), headers: responseHeaders, text: Buffer.concat(chunks).toString() }));
    stream.on('error', reject);
    stream.end(body);
  });
}

/** One HTTPS/1.1 request; `host` defaults to the SNI name. */
export function httpsGet(
  port: number,
  servername: string,
  ca: string | string[],
  options: { path?: string; host?: string; agent?: Agent | false; onCertificate?: (cert: PeerCertificate) => void } = {},
): Promise<TlsResponse> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path: options.path ?? '/', servername, ca, headers: { host: options.host ?? servername }, agent: options.agent ?? false },
      (res) => {
        options.onCertificate?.((res.socket as TLSSocket).getPeerCertificate());
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as IncomingHttpHeaders, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
