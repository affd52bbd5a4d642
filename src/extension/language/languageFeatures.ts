/**
 * Language features for the rule files of a snapshot: hovers for iptables-save, ipvsadm, ipset and ip-route
 * output (explanations from src/core/explain), and for iptables-save also go to definition, find references,
 * the outline and a "Trace" CodeLens above each Service chain. The document's own text is parsed for
 * navigation; hovers also need the whole snapshot's Service tree, which DocumentContexts provides.
 */

import * as vscode from 'vscode';
import type { Analysis } from '../../core/analyze';
import { explainIpsetAt } from '../../core/explain/explainIpset';
import { explainIptablesAt, type Explanation } from '../../core/explain/explainIptables';
import { explainIpvsadmAt } from '../../core/explain/explainIpvsadm';
import { explainRouteAt } from '../../core/explain/explainRoutes';
import type { Ruleset } from '../../core/iptables/model';
import { parseIptablesSave } from '../../core/iptables/parseIptablesSave';
import { servicesOfChain } from '../../core/explain/serviceLookup';
import { chainAt, chainDefinition, chainReferences, outline, serviceChainLines, type LineSpan } from './ruleNavigation';

export const LANGUAGES = { iptables: 'iptables-save', ipvsadm: 'ipvsadm', ipset: 'ipset', route: 'ip-route' } as const;

/** The snapshot analysis a document belongs to (its folder), when the folder can be analysed. */
export type AnalysisForFolder = (folder: string) => Promise<Analysis | undefined>;

/** Parses each iptables-save document once per version. */
class ParsedDocuments {
  readonly #cache = new Map<string, { version: number; ruleset: Ruleset; lines: string[] }>();

  get(document: vscode.TextDocument): { ruleset: Ruleset; lines: string[] } {
    const key = document.uri.toString();
    const cached = this.#cache.get(key);
    if (cached && cached.version === document.version) return cached;
    const text = document.getText();
    const entry = { version: document.version, ruleset: parseIptablesSave(text, document.uri.path.split('/').pop()).value, lines: text.split(/\r?\n/) };
    this.#cache.set(key, entry);
    return entry;
  }

  forget(document: vscode.TextDocument): void {
    this.#cache.delete(document.uri.toString());
  }
}

function toRange(span: LineSpan): vscode.Range {
  return new vscode.Range(span.line - 1, span.start, span.line - 1, span.end);
}

function toHover(explanation: Explanation | undefined, line: number): vscode.Hover | undefined {
  if (!explanation) return undefined;
  const markdown = new vscode.MarkdownString(explanation.markdown);
  markdown.isTrusted = false;
  markdown.supportHtml = false;
  return new vscode.Hover(markdown, new vscode.Range(line, explanation.start, line, explanation.end));
}

function folderOf(document: vscode.TextDocument): string {
  return vscode.Uri.joinPath(document.uri, '..').fsPath;
}

export function registerLanguageFeatures(analysisFor: AnalysisForFolder): vscode.Disposable[] {
  const parsed = new ParsedDocuments();
  const iptables: vscode.DocumentSelector = { language: LANGUAGES.iptables };
  const contextFor = async (document: vscode.TextDocument) => {
    const analysis = document.uri.scheme === 'file' ? await analysisFor(folderOf(document)) : undefined;
    return { analysis, ...parsed.get(document) };
  };
  return [
    vscode.workspace.onDidCloseTextDocument((document) => parsed.forget(document)),
    vscode.languages.registerHoverProvider(iptables, {
      async provideHover(document, position) {
        const { analysis, ruleset } = await contextFor(document);
        const explanation = explainIptablesAt(document.lineAt(position.line).text, position.line + 1, position.character, {
          ruleset,
          services: analysis?.services,
        });
        return toHover(explanation, position.line);
      },
    }),
    vscode.languages.registerHoverProvider({ language: LANGUAGES.ipvsadm }, {
      async provideHover(document, position) {
        const analysis = document.uri.scheme === 'file' ? await analysisFor(folderOf(document)) : undefined;
        const lines = document.getText().split(/\r?\n/);
        return toHover(explainIpvsadmAt(lines, position.line + 1, position.character, analysis?.services), position.line);
      },
    }),
    vscode.languages.registerHoverProvider({ language: LANGUAGES.ipset }, {
      async provideHover(document, position) {
        const analysis = document.uri.scheme === 'file' ? await analysisFor(folderOf(document)) : undefined;
        return toHover(explainIpsetAt(document.lineAt(position.line).text, position.character, analysis?.services), position.line);
      },
    }),
    vscode.languages.registerHoverProvider({ language: LANGUAGES.route }, {
      async provideHover(document, position) {
        const analysis = document.uri.scheme === 'file' ? await analysisFor(folderOf(document)) : undefined;
        return toHover(explainRouteAt(document.lineAt(position.line).text, position.character, analysis?.services), position.line);
      },
    }),
    vscode.languages.registerDefinitionProvider(iptables, {
      provideDefinition(document, position) {
        const { ruleset, lines } = parsed.get(document);
        const chain = chainAt(ruleset, document.lineAt(position.line).text, position.line + 1, position.character);
        const span = chain && chainDefinition(ruleset, chain.table, chain.chain, lines);
        return span ? new vscode.Location(document.uri, toRange(span)) : undefined;
      },
    }),
    vscode.languages.registerReferenceProvider(iptables, {
      provideReferences(document, position, context) {
        const { ruleset, lines } = parsed.get(document);
        const chain = chainAt(ruleset, document.lineAt(position.line).text, position.line + 1, position.character);
        if (!chain) return [];
        const spans = chainReferences(ruleset, chain.table, chain.chain, lines);
        if (context.includeDeclaration) {
          const definition = chainDefinition(ruleset, chain.table, chain.chain, lines);
          if (definition) spans.unshift(definition);
        }
        return spans.map((span) => new vscode.Location(document.uri, toRange(span)));
      },
    }),
    vscode.languages.registerDocumentSymbolProvider(iptables, {
      provideDocumentSymbols(document) {
        const { ruleset } = parsed.get(document);
        const lastLine = (line: number) => Math.max(0, Math.min(line, document.lineCount) - 1);
        return outline(ruleset, document.lineCount).map((table) => {
          const range = new vscode.Range(table.line - 1, 0, lastLine(table.endLine), 0);
          const symbol = new vscode.DocumentSymbol(`*${table.name}`, 'table', vscode.SymbolKind.Namespace, range, new vscode.Range(table.line - 1, 0, table.line - 1, table.name.length + 1));
          symbol.children = table.chains.map((chain) => {
            const chainRange = new vscode.Range(chain.line - 1, 0, lastLine(chain.endLine), 0);
            const detail = `${chain.rules} rule${chain.rules === 1 ? '' : 's'}`;
            return new vscode.DocumentSymbol(chain.name, detail, chain.builtin ? vscode.SymbolKind.Event : vscode.SymbolKind.Function, chainRange, new vscode.Range(chain.line - 1, 0, chain.line - 1, 0));
          });
          return symbol;
        });
      },
    }),
    vscode.languages.registerCodeLensProvider(iptables, {
      async provideCodeLenses(document) {
        const { analysis, ruleset } = await contextFor(document);
        return serviceChainLines(ruleset).flatMap(({ chain, line }) => {
          const service = servicesOfChain(analysis?.services, chain)[0];
          if (!service) return [];
          const range = new vscode.Range(line - 1, 0, line - 1, 0);
          return [new vscode.CodeLens(range, { title: `Trace ${service.id}`, command: 'kubeNetpath.traceService', arguments: [{ folder: folderOf(document), serviceId: service.id, protocol: service.protocol }] })];
        });
      },
    }),
  ];
}
