/**
 * Parses `ipset -L` (`Name:`/`Type:`/`Header:`/`Members:` blocks) and `ipset save` (`create`/`add` lines)
 * into an IpsetCollection. Members keep their element text, comment, timeout and line; typed lookups are
 * built later by ipsetMatch.ts. It never throws: text it cannot place becomes a line-numbered diagnostic.
 */

import { DiagnosticList, type Diagnostic, type ParseResult } from '../diagnostics';
import type { IpsetCollection, IpsetDimension, IpsetMember, IpsetSet } from './model';

const MAX_CHARS = 64 * 1024 * 1024;
/** Text from the file quoted in a diagnostic is cut to this many characters, so a huge line gives a short message. */
const QUOTE_LIMIT = 80;

function quote(text: string): string {
  return text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT - 3)}...` : text;
}

/** Header options that take no value. */
const FLAG_OPTIONS = new Set(['comment', 'counters', 'skbinfo', 'forceadd', 'nomatch', 'bucketsize-fixed']);
/** Member options that take no value. */
const MEMBER_FLAGS = new Set(['nomatch']);

type Draft = { -readonly [K in keyof IpsetSet]: IpsetSet[K] } & { members: IpsetMember[] };

export function parseIpset(text: string, file = 'ipset.txt'): ParseResult<IpsetCollection> {
  const diagnostics = new DiagnosticList(file);
  const diag = (line: number, severity: Diagnostic['severity'], message: string): void => diagnostics.add(line, severity, message);
  if (text.length > MAX_CHARS) {
    diag(0, 'error', `the file is larger than ${MAX_CHARS} characters; only the beginning was read`);
    text = text.slice(0, MAX_CHARS);
  }

  const sets: Draft[] = [];
  const byName = new Map<string, Draft>();
  const lines = text.split(/\r?\n/);
  let current: Draft | undefined;
  let inMembers = false;

  const startSet = (name: string, line: number): Draft => {
    const draft: Draft = { name, type: '', dimensions: [], header: {}, members: [], line };
    if (byName.has(name)) diag(line, 'warning', `set ${quote(name)} appears twice; lookups use the first`);
    else byName.set(name, draft);
    sets.push(draft);
    return draft;
  };

  const handle = (raw: string, lineNumber: number): void => {
    // A member line of `ipset -L` as ipset prints it (one word, no quotes): the bulk of a big listing.
    if (inMembers && current && isPlainMember(raw)) {
      addPlainMember(current, raw, lineNumber, diag);
      return;
    }
    const line = raw.trim();
    if (line === '') {
      inMembers = false;
      return;
    }

    // `ipset save` form.
    const save = /^(create|add|-N|-A)\s+(\S+)\s+(.*)$/.exec(line);
    if (save) {
      inMembers = false;
      const [, command, name, rest] = save as unknown as [string, string, string, string];
      if (command === 'create' || command === '-N') {
        current = startSet(name, lineNumber);
        const words = splitWords(rest);
        setType(current, words[0] ?? '', lineNumber, diag);
        readHeader(current, words.slice(1));
      } else {
        const owner = byName.get(name);
        if (!owner) {
          diag(lineNumber, 'warning', `member of set ${quote(name)} comes before its create line and was ignored`);
          return;
        }
        addMember(owner, rest, lineNumber, raw, diag);
      }
      return;
    }

    // `ipset -L` form.
    const field = /^(Name|Type|Revision|Header|Size in memory|References|Number of entries|Members):\s*(.*)$/.exec(line);
    if (field) {
      const [, key, value] = field as unknown as [string, string, string];
      if (key === 'Name') {
        current = startSet(value, lineNumber);
        inMembers = false;
        return;
      }
      if (!current) {
        diag(lineNumber, 'warning', `"${key}:" comes before any "Name:" line and was ignored`);
        return;
      }
      inMembers = false;
      switch (key) {
        case 'Type': setType(current, value, lineNumber, diag); break;
        case 'Revision': current.revision = integer(value); break;
        case 'Header': readHeader(current, splitWords(value)); break;
        case 'References': current.references = integer(value); break;
        case 'Number of entries': current.declaredEntries = integer(value); break;
        case 'Members':
          inMembers = true;
          if (value !== '') addMember(current, value, lineNumber, raw, diag);
          break;
        default: break;
      }
      return;
    }

    if (inMembers && current) {
      addMember(current, line, lineNumber, raw, diag);
      return;
    }
    diag(lineNumber, 'warning', `ignored text that is not part of ipset output: "${quote(line)}"`);
  };

  for (let index = 0; index < lines.length; index++) {
    const text = lines[index]!;
    if (!mayHoldLabels(text)) {
      handle(text, index + 1);
      continue;
    }
    for (const record of unfold(text, index + 1)) handle(record.text, record.line);
  }

  for (const set of sets) {
    if (set.declaredEntries !== undefined && set.declaredEntries !== set.members.length) {
      diag(set.line, 'warning', `set ${quote(set.name)} declares ${set.declaredEntries} entries but lists ${set.members.length}`);
    }
  }

  const frozen: IpsetSet[] = sets;
  const collection: IpsetCollection = {
    file,
    sets: frozen,
    get: (name: string) => byName.get(name),
  };
  return { value: collection, diagnostics: diagnostics.list() };
}

const FIELD_LABEL = /(?:^|\s)(?=(?:Name|Type|Revision|Header|Size in memory|References|Number of entries|Members):)/g;
/** Member options that take one value. */
const MEMBER_OPTIONS = new Set(['timeout', 'packets', 'bytes', 'comment', 'skbmark', 'skbprio', 'skbqueue']);

/**
 * A line as records with its 1-based line number. A listing copied from a web page may hold a whole set on one
 * line (`Name: X Type: hash:ip Header: … Members: a b c`); such a line is split back into its fields and members,
 * all keeping that line's number.
 */
function unfold(text: string, line: number): { text: string; line: number }[] {
  const labels = text.trim().match(/(?:^|\s)(?:Name|Type|Revision|Header|Size in memory|References|Number of entries|Members):/g) ?? [];
  if (labels.length < 2) return [{ text, line }];
  const records: { text: string; line: number }[] = [];
  for (const piece of text.trim().split(FIELD_LABEL)) {
    const members = /^Members:\s*(.*)$/.exec(piece.trim());
    if (!members) {
      records.push({ text: piece.trim(), line });
      continue;
    }
    records.push({ text: 'Members:', line });
    for (const member of splitFoldedMembers(members[1]!)) records.push({ text: member, line });
  }
  return records;
}

/** Every field label starts with one of these capitals, so a line without any of them holds none. */
function mayHoldLabels(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // N, T, R, H, S, M
    if (code === 78 || code === 84 || code === 82 || code === 72 || code === 83 || code === 77) return true;
  }
  return false;
}

/**
 * One word without blanks or quotes that does not start with a capital (so it is neither a field label nor a save
 * command): a member with no options, read without splitting.
 */
function isPlainMember(raw: string): boolean {
  const first = raw.charCodeAt(0);
  if (raw.length === 0 || (first >= 65 && first <= 90)) return false;
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code <= 32 || code === 34 || code === 0x85 || code === 0xa0 || code > 0xff) return false;
  }
  return true;
}

/** Members without options share one empty options list; nothing adds to a parsed member's options. */
const NO_OPTIONS: string[] = Object.freeze([]) as unknown as string[];

function addPlainMember(set: Draft, element: string, line: number, diag: (line: number, severity: Diagnostic['severity'], message: string) => void): void {
  if (set.dimensions.length > 0 && !element.includes('-')) {
    let parts = 1;
    for (let i = element.indexOf(','); i >= 0; i = element.indexOf(',', i + 1)) parts++;
    if (parts !== set.dimensions.length) {
      diag(line, 'warning', `member "${quote(element)}" of ${quote(set.name)} does not have the ${set.dimensions.length} parts a ${set.type} member has`);
    }
  }
  set.members.push({ element, nomatch: false, options: NO_OPTIONS, line, raw: element });
}

/** Splits `a timeout 5 b comment "x y" c` into members, keeping each member's options with it. */
function splitFoldedMembers(text: string): string[] {
  const members: string[][] = [];
  const words = text.match(/"[^"]*"|\S+/g) ?? [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const current = members[members.length - 1];
    if (current && MEMBER_OPTIONS.has(word) && i + 1 < words.length) {
      current.push(word, words[++i]!);
    } else if (current && MEMBER_FLAGS.has(word)) {
      current.push(word);
    } else {
      members.push([word]);
    }
  }
  return members.map((member) => member.join(' '));
}

function setType(set: Draft, type: string, line: number, diag: (line: number, severity: Diagnostic['severity'], message: string) => void): void {
  set.type = type;
  const dimensions = dimensionsOf(type);
  if (!dimensions) diag(line, 'info', `set ${quote(set.name)} has type "${quote(type)}", which membership tests cannot decide`);
  set.dimensions = dimensions ?? [];
}

/** The dimensions of a set type, or undefined for a type name that is not `method:part,part`. */
export function dimensionsOf(type: string): IpsetDimension[] | undefined {
  const match = /^(hash|bitmap|list):([a-z,]+)$/.exec(type);
  if (!match) return undefined;
  const parts = match[2]!.split(',');
  const known: Record<string, IpsetDimension> = { ip: 'ip', net: 'net', port: 'port', mac: 'mac', mark: 'mark', iface: 'iface', set: 'set' };
  const dimensions = parts.map((part) => known[part]);
  return dimensions.every((dimension) => dimension !== undefined) ? (dimensions as IpsetDimension[]) : undefined;
}

function readHeader(set: Draft, words: string[]): void {
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (FLAG_OPTIONS.has(word) || i + 1 >= words.length) {
      set.header[word] = '';
    } else {
      set.header[word] = words[i + 1]!;
      i++;
    }
  }
  const family = set.header['family'];
  if (family === 'inet' || family === 'inet6') set.family = family;
}

function addMember(
  set: Draft,
  text: string,
  line: number,
  raw: string,
  diag: (line: number, severity: Diagnostic['severity'], message: string) => void,
): void {
  const words = splitWords(text);
  const element = words[0];
  if (element === undefined) return;
  const options: string[] = [];
  let timeout: number | undefined;
  let comment: string | undefined;
  let nomatch = false;
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    if (MEMBER_FLAGS.has(word)) {
      nomatch = true;
    } else if (word === 'timeout') {
      timeout = integer(words[i + 1] ?? '');
      i++;
    } else if (word === 'comment') {
      comment = words[i + 1];
      i++;
    } else {
      options.push(word);
    }
  }
  if (set.dimensions.length > 0 && element.split(',').length !== set.dimensions.length && !element.includes('-')) {
    diag(line, 'warning', `member "${quote(element)}" of ${quote(set.name)} does not have the ${set.dimensions.length} parts a ${set.type} member has`);
  }
  set.members.push({
    element,
    ...(timeout !== undefined ? { timeout } : {}),
    ...(comment !== undefined ? { comment } : {}),
    nomatch,
    options,
    line,
    raw: raw.trimEnd(),
  });
}

/** Splits on whitespace, keeping `"double quoted"` text (comments) as one word without its quotes. */
function splitWords(text: string): string[] {
  const words: string[] = [];
  const pattern = /"([^"]*)"|(\S+)/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    words.push(match[1] ?? match[2] ?? '');
  }
  return words;
}

function integer(text: string): number | undefined {
  return /^\d+$/.test(text.trim()) ? Number(text.trim()) : undefined;
}
