/**
 * How the language features ask the analysis worker about an open document: the worker holds a document's
 * text per version, so a question it refuses with `needText` is asked again after the text was sent. No vscode
 * here, so the editor benchmark asks the same way.
 */

import { AnalysisError, type AnalysisClient } from '../analysis/analysisClient';
import type { DocumentRef } from '../analysis/analysisProtocol';

/** What the language features ask of the analysis. */
export type LanguageBackend = Pick<AnalysisClient, 'call'>;

/** Asks about a document, first sending its text when the worker does not hold this version yet. */
export async function askAboutDocument<T>(
  analysis: LanguageBackend,
  document: { getText(): string },
  ref: DocumentRef,
  question: (ref: DocumentRef) => Promise<T>,
): Promise<T> {
  try {
    return await question(ref);
  } catch (error) {
    if (!(error instanceof AnalysisError && error.code === 'needText')) throw error;
    await analysis.call('syncDocument', ref, document.getText());
    return question(ref);
  }
}
