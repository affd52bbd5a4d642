/**
 * The vscode side of the Kube Netpath tree: turns the plain descriptions of treeModel.ts into TreeItems and
 * fires a change when snapshots, hosts or the filter change. Children are computed only when VS Code asks, and
 * the Services among them are completed from the analysis worker first.
 */

import * as vscode from 'vscode';
import type { SnapshotStore } from '../snapshots/snapshotStore';
import { childrenOf, describeElement, toTreeSnapshot, type TreeElement, type TreeState } from './treeModel';

export class ServiceTreeProvider implements vscode.TreeDataProvider<TreeElement>, vscode.Disposable {
  readonly #changed = new vscode.EventEmitter<TreeElement | undefined>();
  readonly onDidChangeTreeData = this.#changed.event;
  #filter = '';
  #hosts: string[] = [];
  #state: TreeState | undefined;
  readonly #subscription: { dispose(): void };

  constructor(private readonly store: SnapshotStore) {
    this.#subscription = store.onDidChange(() => this.refresh());
  }

  get filter(): string {
    return this.#filter;
  }

  setFilter(filter: string): void {
    this.#filter = filter.trim().toLowerCase();
    void vscode.commands.executeCommand('setContext', 'kubeNetpath.filtered', this.#filter !== '');
    this.refresh();
  }

  setHosts(hosts: string[]): void {
    this.#hosts = hosts;
    this.refresh();
  }

  refresh(): void {
    this.#state = undefined;
    this.#changed.fire(undefined);
  }

  /** The tree's data, built once per refresh so each TreeItem does not rebuild it. */
  state(): TreeState {
    this.#state ??= { snapshots: this.store.list().map(toTreeSnapshot), hosts: this.#hosts, filter: this.#filter };
    return this.#state;
  }

  /**
   * The children of an element. A filter is matched by the analysis (it searches endpoints, which the host
   * holds only for Services it showed), and the Services about to be shown get their details first.
   */
  async getChildren(element?: TreeElement): Promise<TreeElement[]> {
    const state = this.state();
    if (state.filter) {
      await Promise.all(
        state.snapshots.map(async (snapshot) => {
          const loaded = this.store.get(snapshot.id);
          if (loaded?.services && snapshot.matching?.filter !== state.filter) {
            snapshot.matching = { filter: state.filter, indexes: await this.store.matching(loaded, state.filter) };
          }
        }),
      );
    }
    const children = childrenOf(state, element);
    const wanted = new Map<string, number[]>();
    for (const child of children) if (child.kind === 'service') wanted.set(child.snapshotId, [...(wanted.get(child.snapshotId) ?? []), child.index]);
    await Promise.all(
      [...wanted].map(async ([id, indexes]) => {
        const loaded = this.store.get(id);
        if (loaded) await this.store.ensureDetails(loaded, indexes);
      }),
    );
    return children;
  }

  getTreeItem(element: TreeElement): vscode.TreeItem {
    const view = describeElement(this.state(), element);
    const collapsible = {
      none: vscode.TreeItemCollapsibleState.None,
      collapsed: vscode.TreeItemCollapsibleState.Collapsed,
      expanded: vscode.TreeItemCollapsibleState.Expanded,
    }[view.collapsible];
    const item = new vscode.TreeItem(view.label, collapsible);
    item.id = view.id;
    item.description = view.description;
    item.tooltip = view.tooltip;
    item.contextValue = view.contextValue;
    if (view.icon) item.iconPath = new vscode.ThemeIcon(view.icon, view.iconColor ? new vscode.ThemeColor(view.iconColor) : undefined);
    if (view.open) {
      item.command = { command: 'kubeNetpath.openRule', title: 'Open Rule', arguments: [view.open] };
    }
    return item;
  }

  dispose(): void {
    this.#subscription.dispose();
    this.#changed.dispose();
  }
}
