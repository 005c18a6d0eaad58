import type { Attr, OnnxNode, OnnxTensor } from './proto';

/**
 * Builds the node list and initializers of an ONNX graph with generated, unique value names, so exporters read
 * like the forward pass they mirror (`const z = g.op('MatMul', [x, w])`).
 */
export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private count = 0;
  private readonly constants = new Set<string>();

  /** One node with one output; returns the output's name. */
  op(opType: string, inputs: string[], attributes?: Attr[], domain?: string): string {
    return this.opN(opType, inputs, 1, attributes, domain)[0]!;
  }

  /** One node with `outputs` outputs (e.g. Split, LSTM); returns their names. */
  opN(opType: string, inputs: string[], outputs: number, attributes?: Attr[], domain?: string): string[] {
    const id = `${opType.toLowerCase()}_${this.count++}`;
    const outs = Array.from({ length: outputs }, (_, k) => (outputs === 1 ? id : `${id}_${k}`));
    this.nodes.push({ opType, name: id, inputs, outputs: outs, attributes, domain });
    return outs;
  }

  /** A float32 initializer (a weight or a constant); returns its name. Names must be unique. */
  f32(name: string, data: ArrayLike<number>, dims: number[]): string {
    return this.add({ name, dims, data: Float32Array.from(data) });
  }

  /** An int64 initializer (shapes, axes, indices); returns its name. */
  i64(name: string, values: number[], dims: number[] = [values.length]): string {
    return this.add({ name, dims, data: BigInt64Array.from(values.map(BigInt)) });
  }

  /** Renames the last node's output (so a graph output gets a stable name). */
  rename(from: string, to: string): string {
    for (const n of this.nodes) n.outputs = n.outputs.map((o) => (o === from ? to : o));
    for (const n of this.nodes) n.inputs = n.inputs.map((i) => (i === from ? to : i));
    return to;
  }

  private add(t: OnnxTensor): string {
    if (this.constants.has(t.name)) throw new Error(`onnx graph: initializer "${t.name}" defined twice`);
    this.constants.add(t.name);
    this.initializers.push(t);
    return t.name;
  }
}
