/**
 * The trace panel's HTML: a fixed shell with a strict content security policy. Nothing from a node is ever
 * put into this string; the webview script receives data by message and renders it with textContent.
 */

export interface PanelResources {
  /** `webview.cspSource`: the origin allowed to serve the panel's script, style and fonts. */
  cspSource: string;
  /** A fresh random nonce (base64 or hex) for the one script tag. */
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

/** The Content-Security-Policy: no default source, scripts only with the nonce, styles and fonts from the extension. */
export function panelCsp(resources: Pick<PanelResources, 'cspSource' | 'nonce'>): string {
  return [
    "default-src 'none'",
    `img-src ${resources.cspSource}`,
    `style-src ${resources.cspSource}`,
    `font-src ${resources.cspSource}`,
    `script-src 'nonce-${resources.nonce}'`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

function attribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function panelHtml(resources: PanelResources): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attribute(panelCsp(resources))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attribute(resources.styleUri)}">
<title>Kube Netpath trace</title>
</head>
<body>
<main id="app" aria-live="polite"><p class="muted">Loading…</p></main>
<script nonce="${attribute(resources.nonce)}" src="${attribute(resources.scriptUri)}"></script>
</body>
</html>`;
}
