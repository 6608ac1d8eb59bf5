// The optimizer step of data-parallel training as one loop over the flat weights, in place
// (the shared weight buffer the replicas read), instead of tfjs's optimizer: ~10 kernel calls and
// tensors per variable per step while every worker waits. Each operation is rounded to float32
// in the order tfjs's AdamOptimizer / SGDOptimizer (tfjs-core 4.22) applies its kernels, so the
// result is the same float32 value, bit for bit (tested against tfjs's own optimizers).

const f = Math.fround

export interface FlatOptimizer {
  /**
   * One step: `weights` segments [offset, offset + size) in `segments` order take the gradient
   * `grads` (the segments' gradients one after the other).
   */
  step(
    weights: Float32Array,
    segments: ReadonlyArray<{ readonly offset: number; readonly size: number }>,
    grads: Float32Array
  ): void
}

/** tfjs's `train.sgd(lr)`: w ← (−lr)·g + w. */
export const flatSgd = (learningRate: number): FlatOptimizer => {
  const c = f(-learningRate)
  return {
    step: (weights, segments, grads) => {
      let at = 0
      for (const { offset, size } of segments) {
        for (let k = 0; k < size; k++) weights[offset + k] = f(f(c * grads[at + k]!) + weights[offset + k]!)
        at += size
      }
    }
  }
}

/**
 * tfjs's `train.adam(lr)` (β1 0.9, β2 0.999, ε the backend's float32 epsilon 1e-7):
 * m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², w ← (m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε)·(−lr) + w.
 */
export const flatAdam = (
  learningRate: number,
  size: number,
  beta1 = 0.9,
  beta2 = 0.999,
  epsilon = 1e-7
): FlatOptimizer => {
  const m = new Float32Array(size)
  const v = new Float32Array(size)
  const b1 = f(beta1)
  const b2 = f(beta2)
  const c1 = f(1 - beta1)
  const c2 = f(1 - beta2)
  const eps = f(epsilon)
  const lr = f(-learningRate)
  // tfjs keeps β1ᵗ and β2ᵗ as float32 scalars, multiplied once per step
  let acc1 = b1
  let acc2 = b2
  return {
    step: (weights, segments, grads) => {
      const d1 = f(1 - acc1)
      const d2 = f(1 - acc2)
      let at = 0
      for (const { offset, size: n } of segments) {
        for (let k = 0; k < n; k++) {
          const i = at + k
          const g = grads[i]!
          const m1 = f(f(m[i]! * b1) + f(g * c1))
          const v1 = f(f(v[i]! * b2) + f(f(g * g) * c2))
          m[i] = m1
          v[i] = v1
          const mHat = f(m1 / d1)
          const vHat = f(v1 / d2)
          weights[offset + k] = f(f(f(mHat / f(f(Math.sqrt(vHat)) + eps)) * lr) + weights[offset + k]!)
        }
        at += n
      }
      acc1 = f(acc1 * b1)
      acc2 = f(acc2 * b2)
    }
  }
}
