/**
 * Language features for the rule files of a snapshot: hovers for iptables-save, ipvsadm, ipset and ip-route
 * output (explanations from src/core/explain), and for iptables-save also go to definition, find references,
 * the outline and a "Trace" CodeLens above each Service chain. All of them read the document's Ruleset from
 * DocumentRulesets (the snapshot's analysis when the document is unchanged) and the snapshot's Service tree.
 */

import * as vscode from 'vscode';
import type { Analysis } from '../../core/analyze';
import { explainIpsetAt } from '../../core/explain/explainIpset';
import type { Explanation } from '../../core/explain/explainIptables';
import { explainIpvsadmAt } from '../../core/explain/explainIpvsadm';
import { explainRouteAt } from '../../core/explain/explainRoutes';
import { servicesOfChain } from '../../core/explain/serviceLookup';
import { DocumentRulesets, explainIptablesDocumentAt } from './iptablesDocuments';
import { chainAt, chainDefinition, chainReferences, outline, serviceChainLines, type LineSpan, type LineText } from './ruleNavigation';

export const LANGUAGES = { iptables: 'iptables-save', ipvsadm: 'ipvsadm', ipset: 'ipset', route: 'ip-route' } as const;

/** The snapshot analysis a document belongs to (its folder), when the folder can be analysed. */
export type AnalysisForFolder = (folder: string) => Promise<Analysis | undefined>;

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

function lineTextOf(document: vscode.TextDocument): LineText {
  return (line) => (line >= 1 && line <= document.lineCount ? document.lineAt(line - 1).text : undefined);
}

export function registerLanguageFeatures(analysisFor: AnalysisForFolder): vscode.Disposable[] {
  const rulesets = new DocumentRulesets();
  const iptables: vscode.DocumentSelector = { language: LANGUAGES.iptables };
  const analysisOf = (document: vscode.TextDocument) => (document.uri.scheme === 'file' ? analysisFor(folderOf(document)) : Promise.resolve(undefined));
  const contextFor = async (document: vscode.TextDocument) => {
    const analysis = await analysisOf(document);
    return { analysis, ruleset: rulesets.get(document, analysis) };
  };
  return [
    vscode.workspace.onDidCloseTextDocument((document) => rulesets.forget(document)),
    vscode.languages.registerHoverProvider(iptables, {
      async provideHover(document, position) {
        const analysis = await analysisOf(document);
        return toHover(explainIptablesDocumentAt(rulesets, document, analysis, position.line, position.character), position.line);
      },
    }),
    vscode.languages.registerHoverProvider({ language: LANGUAGES.ipvsadm }, {
      async provideHover(document, position) {
        const analysis = document.uri.scheme === 'file' ? await analysisFor(folderOf(document)) : undefined;
        const lineOf = (index: number) => (index >= 0 && index < document.lineCount ? document.lineAt(index).text : undefined);
        return toHover(explainIpvsadmAt(lineOf, position.line + 1, position.character, analysis?.services), position.line);
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
      async provideDefinition(document, position) {
        const { ruleset } = await contextFor(document);
        const chain = chainAt(ruleset, document.lineAt(position.line).text, position.line + 1, position.character);
        const span = chain && chainDefinition(ruleset, chain.table, chain.chain, lineTextOf(document));
        return span ? new vscode.Location(document.uri, toRange(span)) : undefined;
      },
    }),
    vscode.languages.registerReferenceProvider(iptables, {
      async provideReferences(document, position, context) {
        const { ruleset } = await contextFor(document);
        const chain = chainAt(ruleset, document.lineAt(position.line).text, position.line + 1, position.character);
        if (!chain) return [];
        const lineText = lineTextOf(document);
        const spans = chainReferences(ruleset, chain.table, chain.chain, lineText);
        if (context.includeDeclaration) {
          const definition = chainDefinition(ruleset, chain.table, chain.chain, lineText);
          if (definition) spans.unshift(definition);
        }
        return spans.map((span) => new vscode.Location(document.uri, toRange(span)));
      },
    }),
    vscode.languages.registerDocumentSymbolProvider(iptables, {
      async provideDocumentSymbols(document) {
        const { ruleset } = await contextFor(document);
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
