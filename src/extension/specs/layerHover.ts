/**
 * Hover on a spec's layers: each layer's input and output shape and parameter count, and on
 * `model`, `encoder` or `decoder` the whole table with the total (src/extension/layerChecks.ts).
 */
import * as vscode from 'vscode';
import { parseSpec } from '../../core/spec';
import { withoutBom } from '../../core/text';
import { layerHover, planSpec } from './layerChecks';
import { readSettings, workspaceRoots } from '../settings';

export function registerLayerHover(): vscode.Disposable {
  return vscode.languages.registerHoverProvider(
    // Files on disk only, like the CodeLens: a spec in a diff or an unsaved buffer has no folder to plan its data from.
    { scheme: 'file', pattern: '**/*.vae.json' },
    {
      provideHover(doc, position) {
        const text = doc.getText();
        let spec;
        try {
          spec = parseSpec(text, doc.uri.fsPath).spec;
        } catch {
          return undefined;
        }
        const planned = planSpec(spec, doc.uri.fsPath, {
          trusted: vscode.workspace.isTrusted,
          workspaceRoots: workspaceRoots(),
          allowOutsideWorkspace: readSettings(doc.uri).allowDataOutsideWorkspace,
        });
        const md = planned && layerHover(withoutBom(text), doc.offsetAt(position), planned);
        return md ? new vscode.Hover(new vscode.MarkdownString(md)) : undefined;
      },
    },
  );
}
