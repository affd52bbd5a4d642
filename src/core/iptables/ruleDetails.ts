/**
 * Reads the tokens of one rule (everything after `-A CHAIN`) into typed fields: addresses, protocol,
 * interfaces, `-m` match modules with their options, and the target with its options. Problems become
 * messages; nothing throws. The line loop that feeds this lives in parseIptablesSave.ts.
 */

import type { Negatable, RuleMatch, RuleOption, RuleTarget } from './model';
import { isOptionLike, type Tokens } from './tokenize';

export interface RuleDetails {
  source?: Negatable<string>;
  destination?: Negatable<string>;
  protocol?: Negatable<string>;
  inInterface?: Negatable<string>;
  outInterface?: Negatable<string>;
  fragment?: Negatable<true>;
  matches: RuleMatch[];
  target?: RuleTarget;
  comment?: string;
  counters?: { packets: number; bytes: number };
  problems: string[];
}

type BasicField = 'source' | 'destination' | 'protocol' | 'inInterface' | 'outInterface';

const BASIC_OPTIONS: Record<string, BasicField> = {
  '-s': 'source',
  '--source': 'source',
  '--src': 'source',
  '-d': 'destination',
  '--destination': 'destination',
  '--dst': 'destination',
  '-p': 'protocol',
  '--protocol': 'protocol',
  '-i': 'inInterface',
  '--in-interface': 'inInterface',
  '-o': 'outInterface',
  '--out-interface': 'outInterface',
};

/** Protocols whose options (`--dport` …) may follow `-p` without an explicit `-m`. */
const IMPLICIT_PROTOCOL_MODULES = new Set(['tcp', 'udp', 'sctp', 'icmp', 'udplite', 'dccp']);

/** Reads the arguments that follow position `index`, up to the next option. */
function readArgs(tokens: Tokens, index: number): { args: string[]; next: number } {
  const args: string[] = [];
  let i = index;
  while (i < tokens.tokens.length && (tokens.quoted?.has(i) || !isOptionLike(tokens.tokens[i]))) {
    args.push(tokens.tokens[i]);
    i++;
  }
  return { args, next: i };
}

export function parseRuleDetails(tokens: Tokens, start: number): RuleDetails {
  const details: RuleDetails = { matches: [], problems: [] };
  const list = tokens.tokens;
  let currentMatch: RuleMatch | undefined;
  let negateNext = false;
  let i = start;
  while (i < list.length) {
    const token = list[i];
    if (tokens.quoted?.has(i)) {
      details.problems.push(`unexpected text "${token}" where an option was expected`);
      i++;
      continue;
    }
    if (token === '!') {
      negateNext = true;
      i++;
      continue;
    }
    const negated = negateNext;
    negateNext = false;
    const basic = BASIC_OPTIONS[token];
    if (basic) {
      const value = list[i + 1];
      if (value === undefined || (isOptionLike(value) && !tokens.quoted?.has(i + 1))) {
        details.problems.push(`option ${token} needs a value`);
        i++;
        continue;
      }
      details[basic] = { negated, value };
      if (basic === 'protocol') currentMatch = undefined;
      i += 2;
      continue;
    }
    if (token === '-f' || token === '--fragment') {
      details.fragment = { negated, value: true };
      i++;
      continue;
    }
    if (token === '-c' || token === '--set-counters') {
      const packets = Number(list[i + 1]);
      const bytes = Number(list[i + 2]);
      if (Number.isFinite(packets) && Number.isFinite(bytes)) details.counters = { packets, bytes };
      else details.problems.push(`option ${token} needs two numbers`);
      i += 3;
      continue;
    }
    if (token === '-m' || token === '--match') {
      const module = list[i + 1];
      if (module === undefined || isOptionLike(module)) {
        details.problems.push(`option ${token} needs a module name`);
        i++;
        continue;
      }
      currentMatch = { module, options: [] };
      details.matches.push(currentMatch);
      i += 2;
      continue;
    }
    if (token === '-j' || token === '--jump' || token === '-g' || token === '--goto') {
      const name = list[i + 1];
      if (name === undefined || isOptionLike(name)) {
        details.problems.push(`option ${token} needs a target`);
        i++;
        continue;
      }
      const kind = token === '-g' || token === '--goto' ? 'goto' : 'jump';
      const options: RuleOption[] = [];
      i += 2;
      let negateTargetOption = false;
      while (i < list.length) {
        const optionToken = list[i];
        if (optionToken === '!' && !tokens.quoted?.has(i)) {
          negateTargetOption = true;
          i++;
          continue;
        }
        if (!optionToken.startsWith('--') || tokens.quoted?.has(i)) break;
        const { args, next } = readArgs(tokens, i + 1);
        options.push({ name: optionToken.slice(2), negated: negateTargetOption, args });
        negateTargetOption = false;
        i = next;
      }
      if (details.target) details.problems.push(`a second target ${name} after ${details.target.name}`);
      else details.target = { name, kind, options };
      continue;
    }
    if (token.startsWith('--') && token.length > 2) {
      const { args, next } = readArgs(tokens, i + 1);
      if (!currentMatch) {
        const protocol = details.protocol?.value;
        if (protocol && IMPLICIT_PROTOCOL_MODULES.has(protocol)) {
          currentMatch = { module: protocol, options: [] };
          details.matches.push(currentMatch);
        }
      }
      if (currentMatch) {
        currentMatch.options.push({ name: token.slice(2), negated, args });
        if (currentMatch.module === 'comment' && token === '--comment') details.comment = args.join(' ');
      } else {
        details.problems.push(`option ${token} stands outside any -m match module`);
      }
      i = next;
      continue;
    }
    details.problems.push(`unknown option "${token}"`);
    i++;
  }
  if (negateNext) details.problems.push('a "!" with nothing after it');
  return details;
}

/** The first option with one of the names (without dashes), as a match module or target wrote it. */
export function findOption(options: readonly RuleOption[] | undefined, ...names: string[]): RuleOption | undefined {
  return options?.find((candidate) => names.includes(candidate.name));
}
