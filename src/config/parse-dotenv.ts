/** One `NAME=value` of a dotenv file, with the line it is on. */
export interface DotenvEntry {
  name: string;
  value: string;
  line: number;
}

/** What is wrong with one line; the value is never quoted back (it may be a secret). */
export interface DotenvProblem {
  line: number;
  message: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DOUBLE_QUOTED_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', $: '$' };

/**
 * Reads a dotenv file: `NAME=value` lines, optionally after `export `; blank lines and `#`
 * comments skipped; a value unquoted (trimmed, a ` #` starts a comment), in single quotes
 * (as written) or in double quotes (`\n`, `\t`, `\"`, `\\` escapes; may span lines). Nothing
 * is expanded. Problems name their line, never the value.
 *
 * @example
 * parseDotenv('# db\nexport DATABASE_URL="postgres://app:s3cret@db/app"\nDEBUG=0 # off\n');
 * // { entries: [{ name: 'DATABASE_URL', value: 'postgres://app:s3cret@db/app', line: 2 }, { name: 'DEBUG', value: '0', line: 3 }], problems: [] }
 */
export function parseDotenv(text: string): { entries: DotenvEntry[]; problems: DotenvProblem[] } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const entries: DotenvEntry[] = [];
  const problems: DotenvProblem[] = [];
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const line = lines[index]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (match === null) {
      problems.push({ line: lineNumber, message: 'expected NAME=value' });
      continue;
    }
    const [, name, rest] = match as unknown as [string, string, string];
    if (!NAME.test(name)) {
      problems.push({ line: lineNumber, message: `${JSON.stringify(name)} is not a valid environment variable name` });
      continue;
    }
    const quote = rest[0];
    if (quote === "'" || quote === '"') {
      let body = rest.slice(1);
      let end = closingQuote(body, quote);
      // A double-quoted value may go on over the next lines.
      while (end === -1 && quote === '"' && index + 1 < lines.length) {
        body += `\n${lines[++index]!}`;
        end = closingQuote(body, quote);
      }
      if (end === -1) {
        problems.push({ line: lineNumber, message: `the value of ${name} has no closing ${quote}` });
        continue;
      }
      const after = body.slice(end + 1).trim();
      if (after !== '' && !after.startsWith('#')) {
        problems.push({ line: lineNumber, message: `unexpected text after the quoted value of ${name}` });
        continue;
      }
      const raw = body.slice(0, end);
      entries.push({ name, value: quote === "'" ? raw : raw.replace(/\\(.)/g, (whole, c: string) => DOUBLE_QUOTED_ESCAPES[c] ?? whole), line: lineNumber });
      continue;
    }
    entries.push({ name, value: rest.replace(/\s+#.*$/, '').trim(), line: lineNumber });
  }
  return { entries, problems };
}

function closingQuote(text: string, quote: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && quote === '"') i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}
