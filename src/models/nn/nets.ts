import { ValidationError } from '../../model/errors';
import type { Dataset } from '../dataset';
import type { NeuralSpec } from '../spec';
import { MultiTimeframeNet, timeframeGroups } from './multi-timeframe';
import { fitNormalizer, type NetState, type Normalizer, type QuantileNet } from './quantile-net';
import { RecurrentNet } from './recurrent';
import { TransformerNet } from './transformer';
import { windowData } from './windows';

/** A fresh net for a spec over these feature columns (call `selectTfBackend()` once before training). */
export function createNet(spec: NeuralSpec, featureNames: readonly string[], norm: Normalizer): QuantileNet {
  const F = featureNames.length;
  switch (spec.kind) {
    case 'lstm':
    case 'gru':
      return new RecurrentNet(spec, F, norm);
    case 'transformer':
      return new TransformerNet(spec, F, norm);
    case 'mtf-attention':
      return new MultiTimeframeNet(spec, F, norm, timeframeGroups(featureNames).columns);
  }
}

/** Rebuilds a saved net (the native artifact of a neural model) with its weights. */
export function netFromState(state: NetState): QuantileNet {
  const s = state.spec;
  let net: QuantileNet;
  if (s.kind === 'mtf-attention') {
    if (!state.groups) throw new ValidationError('groups', 'missing from a multi-timeframe net state');
    net = new MultiTimeframeNet(s, state.features, state.norm, state.groups);
  } else if (s.kind === 'transformer') net = new TransformerNet(s, state.features, state.norm);
  else net = new RecurrentNet(s, state.features, state.norm);
  net.setWeights(state.weights);
  return net;
}

export interface TrainedNet {
  net: QuantileNet;
  /** Standard deviation of the training rows' forward returns: score × labelScale is an expected return. */
  labelScale: number;
  /** Epochs the net has now been trained for (including resumed ones). */
  epochs: number;
}

/**
 * Trains a net on the windows ending at `rows` (each must have a full window). `resume` continues a checkpoint:
 * its weights are loaded and training starts after its epoch (Adam's moment estimates start again from zero).
 */
export async function trainNet(
  spec: NeuralSpec,
  ds: Pick<Dataset, 'X' | 'ncol' | 'nrow' | 'forwardReturn' | 'notional' | 'featureNames'>,
  rows: ArrayLike<number>,
  opts: {
    resume?: { epoch: number; state: NetState };
    onEpoch?: (epoch: number, loss: number, net: QuantileNet) => void | Promise<void>;
    onBatch?: () => void;
  } = {},
): Promise<TrainedNet> {
  const data = windowData(ds, rows, spec.window);
  // Standardise with the training rows only (their last window row): nothing from test rows leaks into the scale.
  const last = new Float32Array(data.n * ds.ncol);
  for (let k = 0; k < data.n; k++)
    last.set(ds.X.subarray(rows[k]! * ds.ncol, (rows[k]! + 1) * ds.ncol), k * ds.ncol);
  const norm = opts.resume?.state.norm ?? fitNormalizer(last, data.n, ds.ncol);
  const net = createNet(spec, ds.featureNames, norm);
  try {
    if (opts.resume) net.setWeights(opts.resume.state.weights);
    const first = opts.resume?.epoch ?? 0;
    const onEpoch = opts.onEpoch;
    if (first < spec.epochs)
      await net.fit(data, {
        epochs: spec.epochs,
        firstEpoch: first,
        onEpoch: onEpoch ? (e, loss) => onEpoch(e, loss, net) : undefined,
        onBatch: opts.onBatch,
      });
    return { net, labelScale: data.labelScale, epochs: spec.epochs };
  } catch (err) {
    net.dispose();
    throw err;
  }
}
