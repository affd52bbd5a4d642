/**
 * Language features for the rule files of a snapshot: hovers for iptables-save, ipvsadm, ipset and ip-route
 * output, and for iptables-save also go to definition, find references, the outline and a "Trace" CodeLens
 * above each Service chain. The analysis worker answers them all (it holds the snapshot's Rulesets and Service
 * tree); this file only sends it the document's text once per version and turns answers into vscode objects.
 */

import * as vscode from 'vscode';
import type { Explanation } from '../../core/explain/explainIptables';
import type { DocumentRef } from '../analysis/analysisProtocol';
import { askAboutDocument, type LanguageBackend } from './askAboutDocument';
import type { LineSpan } from './ruleNavigation';

export const LANGUAGES = { iptables: 'iptables-save', ipvsadm: 'ipvsadm', ipset: 'ipset', route: 'ip-route' } as const;

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

function refOf(document: vscode.TextDocument): DocumentRef {
  return { uri: document.uri.toString(), path: document.uri.path, version: document.version, languageId: document.languageId };
}

/** The snapshot folder a rule file belongs to; documents that are not files belong to none. */
function folderOf(document: vscode.TextDocument): string | undefined {
  return document.uri.scheme === 'file' ? vscode.Uri.joinPath(document.uri, '..').fsPath : undefined;
}

export function registerLanguageFeatures(analysis: LanguageBackend): vscode.Disposable[] {
  const ask = <T>(document: vscode.TextDocument, question: (folder: string | undefined, ref: DocumentRef) => Promise<T>): Promise<T> =>
    askAboutDocument(analysis, document, refOf(document), (ref) => question(folderOf(document), ref));
  const iptables: vscode.DocumentSelector = { language: LANGUAGES.iptables };
  return [
    vscode.workspace.onDidCloseTextDocument((document) => void analysis.call('closeDocument', document.uri.toString()).catch(() => undefined)),
    vscode.languages.registerHoverProvider(
      Object.values(LANGUAGES).map((language) => ({ language })),
      {
        async provideHover(document, position) {
          const explanation = await ask(document, (folder, ref) => analysis.call('hover', folder, ref, position.line, position.character));
          return toHover(explanation ?? undefined, position.line);
        },
      },
    ),
    vscode.languages.registerDefinitionProvider(iptables, {
      async provideDefinition(document, position) {
        const span = await ask(document, (folder, ref) => analysis.call('definition', folder, ref, position.line, position.character));
        return span ? new vscode.Location(document.uri, toRange(span)) : undefined;
      },
    }),
    vscode.languages.registerReferenceProvider(iptables, {
      async provideReferences(document, position, context) {
        const spans = await ask(document, (folder, ref) => analysis.call('references', folder, ref, position.line, position.character, context.includeDeclaration));
        return spans.map((span) => new vscode.Location(document.uri, toRange(span)));
      },
    }),
    vscode.languages.registerDocumentSymbolProvider(iptables, {
      async provideDocumentSymbols(document) {
        const tables = await ask(document, (folder, ref) => analysis.call('outline', folder, ref));
        const lastLine = (line: number) => Math.max(0, Math.min(line, document.lineCount) - 1);
        return tables.map((table) => {
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
        const folder = folderOf(document);
        const lenses = await ask(document, (_, ref) => analysis.call('codeLenses', folder, ref));
        return lenses.map(({ line, serviceId, protocol }) => {
          const range = new vscode.Range(line - 1, 0, line - 1, 0);
          return new vscode.CodeLens(range, { title: `Trace ${serviceId}`, command: 'kubeNetpath.traceService', arguments: [{ folder, serviceId, protocol }] });
        });
      },
    }),
  ];
}
