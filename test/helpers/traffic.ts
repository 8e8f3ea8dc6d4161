import { Pool } from 'undici';

export interface Sample {
  /** Answers per revision (from the sample app's x-cutover-revision header); 'failed' counts non-2xx and errors. */
  byRevision: Record<string, number>;
  /** The Set-Cookie headers of the answers, as sent. */
  setCookies: string[];
}

/** Sends `count` GETs over a few keep-alive connections and counts who answered. */
export async function sample(
  origin: string,
  count: number,
  options: { headers?: Record<string, string>; connections?: number; path?: string } = {},
): Promise<Sample> {
  const connections = options.connections ?? 16;
  const pool = new Pool(origin, { connections, keepAliveTimeout: 4_000 });
  const result: Sample = { byRevision: {}, setCookies: [] };
  let sent = 0;
  const worker = async (): Promise<void> => {
    while (sent < count) {
      sent += 1;
      let key = 'failed';
      try {
        const response = await pool.request({ path: options.path ?? '/', method: 'GET', headers: options.headers });
        await response.body.dump();
        if (response.statusCode < 300) key = String(response.headers['x-cutover-revision']);
        const cookie = response.headers['set-cookie'];
        if (cookie) result.setCookies.push(...(Array.isArray(cookie) ? cookie : [cookie]));
      } catch {
        // Counted as failed.
      }
      result.byRevision[key] = (result.byRevision[key] ?? 0) + 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, worker));
  } finally {
    await pool.close();
  }
  return result;
}

/** The share of answers (0..100) that came from `revision`. */
export function sharePercent(result: Sample, revision: number): number {
  const total = Object.values(result.byRevision).reduce((sum, n) => sum + n, 0);
  return total === 0 ? 0 : ((result.byRevision[String(revision)] ?? 0) / total) * 100;
}
