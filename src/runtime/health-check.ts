import http from 'node:http';

export interface ProbeResult {
  isHealthy: boolean;
  /** What happened, for reasons and events: "200", "503", "connect ECONNREFUSED 127.0.0.1:4000", "timeout after 1000ms". */
  detail: string;
}

/** One HTTP GET against an instance's health path; 2xx and 3xx count as healthy. */
export function probe(host: string, port: number, path: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const request = http.request(
      { host, port, path, method: 'GET', agent: false, timeout: timeoutMs, headers: { 'user-agent': 'cutover-health' } },
      (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        response.on('end', () => resolve({ isHealthy: status >= 200 && status < 400, detail: `HTTP ${status}` }));
        response.on('error', () => resolve({ isHealthy: false, detail: `HTTP ${status}, body cut off` }));
      },
    );
    request.on('timeout', () => request.destroy(new Error(`timeout after ${timeoutMs}ms`)));
    request.on('error', (error: NodeJS.ErrnoException) => {
      const detail = error.code ? `${error.code === 'ECONNREFUSED' ? 'connect ' : ''}${error.code} ${host}:${port}` : error.message;
      resolve({ isHealthy: false, detail });
    });
    request.end();
  });
}
