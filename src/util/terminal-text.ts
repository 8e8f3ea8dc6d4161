/**
 * Characters a terminal acts on instead of showing: C0 controls but tab and newline (ESC, BEL,
 * carriage return and backspace among them), DEL, and the C1 controls (U+0080–U+009F, CSI and
 * OSC among them).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point.
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Text from outside cutover (hook output, app log lines, reasons quoting them) as a terminal
 * must show it: every control character written out as `\xHH`, so an `ESC ] 0;… BEL` cannot
 * retitle the window, `ESC [2J` cannot clear the screen and an OSC 8 link cannot hide where
 * it points. For human-readable output only: `--json` prints values exactly.
 *
 * @example
 * visible('done\u001b]0;pwned\u0007 ok\n'); // 'done\\x1b]0;pwned\\x07 ok\n'
 */
export function visible(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (character) => `\\x${character.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
