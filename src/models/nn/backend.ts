import * as tf from '@tensorflow/tfjs';

export type TfBackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

let chosen: Promise<TfBackendName> | undefined;

/**
 * Picks the fastest TensorFlow.js backend that loads here, once per process: tfjs-node-gpu, tfjs-node (both
 * optional native packages whose install needs a download), then the wasm backend, then plain JS (cpu).
 */
export function selectTfBackend(log: (m: string) => void = () => undefined): Promise<TfBackendName> {
  chosen ??= (async () => {
    for (const [pkg, name] of [
      ['@tensorflow/tfjs-node-gpu', 'tensorflow-gpu'],
      ['@tensorflow/tfjs-node', 'tensorflow'],
    ] as const) {
      try {
        // Optional dependency: absent on most machines, so it is loaded by name at run time.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require(pkg);
        if (await tf.setBackend('tensorflow')) {
          log(`tfjs backend: ${name} (${pkg})`);
          return name;
        }
      } catch {
        /* not installed or no native binary: try the next one */
      }
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const wasm = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(p: string): void };
      wasm.setWasmPaths(require.resolve('@tensorflow/tfjs-backend-wasm').replace(/[^/\\]+$/, ''));
      if (await tf.setBackend('wasm')) {
        log('tfjs backend: wasm');
        return 'wasm';
      }
    } catch {
      /* fall through to cpu */
    }
    await tf.setBackend('cpu');
    log('tfjs backend: cpu (pure JavaScript)');
    return 'cpu';
  })();
  return chosen;
}

export { tf };
