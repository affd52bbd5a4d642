/**
 * Registers the VS Code webview UI toolkit's web components the trace panel uses. The only place the toolkit
 * is imported; the rest of the webview creates the elements by tag name.
 */

import { provideVSCodeDesignSystem, vsCodeButton, vsCodeDropdown, vsCodeOption, vsCodeTextField } from '@vscode/webview-ui-toolkit';

export function registerToolkit(): void {
  provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeDropdown(), vsCodeOption(), vsCodeTextField());
}
