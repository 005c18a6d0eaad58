import { ValidationError } from '../../model/errors';
import { encodeModel, type OnnxGraph, type OnnxNode } from './proto';

interface XGBTreeJson {
  left_children: number[];
  right_children: number[];
  split_indices: number[];
  split_conditions: number[];
  default_left: Array<number | boolean>;
}

interface XGBModelJson {
  learner: {
    learner_model_param: { base_score: string; num_feature: string };
    objective: { name: string };
    gradient_booster: { name: string; model: { trees: XGBTreeJson[]; tree_info: number[] } };
  };
}

export interface XGBoostOnnxOptions {
  /** `margin` exports raw scores (what a custom objective trains); `value` applies the objective's link. */
  output?: 'margin' | 'value';
  numFeatures?: number;
  metadata?: Record<string, string>;
}

/**
 * XGBoost model JSON → ONNX with ai.onnx.ml TreeEnsembleRegressor. XGBoost sends a row left when
 * x < threshold (BRANCH_LT) and missing values along default_left, which maps onto
 * nodes_missing_value_tracks_true because "true" is the left child.
 */
export function xgboostToOnnx(modelJson: Buffer | string, opts: XGBoostOnnxOptions = {}): Uint8Array {
  const t = treeEnsemble(modelJson, opts.output ?? 'value', 'features', 'score');
  const numFeatures = opts.numFeatures ?? t.numFeatures;
  const graph: OnnxGraph = {
    name: 'xgboost',
    opsets: [
      { domain: '', version: 17 },
      { domain: 'ai.onnx.ml', version: 3 },
    ],
    inputs: [{ name: 'features', shape: ['batch', numFeatures] }],
    outputs: [{ name: 'score', shape: ['batch', 1] }],
    nodes: t.nodes,
    metadata: { source: 'xgboost', objective: t.objective, output: opts.output ?? 'value', ...opts.metadata },
  };
  return encodeModel(graph);
}

/**
 * Several boosters (e.g. the walk-forward fold models) as one graph: input `features` [batch, F], output `scores`
 * [batch, models], each column one booster's margin. Serving reads their spread as an interval.
 */
export function xgboostEnsembleToOnnx(
  models: Array<Buffer | string>,
  opts: { numFeatures: number; metadata?: Record<string, string> },
): Uint8Array {
  if (models.length === 0) throw new ValidationError('models', 'needs at least one booster');
  const nodes = models.flatMap((m, k) => treeEnsemble(m, 'margin', 'features', `margin_${k}`).nodes);
  nodes.push({
    opType: 'Concat',
    name: 'stack',
    inputs: models.map((_, k) => `margin_${k}`),
    outputs: ['scores'],
    attributes: [{ name: 'axis', type: 'int', value: 1 }],
  });
  return encodeModel({
    name: 'xgboost_folds',
    opsets: [
      { domain: '', version: 17 },
      { domain: 'ai.onnx.ml', version: 3 },
    ],
    inputs: [{ name: 'features', shape: ['batch', opts.numFeatures] }],
    outputs: [{ name: 'scores', shape: ['batch', models.length] }],
    nodes,
    metadata: { source: 'xgboost-folds', output: 'margin', ...opts.metadata },
  });
}

function treeEnsemble(
  modelJson: Buffer | string,
  output: 'margin' | 'value',
  input: string,
  outputName: string,
): { nodes: OnnxNode[]; objective: string; numFeatures: number } {
  const model = JSON.parse(
    typeof modelJson === 'string' ? modelJson : modelJson.toString('utf8'),
  ) as XGBModelJson;
  const learner = model.learner;
  if (learner.gradient_booster.name !== 'gbtree') {
    throw new ValidationError(
      'gradient_booster',
      `only gbtree can be exported to ONNX, got ${learner.gradient_booster.name}`,
    );
  }
  if (learner.gradient_booster.model.tree_info.some((g) => g !== 0)) {
    throw new ValidationError(
      'tree_info',
      'multi-output / multi-class models are not supported by this exporter',
    );
  }
  const objective = learner.objective.name;
  const baseScore = Number(learner.learner_model_param.base_score);
  const numFeatures = Number(learner.learner_model_param.num_feature);
  const logistic = objective === 'binary:logistic' || objective === 'reg:logistic';
  // XGBoost 1.x stores base_score in output space for logistic objectives: the margin offset is its logit.
  const baseMargin = logistic ? Math.log(baseScore / (1 - baseScore)) : baseScore;
  // The link is a separate Sigmoid node: ONNX Runtime's regressor does not apply post_transform LOGISTIC.
  const sigmoid = output === 'value' && logistic;
  if (output === 'value') {
    if (logistic) {
      /* handled by the Sigmoid node */
    } else if (
      !['reg:squarederror', 'reg:pseudohubererror', 'reg:absoluteerror', 'binary:logitraw'].includes(
        objective,
      )
    ) {
      throw new ValidationError(
        'objective',
        `cannot export "${objective}" with output=value; export output=margin instead`,
      );
    }
  }
  const treeIds: number[] = [],
    nodeIds: number[] = [],
    featureIds: number[] = [],
    modes: string[] = [];
  const values: number[] = [],
    trueIds: number[] = [],
    falseIds: number[] = [],
    missingTrue: number[] = [];
  const tTree: number[] = [],
    tNode: number[] = [],
    tIds: number[] = [],
    tWeights: number[] = [];
  learner.gradient_booster.model.trees.forEach((tree, t) => {
    for (let n = 0; n < tree.left_children.length; n++) {
      const left = tree.left_children[n]!;
      treeIds.push(t);
      nodeIds.push(n);
      if (left === -1) {
        featureIds.push(0);
        modes.push('LEAF');
        values.push(0);
        trueIds.push(0);
        falseIds.push(0);
        missingTrue.push(0);
        tTree.push(t);
        tNode.push(n);
        tIds.push(0);
        tWeights.push(tree.split_conditions[n]!);
      } else {
        featureIds.push(tree.split_indices[n]!);
        modes.push('BRANCH_LT');
        values.push(tree.split_conditions[n]!);
        trueIds.push(left);
        falseIds.push(tree.right_children[n]!);
        missingTrue.push(tree.default_left[n] ? 1 : 0);
      }
    }
  });

  const nodes: OnnxNode[] = [
    {
      opType: 'TreeEnsembleRegressor',
      domain: 'ai.onnx.ml',
      name: `trees_${outputName}`,
      inputs: [input],
      outputs: [sigmoid ? `${outputName}_margin` : outputName],
      attributes: [
        { name: 'aggregate_function', type: 'string', value: 'SUM' },
        { name: 'base_values', type: 'floats', value: [baseMargin] },
        { name: 'n_targets', type: 'int', value: 1 },
        { name: 'nodes_treeids', type: 'ints', value: treeIds },
        { name: 'nodes_nodeids', type: 'ints', value: nodeIds },
        { name: 'nodes_featureids', type: 'ints', value: featureIds },
        { name: 'nodes_modes', type: 'strings', value: modes },
        { name: 'nodes_values', type: 'floats', value: values },
        { name: 'nodes_truenodeids', type: 'ints', value: trueIds },
        { name: 'nodes_falsenodeids', type: 'ints', value: falseIds },
        { name: 'nodes_missing_value_tracks_true', type: 'ints', value: missingTrue },
        { name: 'post_transform', type: 'string', value: 'NONE' },
        { name: 'target_treeids', type: 'ints', value: tTree },
        { name: 'target_nodeids', type: 'ints', value: tNode },
        { name: 'target_ids', type: 'ints', value: tIds },
        { name: 'target_weights', type: 'floats', value: tWeights },
      ],
    },
    ...(sigmoid
      ? [
          {
            opType: 'Sigmoid',
            name: `link_${outputName}`,
            inputs: [`${outputName}_margin`],
            outputs: [outputName],
          },
        ]
      : []),
  ];
  return { nodes, objective, numFeatures };
}
