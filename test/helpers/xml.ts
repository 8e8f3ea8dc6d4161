/**
 * A small strict XML 1.0 reader for the tests: elements, attributes, text, the five named
 * entities and character references, comments and the XML declaration. It throws on anything
 * malformed (an unclosed or mismatched tag, a bare `&` or `<`, a character XML cannot hold), so
 * "it parses" means a CI server's XML parser would read the file too.
 */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: (XmlElement | string)[];
}

const NAME = /[A-Za-z_:][\w.:-]*/y;
const ATTRIBUTE = /\s+([A-Za-z_:][\w.:-]*)\s*=\s*("[^"<]*"|'[^'<]*')/y;
// eslint-disable-next-line no-control-regex -- these are the characters XML 1.0 forbids
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function parseXml(text: string): XmlElement {
  if (FORBIDDEN.test(text)) throw new Error(`a character XML 1.0 forbids at ${text.search(FORBIDDEN)}`);
  let at = text.startsWith('<?xml') ? text.indexOf('?>') + 2 : 0;
  const skipMisc = (): void => {
    for (;;) {
      const rest = text.slice(at);
      const space = /^\s*/.exec(rest)![0].length;
      at += space;
      if (text.startsWith('<!--', at)) at = text.indexOf('-->', at) + 3;
      else return;
    }
  };
  const readElement = (): XmlElement => {
    if (text[at] !== '<') throw new Error(`expected an element at ${at}`);
    NAME.lastIndex = at + 1;
    const name = NAME.exec(text)?.[0];
    if (!name) throw new Error(`a tag without a name at ${at}`);
    at = NAME.lastIndex;
    const element: XmlElement = { name, attributes: {}, children: [] };
    for (let match; (ATTRIBUTE.lastIndex = at), (match = ATTRIBUTE.exec(text)); at = ATTRIBUTE.lastIndex) {
      if (match[1]! in element.attributes) throw new Error(`attribute ${match[1]} twice in <${name}>`);
      element.attributes[match[1]!] = decode(match[2]!.slice(1, -1), at);
    }
    const end = /^\s*(\/?)>/.exec(text.slice(at));
    if (!end) throw new Error(`<${name}> is not closed properly at ${at}`);
    at += end[0].length;
    if (end[1] === '/') return element;
    for (;;) {
      const next = text.indexOf('<', at);
      if (next < 0) throw new Error(`<${name}> is never closed`);
      if (next > at) element.children.push(decode(text.slice(at, next), at));
      at = next;
      if (text.startsWith('<!--', at)) at = text.indexOf('-->', at) + 3;
      else if (text.startsWith('</', at)) {
        const close = new RegExp(`^</${name.replace(/[.:-]/g, '\\$&')}\\s*>`).exec(text.slice(at));
        if (!close) throw new Error(`</…> at ${at} does not close <${name}>`);
        at += close[0].length;
        return element;
      } else element.children.push(readElement());
    }
  };
  skipMisc();
  const root = readElement();
  skipMisc();
  if (at !== text.length) throw new Error(`content after the root element at ${at}`);
  return root;
}

function decode(raw: string, at: number): string {
  if (raw.includes('>') && raw.includes(']]>')) throw new Error(`"]]>" in text at ${at}`);
  return raw.replace(/&([^;]*);?/g, (whole, name: string) => {
    if (!whole.endsWith(';')) throw new Error(`a bare & at ${at}`);
    if (name in ENTITIES) return ENTITIES[name]!;
    const code = /^#x([0-9a-fA-F]+)$/.exec(name)?.[1] ?? /^#(\d+)$/.exec(name)?.[1];
    if (code === undefined) throw new Error(`unknown entity &${name}; at ${at}`);
    return String.fromCodePoint(name.startsWith('#x') ? parseInt(code, 16) : Number(code));
  });
}

/** Every element named `name` under `root` (itself included), in document order. */
export function xmlElements(root: XmlElement, name: string): XmlElement[] {
  const found = root.name === name ? [root] : [];
  for (const child of root.children) if (typeof child !== 'string') found.push(...xmlElements(child, name));
  return found;
}

/** The text inside an element, its children's included. */
export function xmlText(element: XmlElement): string {
  return element.children.map((child) => (typeof child === 'string' ? child : xmlText(child))).join('');
}
