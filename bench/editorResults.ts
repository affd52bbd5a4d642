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
  readAndAnalyseMs: number;
  analyseMs: number;
  analyseCpuMs: number;
  firstLevelMs: number;
  openToFirstLevelMs: number;
  firstLevelItems: number;
  /** The background index steps after open: total time, slices (event-loop turns) and the longest slice. */
  indexSteps: { name: string; ms: number; slices: number; longestSliceMs: number }[];
  documentOpenMs: number;
  /** Hovers in order: the first of each kind, then each again, then each on another Service. */
  firstHovers: HoverTiming[];
  repeatedHovers: HoverTiming[];
  otherServiceHovers: HoverTiming[];
  /** The CodeLens request on open, text check included; null in a cold run (the hover comes first). */
  codeLensesMs: number | null;
  codeLenses: number | null;
  referencesMs: number;
  references: number;
}
