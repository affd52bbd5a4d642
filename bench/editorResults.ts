/**
 * What one editor benchmark process (editorMeasure.ts) reports to editor.ts, which prints the table.
 */

export const HOVER_KINDS = ['chain', 'probability', 'kubeServices'] as const;
export type HoverKind = (typeof HOVER_KINDS)[number];

export interface HoverTiming {
  kind: HoverKind;
  ms: number;
  /** The first characters of the hover, so a run that explains nothing is visible. */
  preview: string;
}

export interface EditorMeasurement {
  services: number;
  lines: number;
  /** Starting the worker thread until it answers, before the open (the extension does it on activation). */
  workerStartMs: number;
  /** The store's open: the worker reads and analyses the folder and sends its summary. */
  openMs: number;
  /** Open until the tree lists the snapshot and its namespaces from the worker's preview; null without one. */
  openToPreviewMs: number | null;
  /** The tree's first level on the host, the shown Services' details fetched from the worker included. */
  firstLevelMs: number;
  openToFirstLevelMs: number;
  firstLevelItems: number;
  /** The longest the host's event loop was held from open to the first level shown. */
  openStallMs: number;
  documentOpenMs: number;
  /** The CodeLens request on open, the document's text sent to the worker included; null in a cold run. */
  codeLensesMs: number | null;
  codeLenses: number | null;
  codeLensStallMs: number | null;
  /** The outline (document symbols) request on open, and the chains it lists; null in a cold run. */
  outlineMs: number | null;
  outlineChains: number | null;
  outlineStallMs: number | null;
  /** Hovers in order: the first of each kind, then each again, then each on another Service. */
  firstHovers: HoverTiming[];
  repeatedHovers: HoverTiming[];
  otherServiceHovers: HoverTiming[];
  hoverStallMs: number;
  referencesMs: number;
  references: number;
}
