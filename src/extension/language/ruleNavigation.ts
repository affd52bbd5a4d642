/**
 * Navigation in an iptables-save file without vscode: which chain name is under the cursor, where that chain
 * is declared, every rule that jumps to it, and the outline of tables and chains. The providers in
 * languageFeatures.ts turn these line/column answers into vscode locations.
 */

import type { Ruleset } from '../../core/iptables/model';
import { tokenAt } from '../../core/explain/tokenAt';
import { jumpsTo } from '../../core/explain/explainIptables';
import { lastRuleLineOf, ruleCountOf } from '../../core/iptables/parseIptablesSave';

export interface LineSpan {
  /** 1-based line. */
  line: number;
  /** 0-based columns. */
  start: number;
  end: number;
}

/** The text of a 1-based line of the document, or undefined past its end. */
export type LineText = (line: number) => string | undefined;

export interface ChainAtCursor {
  table: string;
  chain: string;
  span: LineSpan;
}

export interface OutlineTable {
  name: string;
  line: number;
  endLine: number;
  chains: { name: string; line: number; endLine: number; rules: number; builtin: boolean }[];
}

/** The table a 1-based line belongs to. */
export function tableAt(ruleset: Ruleset, line: number): string | undefined {
  let best: { name: string; line: number } | undefined;
  for (const table of ruleset.tables.values()) if (table.line <= line && (!best || table.line > best.line)) best = table;
  return best?.name;
}

/** A chain name under the cursor: `:NAME`, `-A NAME`, `-j NAME` or `-g NAME` of a chain that exists in that table. */
export function chainAt(ruleset: Ruleset, lineText: string, line: number, column: number): ChainAtCursor | undefined {
  const found = tokenAt(lineText, column);
  const table = tableAt(ruleset, line);
  if (!found || !table) return undefined;
  const { token, words } = found;
  const previous = words[token.index - 1]?.text;
  let name = token.text;
  let start = token.start;
  if (token.index === 0 && name.startsWith(':')) {
    name = name.slice(1);
    start += 1;
  } else if (!(previous === '-A' || previous === '-I' || previous === '-j' || previous === '-g' || previous === '-N')) {
    return undefined;
  }
  if (!ruleset.tables.get(table)?.chains.has(name)) return undefined;
  return { table, chain: name, span: { line, start, end: start + name.length } };
}

/** Where a chain is declared: its `:NAME` line, with the name's columns. */
export function chainDefinition(ruleset: Ruleset, table: string, chain: string, lineText: LineText): LineSpan | undefined {
  const declared = ruleset.tables.get(table)?.chains.get(chain);
  if (!declared) return undefined;
  const text = lineText(declared.line) ?? '';
  const column = text.indexOf(chain);
  return { line: declared.line, start: Math.max(0, column), end: Math.max(0, column) + chain.length };
}

/** Every `-j`/`-g` to the chain, pointing at the target word. */
export function chainReferences(ruleset: Ruleset, table: string, chain: string, lineText: LineText): LineSpan[] {
  const jump = new RegExp(`\\s-[jg]\\s+(${chain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})(\\s|$)`);
  return jumpsTo(ruleset, table, chain).map((rule) => {
    const text = lineText(rule.line) ?? rule.raw;
    const match = jump.exec(text);
    const start = match ? match.index + match[0].indexOf(chain, 3) : 0;
    return { line: rule.line, start, end: start + chain.length };
  });
}

/** Tables and their chains with line ranges, for the outline. */
export function outline(ruleset: Ruleset, lineCount: number): OutlineTable[] {
  const tables = [...ruleset.tables.values()].sort((a, b) => a.line - b.line);
  return tables.map((table, index) => {
    const next = tables[index + 1];
    const endLine = next ? next.line - 1 : lineCount;
    const chains = [...table.chains.values()]
      .map((chain) => {
        // Read from the parser's store: making (and keeping) every chain's Rule objects cost 33 MB on a big node.
        const last = Math.max(lastRuleLineOf(chain) ?? chain.line, chain.line);
        return { name: chain.name, line: chain.line, endLine: Math.min(last, endLine), rules: ruleCountOf(chain), builtin: chain.builtin };
      })
      .sort((a, b) => a.line - b.line);
    return { name: table.name, line: table.line, endLine, chains };
  });
}

/** 1-based lines of `:KUBE-SVC-…` declarations in the nat table, where the "Trace" CodeLens goes. */
export function serviceChainLines(ruleset: Ruleset): { chain: string; line: number }[] {
  const nat = ruleset.tables.get('nat');
  if (!nat) return [];
  return [...nat.chains.values()].filter((chain) => chain.name.startsWith('KUBE-SVC-') || chain.name.startsWith('KUBE-SVL-')).map((chain) => ({ chain: chain.name, line: chain.line }));
}
