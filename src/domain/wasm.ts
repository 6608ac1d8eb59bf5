// A minimal WebAssembly binary assembler (no toolchain needed to build what it emits): the HGB kernel's
// loops (ml/hgb-wasm.ts), the radix sort (domain/sort.ts) and the CNN's SIMD gradient kernels
// (layers/trainer/tfjs/wasmSimd.ts) are written with it. Instructions are byte arrays; locals are numbered, parameters first, then declared locals.

export const uleb = (n: number): Array<number> => {
  const out: Array<number> = []
  do {
    let b = n & 0x7f
    n >>>= 7
    if (n !== 0) b |= 0x80
    out.push(b)
  } while (n !== 0)
  return out
}

export const sleb = (n: number): Array<number> => {
  const out: Array<number> = []
  for (;;) {
    const b = n & 0x7f
    n >>= 7
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b)
      return out
    }
    out.push(b | 0x80)
  }
}

/** Value types. */
export const I32 = 0x7f
export const I64 = 0x7e
export const F64 = 0x7c
export const V128 = 0x7b

/** A memory access: opcode, alignment exponent, then the constant offset. */
const memory = (opcode: number, align: number) => (offset: number) => [opcode, align, ...uleb(offset)]

/** Scalar instructions. */
export const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (n: number) => [0x41, ...sleb(n)],
  /** An i64 constant (an int32: sleb works on 32 bits). */
  i64: (n: number) => [0x42, ...sleb(n)],
  f64: (x: number) => [0x44, ...new Uint8Array(new Float64Array([x]).buffer)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  shl: [0x74],
  and: [0x71],
  or: [0x72],
  eqz: [0x45],
  xor: [0x73],
  f64Ne: [0x62],
  f64Le: [0x65],
  eq: [0x46],
  ne: [0x47],
  ltS: [0x48],
  ltU: [0x49],
  gtS: [0x4a],
  leS: [0x4c],
  leU: [0x4d],
  geS: [0x4e],
  geU: [0x4f],
  f64Neg: [0x9a],
  f64Add: [0xa0],
  f64Sub: [0xa1],
  f64Mul: [0xa2],
  f64Div: [0xa3],
  i64Eqz: [0x50],
  i64Add: [0x7c],
  i64Mul: [0x7e],
  f64ConvertI64U: [0xba],
  f32DemoteF64: [0xb6],
  f64PromoteF32: [0xbb],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  /** if (no result) … else … end */
  ifThen: [0x04, 0x40],
  else: [0x05],
  /** cond ? a : b, with a, b, cond pushed in that order */
  select: [0x1b],
  loop: [0x03, 0x40],
  block: [0x02, 0x40],
  end: [0x0b],
  i32Load: memory(0x28, 2),
  i32Load8U: memory(0x2d, 0),
  f32Load: memory(0x2a, 2),
  f64Load: memory(0x2b, 3),
  f32Store: memory(0x38, 2),
  i64Load: memory(0x29, 3),
  i64Store: memory(0x37, 3),
  i64And: [0x83],
  i64Or: [0x84],
  i64Xor: [0x85],
  i64Shl: [0x86],
  i64ShrS: [0x87],
  i64ShrU: [0x88],
  i32WrapI64: [0xa7],
  i64ExtendI32U: [0xad],
  i32Store: memory(0x36, 2),
  f64Store: memory(0x39, 3)
}

export interface Fn {
  readonly name: string
  /** Parameter types (a count: that many i32 parameters). */
  readonly params: number | ReadonlyArray<number>
  /** Result types (none by default). */
  readonly results?: ReadonlyArray<number>
  /** Declared locals after the parameters: [count, type] runs. */
  readonly locals: ReadonlyArray<readonly [number, number]>
  readonly body: ReadonlyArray<number>
}

export const section = (id: number, payload: ReadonlyArray<number>) => [id, ...uleb(payload.length), ...payload]
export const vec = (items: ReadonlyArray<ReadonlyArray<number>>) => [...uleb(items.length), ...items.flat()]
const name = (s: string) => vec([...s].map((ch) => [ch.charCodeAt(0)]))

/**
 * A module importing memory "m"."memory" and exporting `fns`. With `shared` (its limits, in pages of
 * 64 KiB) the imported memory is a shared one (worker threads then run the same code on it).
 */
export const assemble = (
  fns: ReadonlyArray<Fn>,
  shared?: { readonly minimum: number; readonly maximum: number }
): Uint8Array<ArrayBuffer> => {
  const types = fns.map((f) => [
    0x60,
    ...vec(typeof f.params === "number" ? new Array(f.params).fill([I32]) : f.params.map((t) => [t])),
    ...vec((f.results ?? []).map((t) => [t]))
  ])
  const limits = shared === undefined ? [0x00, 0x00] : [0x03, ...uleb(shared.minimum), ...uleb(shared.maximum)]
  const imports = [[...name("m"), ...name("memory"), 0x02, ...limits]]
  const code = fns.map((f) => {
    const body = [...vec(f.locals.map(([n, t]) => [...uleb(n), t])), ...f.body, ...op.end]
    return [...uleb(body.length), ...body]
  })
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...section(7, vec(fns.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(code))
  ])
}

/** `counter` times: body. The counter (a local) must be ≥ 1 on entry; it ends at 0. */
export const countDown = (counter: number, body: ReadonlyArray<number>) => [
  ...op.loop,
  ...body,
  ...op.get(counter),
  ...op.i32(1),
  ...op.sub,
  ...op.tee(counter),
  ...op.brIf(0),
  ...op.end
]

/**
 * `body` for local k from `start` (instructions leaving an i32) while k < local `to` (unsigned), k stepping
 * by 1; nothing when start >= to.
 */
export const forRange = (k: number, start: ReadonlyArray<number>, to: number, body: ReadonlyArray<number>) => [
  ...start,
  ...op.set(k),
  ...op.block,
  ...op.get(k),
  ...op.get(to),
  ...op.geU,
  ...op.brIf(0),
  ...op.loop,
  ...body,
  ...op.get(k),
  ...op.i32(1),
  ...op.add,
  ...op.tee(k),
  ...op.get(to),
  ...op.ltU,
  ...op.brIf(0),
  ...op.end,
  ...op.end
]

/** The address base + 2^shift · index (both locals). */
export const at = (base: number, index: number, shift: number) => [
  ...op.get(base),
  ...op.get(index),
  ...op.i32(shift),
  ...op.shl,
  ...op.add
]

/** The double at the address in local `address` (+ offset) += what `value` leaves on the stack. */
export const f64AddAt = (address: number, value: ReadonlyArray<number>, offset = 0) => [
  ...op.get(address),
  ...op.get(address),
  ...op.f64Load(offset),
  ...value,
  ...op.f64Add,
  ...op.f64Store(offset)
]

/** local += amount (i32). */
export const addTo = (local: number, amount: ReadonlyArray<number>) => [
  ...op.get(local),
  ...amount,
  ...op.add,
  ...op.set(local)
]

/** The WebAssembly API this code uses (the project's TypeScript lib has no WebAssembly declarations). */
export interface WasmModule {
  readonly __wasmModule?: never
}
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer
  /** Adds pages of 64 KiB (a RangeError past the maximum); returns the previous page count. */
  grow(pages: number): number
}
export interface WasmApi {
  validate(bytes: Uint8Array): boolean
  readonly Module: new (bytes: Uint8Array) => WasmModule
  readonly Instance: new (module: WasmModule, imports: object) => { readonly exports: unknown }
  readonly Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory
}
/** undefined where the runtime has no WebAssembly. */
export const wasmApi = (globalThis as unknown as { readonly WebAssembly?: WasmApi }).WebAssembly
