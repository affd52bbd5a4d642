/**
 * The parsed Ruleset behind an open iptables-save document, and the hover built on it; the analysis worker
 * (analysisBackend.ts) answers the editor's questions with these. A document whose text is exactly what the
 * snapshot's analysis parsed uses the analysis's Ruleset; only an edited or foreign document is parsed on its
 * own, once per version. Turning explanations into vscode Hovers stays in languageFeatures.ts.
 */

import type { Analysis } from '../../core/analyze';
import { explainIptablesAt, type Explanation } from '../../core/explain/explainIptables';
import type { Ruleset } from '../../core/iptables/model';
import { parseIptablesSave } from '../../core/iptables/parseIptablesSave';

/** The part of a vscode TextDocument these functions read; a TextDocument is one. */
export interface RuleDocument {
  readonly uri: { readonly path: string; toString(): string };
  readonly version: number;
  getText(): string;
  lineAt(line: number): { readonly text: string };
}

const SNAPSHOT_FILE = 'iptables-save.txt';

function baseName(document: RuleDocument): string {
  return document.uri.path.split('/').pop() ?? '';
}

interface CachedRuleset {
  version: number;
  /** The analysis the document was compared with, so a reloaded snapshot is compared again. */
  analysis: Analysis | undefined;
  ruleset: Ruleset;
}

export class DocumentRulesets {
  readonly #cache = new Map<string, CachedRuleset>();

  /**
   * The Ruleset of the document's current version. Comparing the text with the analysed file costs a copy and
   * a compare of the text (milliseconds); parsing it again would cost a second parse and a second Ruleset.
   */
  get(document: RuleDocument, analysis: Analysis | undefined): Ruleset {
    const key = document.uri.toString();
    const cached = this.#cache.get(key);
    if (cached && cached.version === document.version && cached.analysis === analysis) return cached.ruleset;
    const name = baseName(document);
    const text = document.getText();
    const analysed = name === SNAPSHOT_FILE ? analysis?.snapshot.files[SNAPSHOT_FILE] : undefined;
    const ruleset = analysis?.iptables && analysed === text ? analysis.iptables : parseIptablesSave(text, name).value;
    this.#cache.set(key, { version: document.version, analysis, ruleset });
    return ruleset;
  }

  forget(document: RuleDocument): void {
    this.#cache.delete(document.uri.toString());
  }
}

/** The hover's explanation at a 0-based line and column of an iptables-save document. */
export function explainIptablesDocumentAt(
  rulesets: DocumentRulesets,
  document: RuleDocument,
  analysis: Analysis | undefined,
  line: number,
  column: number,
): Explanation | undefined {
  const ruleset = rulesets.get(document, analysis);
  return explainIptablesAt(document.lineAt(line).text, line + 1, column, { ruleset, services: analysis?.services });
}
