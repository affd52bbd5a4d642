/**
 * What the extension host asks the analysis worker, declared once for both sides: each method of
 * AnalysisMethods is one request, its parameters and its (plain, structured-clonable) result. The host keeps
 * only these results; the Analysis itself (Rulesets, Maps, lazy Services) never leaves the worker. Types only:
 * the worker's side is analysisBackend.ts, the host's side analysisClient.ts.
 */

import type { Explanation } from '../../core/explain/explainIptables';
import type { RouteEntry } from '../../core/routes/localRoutes';
import type { ServiceInfo } from '../../core/services/model';
import type { Packet, Protocol, TraceResult } from '../../core/trace/result';
import type { ServiceChoice } from '../../protocol/traceMessages';
import type { LineSpan, OutlineTable } from '../language/ruleNavigation';

/** A Service's first-level fields: what the tree, the filter and the pickers show before it is expanded. */
export type ServiceHeader = Pick<ServiceInfo, 'id' | 'namespace' | 'name' | 'portName' | 'protocol' | 'clusterIP' | 'nodePort' | 'externalIPs' | 'loadBalancerIPs' | 'source'>;

/** A Service of a preview: its id and protocol, a few bytes each for 10,000 Services. */
export type PreviewService = [id: string, protocol: Protocol];

/** The rest of a Service, read from its chains: sent only for the Services the tree shows. */
export type ServiceDetails = Omit<ServiceInfo, keyof ServiceHeader>;

/** What the host keeps of an analysed snapshot. */
export interface SnapshotSummary {
  mode: 'iptables' | 'ipvs' | 'nftables' | 'none';
  modeReason: string;
  /** meta.json's node name and address, when given. */
  node?: string;
  address?: string;
  /** The files' problems worth a warning (up to ten, then a count), as sentences. */
  problems: string[];
  diagnosticCount: number;
  /** Node-wide findings of the Service tree. */
  warnings: string[];
  services: ServiceHeader[];
  /** route-local.txt's entries the trace defaults read (routesForDefaults: kube-ipvs0's are left out). */
  routes: RouteEntry[];
  /** The pod CIDR kube-proxy's rules name, for the trace defaults. */
  clusterCidr?: string;
}

/** An open document as the worker knows it; its text is sent once per version (syncDocument). */
export interface DocumentRef {
  uri: string;
  /** The path part of the URI; its last segment is the file name. */
  path: string;
  version: number;
  languageId: string;
}

export interface ServiceLens {
  line: number;
  serviceId: string;
  protocol: Protocol;
}

/** `folder` is the snapshot folder a request is about; documents outside any (untitled ones) pass undefined. */
export interface AnalysisMethods {
  /**
   * The Services of an iptables-mode folder as `[id, protocol]`, read from its entry chains alone, in the order
   * `open` will list them: the tree lists the snapshot and its namespaces from them while `open` analyses (their
   * other fields arrive with the summary). Null when the folder gives no such preview (other modes, unreadable
   * files, a dump whose rule lines carry counters).
   */
  preview(folder: string): PreviewService[] | null;
  /** Reads and analyses a folder (again, when it was already), and summarises it. */
  open(folder: string): SnapshotSummary;
  /** Drops a folder's analysis; the next request about it analyses it again. */
  forget(folder: string): boolean;
  details(folder: string, indexes: number[]): (ServiceDetails | null)[];
  /** Indexes of the Services whose id, addresses, NodePort or endpoints contain the (lower-case) filter. */
  match(folder: string, filter: string): number[];
  trace(folder: string, packet: Packet): TraceResult;
  serviceChoices(folder: string, outsideClient: string): ServiceChoice[];
  syncDocument(document: DocumentRef, text: string): boolean;
  closeDocument(uri: string): boolean;
  hover(folder: string | undefined, document: DocumentRef, line: number, column: number): Explanation | null;
  definition(folder: string | undefined, document: DocumentRef, line: number, column: number): LineSpan | null;
  references(folder: string | undefined, document: DocumentRef, line: number, column: number, includeDeclaration: boolean): LineSpan[];
  outline(folder: string | undefined, document: DocumentRef): OutlineTable[];
  codeLenses(folder: string | undefined, document: DocumentRef): ServiceLens[];
}

export type AnalysisMethod = keyof AnalysisMethods;

/** What answers the methods: each may answer at once or later. */
export type AnalysisAnswers = {
  [M in AnalysisMethod]: (...args: Parameters<AnalysisMethods[M]>) => ReturnType<AnalysisMethods[M]> | Promise<ReturnType<AnalysisMethods[M]>>;
};

export type AnalysisRequest = {
  [M in AnalysisMethod]: { id: number; method: M; args: Parameters<AnalysisMethods[M]> };
}[AnalysisMethod];

/**
 * A result travels as JSON text: the host parses a 10,000-Service summary in tens of milliseconds, while the
 * structured clone of the same objects held the host's thread for 400-600 ms (bench:editor). Results are plain
 * data, so JSON keeps them whole. `needText`: the worker does not hold that version of the document; the host
 * sends it and asks again.
 */
export type AnalysisReply = { id: number; json: string } | { id: number; error: string; code?: 'needText' };
