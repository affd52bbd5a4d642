/**
 * The worker's side of AnalysisMethods: holds each snapshot folder's Analysis and the text of the rule documents
 * the editor asked about, and answers with plain data (Service headers and details, traces, hovers, navigation).
 * No vscode and no worker_threads here, so tests run it in-process; analysisWorker.ts only relays messages.
 * Lines and columns in requests are 0-based, as the editor's positions are.
 */

import { analyzeSnapshot, type Analysis } from '../../core/analyze';
import { formatDiagnostic } from '../../core/diagnostics';
import { explainIpsetAt } from '../../core/explain/explainIpset';
import { explainIpvsadmAt } from '../../core/explain/explainIpvsadm';
import { explainRouteAt } from '../../core/explain/explainRoutes';
import { servicesOfChain } from '../../core/explain/serviceLookup';
import type { Explanation } from '../../core/explain/explainIptables';
import { previewIptablesServices } from '../../core/services/iptablesPreview';
import type { ServiceInfo } from '../../core/services/model';
import type { Snapshot } from '../../core/snapshot';
import type { Packet, TraceResult } from '../../core/trace/result';
import { tracePacket } from '../../core/trace/tracePacket';
import { readSnapshotFolder } from '../../node/snapshotFolder';
import type { ServiceChoice } from '../../protocol/traceMessages';
import { DocumentRulesets, explainIptablesDocumentAt, type RuleDocument } from '../language/iptablesDocuments';
import { chainAt, chainDefinition, chainReferences, outline, serviceChainLines, type LineSpan, type OutlineTable } from '../language/ruleNavigation';
import { prepareEditorIndexes } from '../snapshots/editorIndexes';
import { clusterCidr, routesForDefaults } from '../trace/traceDefaults';
import { serviceChoices, traceSettingOf } from '../trace/traceSetting';
import { serviceMatches } from '../tree/treeModel';
import type { AnalysisAnswers, DocumentRef, PreviewService, ServiceDetails, ServiceHeader, ServiceLens, SnapshotSummary } from './analysisProtocol';

/** Thrown when a request names a document version the backend does not hold: the host sends the text. */
export class NeedTextError extends Error {
  readonly code = 'needText';
}

/** How long after an analysis its hover indexes start building, so the tree's first requests go first. */
const INDEX_DELAY_MS = 300;

/** At most this many of the files' problems are listed; the rest are counted. */
const MAX_PROBLEMS = 10;

function header(service: ServiceInfo): ServiceHeader {
  const { id, namespace, name, portName, protocol, clusterIP, nodePort, externalIPs, loadBalancerIPs, source } = service;
  return { id, namespace, name, portName, protocol, clusterIP, nodePort, externalIPs, loadBalancerIPs, ...(source ? { source } : {}) };
}

function details(service: ServiceInfo): ServiceDetails {
  const { sourceRanges, externalTrafficPolicy, internalTrafficPolicy, sessionAffinitySeconds, endpoints, path, warnings } = service;
  return { sourceRanges, externalTrafficPolicy, internalTrafficPolicy, sessionAffinitySeconds, endpoints, path, warnings };
}

export function summaryOf(analysis: Analysis): SnapshotSummary {
  const serious = analysis.diagnostics.filter((diagnostic) => diagnostic.severity !== 'info');
  const problems = serious.slice(0, MAX_PROBLEMS).map(formatDiagnostic);
  if (serious.length > MAX_PROBLEMS) problems.push(`… and ${serious.length - MAX_PROBLEMS} more problems in the files`);
  const { node, address } = analysis.snapshot.meta ?? {};
  return {
    mode: analysis.mode,
    modeReason: analysis.modeReason,
    ...(typeof node === 'string' && node ? { node } : {}),
    ...(typeof address === 'string' && address ? { address } : {}),
    problems,
    diagnosticCount: analysis.diagnostics.length,
    warnings: [...analysis.services.warnings],
    services: analysis.services.services.map(header),
    routes: routesForDefaults(analysis.routes?.entries ?? []),
    ...(analysis.iptables ? { clusterCidr: clusterCidr(analysis.iptables) } : {}),
  };
}

interface HeldDocument {
  ref: DocumentRef;
  text: string;
  /** Where each line starts in `text` (cheaper than splitting 238,000 lines into strings). */
  starts: Int32Array;
}

function lineStarts(text: string): Int32Array {
  let starts = new Int32Array(1024);
  let count = 0;
  for (let at = 0; at !== -1 && at <= text.length; at = text.indexOf('\n', at), at = at === -1 ? -1 : at + 1) {
    if (count === starts.length) {
      const grown = new Int32Array(starts.length * 2);
      grown.set(starts);
      starts = grown;
    }
    starts[count++] = at;
  }
  return starts.subarray(0, count);
}

/**
 * The promise kept for `folder`, started by `start` when there is none. A folder that could not be read is asked
 * again next time rather than remembered as broken.
 */
function pendingFor<T>(held: Map<string, Promise<T>>, folder: string, start: () => Promise<T>): Promise<T> {
  let pending = held.get(folder);
  if (!pending) {
    const started = start();
    started.catch(() => {
      if (held.get(folder) === started) held.delete(folder);
    });
    held.set(folder, (pending = started));
  }
  return pending;
}

export class AnalysisBackend implements AnalysisAnswers {
  readonly #analyses = new Map<string, Promise<Analysis>>();
  /** Folders being read, so a preview and the analysis that follows it read the files once. */
  readonly #reading = new Map<string, Promise<Snapshot>>();
  readonly #documents = new Map<string, HeldDocument>();
  readonly #rulesets = new DocumentRulesets();

  /** The folder's analysis, analysing it on first use (hovers in files of a folder the tree does not show). */
  #analysis(folder: string): Promise<Analysis> {
    return pendingFor(this.#analyses, folder, () =>
      this.#read(folder).then(async (snapshot) => {
        this.#reading.delete(folder);
        // One turn of the event loop first, so a preview computed from the same read is posted before the
        // analysis holds this thread.
        await new Promise((resolve) => setImmediate(resolve));
        const analysed = analyzeSnapshot(snapshot);
        // The summary goes out first and the tree's first requests (the shown Services' details) follow it at
        // once; the hover indexes are built after those, in slices between which requests are answered. A step
        // that fails leaves its index to be built by the first hover that needs it.
        setTimeout(() => prepareEditorIndexes(analysed, () => undefined), INDEX_DELAY_MS).unref();
        return analysed;
      }),
    );
  }

  #read(folder: string): Promise<Snapshot> {
    return pendingFor(this.#reading, folder, () => readSnapshotFolder(folder));
  }

  async preview(folder: string): Promise<PreviewService[] | null> {
    if (this.#analyses.has(folder)) return null;
    const { files } = await this.#read(folder);
    const text = files['iptables-save.txt'];
    // IPVS and nftables nodes are listed by their own trees; their preview would name the wrong Services.
    if (text === undefined || /^(TCP|UDP|SCTP) /m.test(files['ipvsadm.txt'] ?? '') || files['nft.txt']?.includes('kube-proxy')) return null;
    const services = previewIptablesServices(text);
    return services.length === 0 ? null : services.map((service): PreviewService => [service.id, service.protocol]);
  }

  async #analysisOrNone(folder: string | undefined): Promise<Analysis | undefined> {
    if (folder === undefined) return undefined;
    try {
      return await this.#analysis(folder);
    } catch {
      // A rule file outside a readable snapshot folder is still explained from its own text.
      return undefined;
    }
  }

  async open(folder: string): Promise<SnapshotSummary> {
    this.#analyses.delete(folder);
    return summaryOf(await this.#analysis(folder));
  }

  forget(folder: string): boolean {
    return this.#analyses.delete(folder);
  }

  async details(folder: string, indexes: number[]): Promise<(ServiceDetails | null)[]> {
    const services = (await this.#analysis(folder)).services.services;
    return indexes.map((index) => {
      const service = services[index];
      return service ? details(service) : null;
    });
  }

  async match(folder: string, filter: string): Promise<number[]> {
    const found: number[] = [];
    (await this.#analysis(folder)).services.services.forEach((service, index) => {
      if (serviceMatches(service, filter)) found.push(index);
    });
    return found;
  }

  async trace(folder: string, packet: Packet): Promise<TraceResult> {
    return tracePacket(await this.#analysis(folder), packet);
  }

  async serviceChoices(folder: string, outsideClient: string): Promise<ServiceChoice[]> {
    const analysis = await this.#analysis(folder);
    return serviceChoices(analysis.services.services, traceSettingOf(summaryOf(analysis), outsideClient));
  }

  syncDocument(document: DocumentRef, text: string): boolean {
    // The line index is built now, while the editor waits for the first answer anyway, not on the first hover.
    this.#documents.set(document.uri, { ref: document, text, starts: lineStarts(text) });
    return true;
  }

  closeDocument(uri: string): boolean {
    const held = this.#documents.get(uri);
    if (held) this.#rulesets.forget(this.#ruleDocument(held));
    return this.#documents.delete(uri);
  }

  #held(document: DocumentRef): HeldDocument {
    const held = this.#documents.get(document.uri);
    if (!held || held.ref.version !== document.version) throw new NeedTextError(`${document.uri} version ${document.version} was not sent`);
    return held;
  }

  #ruleDocument(held: HeldDocument): RuleDocument & { lineCount: number } {
    const { starts, text } = held;
    return {
      uri: { path: held.ref.path, toString: () => held.ref.uri },
      version: held.ref.version,
      getText: () => text,
      lineAt: (line) => {
        const start = starts[line];
        if (start === undefined) return { text: '' };
        const next = starts[line + 1];
        const end = next === undefined ? text.length : next - 1;
        return { text: text.slice(start, end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end) };
      },
      lineCount: starts.length,
    };
  }

  async hover(folder: string | undefined, document: DocumentRef, line: number, column: number): Promise<Explanation | null> {
    const rule = this.#ruleDocument(this.#held(document));
    const analysis = await this.#analysisOrNone(folder);
    const services = analysis?.services;
    const text = rule.lineAt(line).text;
    switch (document.languageId) {
      case 'iptables-save':
        return explainIptablesDocumentAt(this.#rulesets, rule, analysis, line, column) ?? null;
      case 'ipvsadm': {
        const lineOf = (index: number) => (index >= 0 && index < rule.lineCount ? rule.lineAt(index).text : undefined);
        return explainIpvsadmAt(lineOf, line + 1, column, services) ?? null;
      }
      case 'ipset':
        return explainIpsetAt(text, column, services) ?? null;
      case 'ip-route':
        return explainRouteAt(text, column, services) ?? null;
      default:
        return null;
    }
  }

  async #iptables(folder: string | undefined, document: DocumentRef) {
    const rule = this.#ruleDocument(this.#held(document));
    const analysis = await this.#analysisOrNone(folder);
    const lineText = (line: number) => (line >= 1 && line <= rule.lineCount ? rule.lineAt(line - 1).text : undefined);
    return { rule, analysis, ruleset: this.#rulesets.get(rule, analysis), lineText };
  }

  async definition(folder: string | undefined, document: DocumentRef, line: number, column: number): Promise<LineSpan | null> {
    const { rule, ruleset, lineText } = await this.#iptables(folder, document);
    const chain = chainAt(ruleset, rule.lineAt(line).text, line + 1, column);
    return (chain && chainDefinition(ruleset, chain.table, chain.chain, lineText)) ?? null;
  }

  async references(folder: string | undefined, document: DocumentRef, line: number, column: number, includeDeclaration: boolean): Promise<LineSpan[]> {
    const { rule, ruleset, lineText } = await this.#iptables(folder, document);
    const chain = chainAt(ruleset, rule.lineAt(line).text, line + 1, column);
    if (!chain) return [];
    const spans = chainReferences(ruleset, chain.table, chain.chain, lineText);
    const definition = includeDeclaration ? chainDefinition(ruleset, chain.table, chain.chain, lineText) : undefined;
    return definition ? [definition, ...spans] : spans;
  }

  async outline(folder: string | undefined, document: DocumentRef): Promise<OutlineTable[]> {
    const { rule, ruleset } = await this.#iptables(folder, document);
    return outline(ruleset, rule.lineCount);
  }

  async codeLenses(folder: string | undefined, document: DocumentRef): Promise<ServiceLens[]> {
    const { analysis, ruleset } = await this.#iptables(folder, document);
    return serviceChainLines(ruleset).flatMap(({ chain, line }) => {
      const service = servicesOfChain(analysis?.services, chain)[0];
      return service ? [{ line, serviceId: service.id, protocol: service.protocol }] : [];
    });
  }
}
