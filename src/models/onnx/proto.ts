/**
 * A minimal protobuf writer for the ONNX ModelProto subset we emit (onnx.proto3 field numbers). Hand-written so
 * export needs no Python and no generated code; ONNX Runtime parsing the result is the test of correctness.
 */
export class ProtoWriter {
  private chunks: number[] = [];

  private varint(v: number | bigint): void {
    let n = BigInt.asUintN(64, BigInt(v));
    while (n >= 0x80n) {
      this.chunks.push(Number((n & 0x7fn) | 0x80n));
      n >>= 7n;
    }
    this.chunks.push(Number(n));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number | bigint): this {
    this.tag(field, 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.chunks.push(...b);
    return this;
  }

  bytes(field: number, v: Uint8Array | string): this {
    const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    this.tag(field, 2);
    this.varint(b.length);
    for (const x of b) this.chunks.push(x);
    return this;
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter();
    build(w);
    return this.bytes(field, w.finish());
  }

  packedInts(field: number, vs: ArrayLike<number>): this {
    const w = new ProtoWriter();
    for (let i = 0; i < vs.length; i++) w.varint(vs[i]!);
    return this.bytes(field, w.finish());
  }

  packedFloats(field: number, vs: ArrayLike<number>): this {
    const b = Buffer.alloc(vs.length * 4);
    for (let i = 0; i < vs.length; i++) b.writeFloatLE(vs[i]!, i * 4);
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

export const TensorType = { FLOAT: 1, INT64: 7 } as const;

export type Attr =
  | { name: string; type: 'float'; value: number }
  | { name: string; type: 'int'; value: number }
  | { name: string; type: 'string'; value: string }
  | { name: string; type: 'floats'; value: ArrayLike<number> }
  | { name: string; type: 'ints'; value: ArrayLike<number> }
  | { name: string; type: 'strings'; value: string[] };

export interface OnnxNode {
  opType: string;
  domain?: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes?: Attr[];
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  /** Float32 weights, or int64 values (shapes, axes). */
  data: Float32Array | BigInt64Array;
}

export interface OnnxValueInfo {
  name: string;
  /** A number is a fixed size; a string names a symbolic (dynamic) dimension such as "batch". */
  shape: Array<number | string>;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers?: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  opsets: Array<{ domain: string; version: number }>;
  docString?: string;
  metadata?: Record<string, string>;
}

const ATTR_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7, strings: 8 } as const;

function writeAttr(w: ProtoWriter, a: Attr): void {
  w.bytes(1, a.name);
  switch (a.type) {
    case 'float':
      w.float(2, a.value);
      break;
    case 'int':
      w.int(3, a.value);
      break;
    case 'string':
      w.bytes(4, a.value);
      break;
    case 'floats':
      w.packedFloats(7, a.value);
      break;
    case 'ints':
      w.packedInts(8, a.value);
      break;
    case 'strings':
      for (const s of a.value) w.bytes(9, s);
      break;
  }
  w.int(20, ATTR_TYPE[a.type]);
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.bytes(1, v.name);
  w.message(2, (t) =>
    t.message(1, (tt) => {
      tt.int(1, TensorType.FLOAT);
      tt.message(2, (shape) => {
        for (const d of v.shape)
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.bytes(2, d)));
      });
    }),
  );
}

/** Serialises a ModelProto (IR version 8). */
export function encodeModel(g: OnnxGraph, producer = 'temporal-trader'): Uint8Array {
  const m = new ProtoWriter();
  m.int(1, 8);
  m.bytes(2, producer);
  m.bytes(3, '1');
  if (g.docString) m.bytes(6, g.docString);
  m.message(7, (gw) => {
    for (const n of g.nodes) {
      gw.message(1, (nw) => {
        for (const i of n.inputs) nw.bytes(1, i);
        for (const o of n.outputs) nw.bytes(2, o);
        nw.bytes(3, n.name);
        nw.bytes(4, n.opType);
        for (const a of n.attributes ?? []) nw.message(5, (aw) => writeAttr(aw, a));
        if (n.domain) nw.bytes(7, n.domain);
      });
    }
    gw.bytes(2, g.name);
    for (const t of g.initializers ?? []) {
      gw.message(5, (tw) => {
        for (const d of t.dims) tw.int(1, d);
        tw.int(2, t.data instanceof BigInt64Array ? TensorType.INT64 : TensorType.FLOAT);
        tw.bytes(8, t.name);
        tw.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      });
    }
    for (const i of g.inputs) gw.message(11, (vw) => writeValueInfo(vw, i));
    for (const o of g.outputs) gw.message(12, (vw) => writeValueInfo(vw, o));
  });
  for (const o of g.opsets) m.message(8, (ow) => ow.bytes(1, o.domain).int(2, o.version));
  for (const [k, v] of Object.entries(g.metadata ?? {})) m.message(14, (kw) => kw.bytes(1, k).bytes(2, v));
  return m.finish();
}
