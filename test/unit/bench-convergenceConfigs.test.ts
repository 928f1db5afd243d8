import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { parseSpec } from '../../src/core/spec';

const repo = path.join(__dirname, '..', '..', '..');

interface BenchConfig {
  id: string;
  spec: Record<string, unknown>;
}

/** The convergence benchmark's configurations that stand for a shipped example, by example file. */
const STANDS_FOR: Record<string, string> = {
  'swiss-roll-example': 'examples/swiss-roll/swiss-roll.vae.json',
  'fashion-mnist-example': 'examples/vae1-fashion-mnist/vae1-fashion-mnist.vae.json',
};

test("the convergence benchmark's example configurations train the shipped examples as they are", async () => {
  const { CONFIGS } = (await import(pathToFileURL(path.join(repo, 'scripts', 'convergence-benchmark', 'configs.mjs')).href)) as { CONFIGS: BenchConfig[] };
  for (const [id, file] of Object.entries(STANDS_FOR)) {
    const config = CONFIGS.find((c) => c.id === id);
    assert.ok(config, `no configuration ${id}`);
    const shipped = parseSpec(fs.readFileSync(path.join(repo, file), 'utf8'), file).spec;
    const benched = parseSpec(JSON.stringify({ ...config.spec, name: shipped.name }), `${id}.vae.json`).spec;
    // How often checkpoints are written does not change what is learned.
    const learned = (s: typeof shipped) => ({ ...s, training: { ...s.training, checkpointEvery: undefined } });
    assert.deepEqual(learned(benched), learned(shipped), `${id} against ${file}`);
  }
});
