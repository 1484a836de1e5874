/**
 * dx of a strided conv without the zeros of a spread dy (docs/design.md §5, wasm training kernels). With
 * stride s, input row h = s * i + a - top is reached only by the kernel rows ki = a + s * qi (its phase a),
 * from output row i - qi:
 *   dx[s i + a - top] = sum_qi dy[i - qi] W[a + s qi],
 * a stride-1 correlation of dy with the phase's rows of the filter in reverse order. So each of the s x s
 * phases (a, b) is one XNNPACK Conv2D of dy with a small filter (its taps, in/out channels swapped), and the
 * phases are interleaved into dx. That does the forward pass's multiply-adds, where the transposed conv over
 * the spread dy does s^2 times as many (three quarters of them on zeros at stride 2). Phases that no kernel
 * row reaches (a 1x1 conv at stride 2) are zeros in dx; dy positions that reach only outside x (wide pads)
 * give phase outputs that are dropped.
 */
import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { heapF32, type KernelScope, wasmBackendOf } from './kernelScope';
import { heapAddress, wasmLoops } from './wasmLoops';

/** One phase along one axis: the input positions s * i + a - padBefore for i = first, first + 1, ... */
export interface AxisPhase {
  readonly a: number;
  /** Kernel indices in the order of the stride-1 correlation's taps. */
  readonly taps: number[];
  /** First phase index i whose input position lies in x, and how many do. */
  readonly first: number;
  readonly count: number;
  /** The correlation's explicit pads along this axis (never negative). */
  readonly padBefore: number;
  readonly padAfter: number;
  /**
   * The correlation's output positions: `count` from `skip` on are this phase's; the others come from dy
   * positions that only reach outside x (where a negative pad would have cropped dy), and are dropped.
   */
  readonly skip: number;
  readonly outCount: number;
}

/** The phases along one axis. */
export function axisPhases(
  kernel: number,
  stride: number,
  inSize: number,
  outSize: number,
  padBefore: number,
): AxisPhase[] {
  const phases: AxisPhase[] = [];
  for (let a = 0; a < stride; a++) {
    // (+ 0 turns the -0 of ceil(-0.5) into 0.)
    const first = Math.ceil((padBefore - a) / stride) + 0;
    const last = Math.floor((inSize - 1 + padBefore - a) / stride);
    const count = Math.max(0, last - first + 1);
    const q = a < kernel ? Math.ceil((kernel - a) / stride) : 0;
    // Tap t reads dy[i - (q - 1) + t], which is kernel row a + s (q - 1 - t).
    const taps = Array.from({ length: q }, (_, t) => a + stride * (q - 1 - t));
    // The pads that give exactly `count` outputs; a negative one is 0 instead, with outputs to drop.
    const before = q - 1 - first;
    const after = count + q - 1 - outSize - before;
    const padB = Math.max(0, before);
    const padA = Math.max(0, after);
    const skip = padB - before;
    phases.push({
      a,
      taps,
      first,
      count,
      padBefore: padB,
      padAfter: padA,
      skip,
      outCount: count + skip + padA - after,
    });
  }
  return phases;
}

/** dx by phases. */
export function conv2DInputGradPhases(
  s: KernelScope,
  backend: unknown,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: cin, outChannels: cout } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const rows = axisPhases(kh, sh, h, info.outHeight, top);
  const cols = axisPhases(kw, sw, w, info.outWidth, left);
  const wasm = wasmBackendOf(backend);

  const parts: { r: AxisPhase; c: AxisPhase; out: TensorInfo }[] = [];
  let covered = true;
  for (const r of rows) {
    for (const c of cols) {
      if (r.count === 0 || c.count === 0) continue;
      if (r.taps.length === 0 || c.taps.length === 0) {
        covered = false;
        continue;
      }
      // The phase's filter: [taps rows, taps cols, cout, cin] from W[kh, kw, cin, cout].
      const f = s.output([r.taps.length, c.taps.length, cout, cin]);
      const src = heapF32(wasm, filter);
      const dst = heapF32(wasm, f);
      let p = 0;
      for (const ki of r.taps) {
        for (const kj of c.taps) {
          const base = (ki * kw + kj) * cin * cout;
          for (let co = 0; co < cout; co++) {
            for (let ci = 0; ci < cin; ci++) dst[p++] = src[base + ci * cout + co]!;
          }
        }
      }
      const out = s.run(
        'Conv2D',
        { x: dy, filter: f },
        {
          strides: [1, 1],
          dilations: [1, 1],
          pad: [
            [0, 0],
            [r.padBefore, r.padAfter],
            [c.padBefore, c.padAfter],
            [0, 0],
          ],
          dataFormat: 'NHWC',
        },
      );
      if (out.shape[1] !== r.outCount || out.shape[2] !== c.outCount) {
        throw new Error(
          `convInputGradPhases: a phase conv gave [${out.shape}], expected ${r.outCount}x${c.outCount}`,
        );
      }
      parts.push({ r, c, out });
    }
  }

  const dx = s.output([n, h, w, cin]);
  // Views after the last allocation: it may have grown (and so detached) the heap.
  const d = heapF32(wasm, dx);
  if (!covered) d.fill(0);
  const loops = wasmLoops(wasm);
  for (const { r, c, out } of parts) {
    if (loops != null) {
      // One call per phase row: c.count runs of cin floats, sw pixels apart in dx.
      const dxAt = heapAddress(wasm, dx.dataId);
      const outAt = heapAddress(wasm, out.dataId);
      for (let img = 0; img < n; img++) {
        for (let i = 0; i < r.count; i++) {
          const row = sh * (r.first + i) + r.a - top;
          const to = ((img * h + row) * w + sw * c.first + c.a - left) * cin;
          const from = ((img * r.outCount + r.skip + i) * c.outCount + c.skip) * cin;
          loops.copyRuns(dxAt + 4 * to, outAt + 4 * from, c.count, 4 * cin, 4 * sw * cin, 4 * cin);
        }
      }
      continue;
    }
    const v = heapF32(wasm, out);
    const colStep = sw * cin;
    for (let img = 0; img < n; img++) {
      for (let i = 0; i < r.count; i++) {
        const row = sh * (r.first + i) + r.a - top;
        let to = ((img * h + row) * w + sw * c.first + c.a - left) * cin;
        let from = ((img * r.outCount + r.skip + i) * c.outCount + c.skip) * cin;
        for (let j = 0; j < c.count; j++, to += colStep) {
          for (let ci = 0; ci < cin; ci++) d[to + ci] = v[from++]!;
        }
      }
    }
  }
  return dx;
}
