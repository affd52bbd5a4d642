/**
 * One helper to build DOM nodes. Text is only ever set with textContent (node text is untrusted), and
 * attributes are set one by one; there is no innerHTML anywhere in the webview.
 */

export type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes?: Record<string, string>, ...children: Child[]): HTMLElementTagNameMap[K];
export function el(tag: string, attributes?: Record<string, string>, ...children: Child[]): HTMLElement;
export function el(tag: string, attributes: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

/** A percentage with at most one decimal, as the host formats shares. */
export function percent(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}
