/**
 * Which of the workspace's Kube Netpath settings an untrusted workspace tried to set. These settings decide
 * what runs on a node or which keys are used; VS Code ignores their workspace values in untrusted workspaces
 * (package.json declares them restricted), and the extension tells the user so. No vscode import here.
 */

/** Settings (without the `kubeNetpath.` prefix) declared in capabilities.untrustedWorkspaces.restrictedConfigurations. */
export const RESTRICTED_SETTINGS = ['hosts', 'ssh.configFile', 'ssh.identityFile', 'collect.useSudo', 'collect.outputFolder'] as const;

interface Inspected {
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

export function untrustedOverrides(trusted: boolean, inspect: (key: string) => Inspected | undefined): string[] {
  if (trusted) return [];
  return RESTRICTED_SETTINGS.filter((key) => {
    const inspected = inspect(key);
    return inspected?.workspaceValue !== undefined || inspected?.workspaceFolderValue !== undefined;
  });
}
