import type { EventRecord } from '../model/records.js';
import { visible } from '../util/terminal-text.js';

const isTerminal = process.stdout.isTTY === true && !process.env.NO_COLOR;

const COLORS: Record<string, string> = { red: '31', green: '32', yellow: '33', dim: '2', bold: '1', cyan: '36' };

export function paint(color: keyof typeof COLORS, text: string): string {
  return isTerminal ? `\u001b[${COLORS[color]}m${text}\u001b[0m` : text;
}

const EVENT_COLORS: Record<string, keyof typeof COLORS> = {
  'rollout-promoted': 'green',
  'rollout-rolled-back': 'yellow',
  'rollout-rolling-back': 'yellow',
  'rollout-failed': 'red',
  'instance-failed': 'red',
  'instance-killed': 'red',
  'instance-ready': 'green',
  'rollout-gate': 'yellow',
  'rollout-aborted': 'yellow',
  traffic: 'cyan',
  'hook-failed': 'red',
  'hook-interrupted': 'yellow',
  'hook-succeeded': 'green',
};

export function printEvent(event: EventRecord): void {
  console.log(formatEvent(event));
}

/** One event as a line: its time (UTC), app and message. */
export function formatEvent(event: EventRecord): string {
  const time = new Date(event.at).toISOString().slice(11, 23);
  const color = EVENT_COLORS[event.kind];
  // Events quote hook output and app log lines: shown, never obeyed by the terminal.
  const shown = visible(event.message);
  const message = color ? paint(color, shown) : shown;
  return `${paint('dim', time)} ${event.app}  ${message}`;
}

/** A plain text table, columns padded to their widest cell. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
