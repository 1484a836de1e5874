import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { CIFAR10_CLASSES } from '../data/cifar10';
import { findPreset } from '../models/presets';
import {
  CHECKPOINT_FILES,
  type CheckpointStore,
  checkArchitecture,
  loadCheckpoint,
  loadModel,
  modelFiles,
  type ModelMetadata,
  modelMetadata,
  saveCheckpoint,
  storedAnchors,
  textFile,
} from './checkpoint';
import { DEFAULT_TRAIN_CONFIG, parseTrainConfig } from './hyperparams';
import { createOptimizer, initialTrainerState } from './trainer';

const bytes = (data: Uint8Array | string) => (typeof data === 'string' ? textFile(data) : data);

function memoryStore(): CheckpointStore & { files: Map<string, Uint8Array> } {
  const files = new Map<string, Uint8Array>();
  return {
    files,
    async write(written) {
      files.clear();
      for (const [name, data] of Object.entries(written)) files.set(name, bytes(data));
    },
    async read(name) {
      const data = files.get(name);
      if (!data) throw new Error(`${name}: missing`);
      return data;
    },
  };
}

/** Deterministic inputs in the model's normalised range. */
const inputs = (n: number) =>
  tf.tensor4d(
    Float32Array.from({ length: n * 32 * 32 * 3 }, (_, i) => Math.sin(i * 0.37) * 2),
    [n, 32, 32, 3],
  );

/** Every output of a model, read back. */
function predict(model: tf.LayersModel, x: tf.Tensor4D): Float32Array[] {
  return tf.tidy(() => (model.predict(x) as tf.Tensor[]).map((t) => t.dataSync() as Float32Array));
}

let cnn: tf.LayersModel;
let files: Record<string, Uint8Array | string>;

beforeAll(async () => {
  // Tiny forward passes only: the cpu backend does not depend on the lab's wasm kernels.
  const report = await initBackend('cpu');
  expect(report.backend).toBe('cpu');
  cnn = findPreset('cnn-small').build(3);
  files = await modelFiles(cnn, modelMetadata(cnn, 'cnn-small', 'student'));
});

afterAll(() => {
  cnn?.dispose();
});

describe('modelFiles / loadModel', () => {
  it('writes the standard tfjs layers-model format, with our metadata alongside', () => {
    expect(Object.keys(files).sort()).toEqual([CHECKPOINT_FILES.model, CHECKPOINT_FILES.weights].sort());
    const json = JSON.parse(files[CHECKPOINT_FILES.model] as string) as tf.io.ModelJSON;
    expect(json.format).toBe('layers-model');
    expect(json.generatedBy).toMatch(/^TensorFlow\.js tfjs-layers v4\./);
    expect(json.weightsManifest).toHaveLength(1);
    expect(json.weightsManifest[0]!.paths).toEqual(['weights.bin']);
    const specs = json.weightsManifest[0]!.weights;
    expect(specs.map((s) => s.name)).toEqual(cnn.weights.map((w) => w.originalName));
    expect(specs.every((s) => s.dtype === 'float32')).toBe(true);
    const weights = files[CHECKPOINT_FILES.weights] as Uint8Array;
    expect(weights.byteLength).toBe(cnn.countParams() * 4);
    expect((json.modelTopology as { class_name?: string }).class_name).toBe('Model');
    expect(json.userDefinedMetadata).toEqual({
      distillery: {
        preset: 'cnn-small',
        role: 'student',
        classNames: [...CIFAR10_CLASSES],
        normalization: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
        outputs: ['logits', 'features', 'stage1', 'stage2', 'stage3'],
      },
    });
  });

  it('round-trips to a model with identical predictions on every output', async () => {
    const { model, metadata } = await loadModel(
      bytes(files[CHECKPOINT_FILES.model]!),
      bytes(files[CHECKPOINT_FILES.weights]!),
    );
    expect(metadata?.preset).toBe('cnn-small');
    const x = inputs(4);
    const before = predict(cnn, x);
    const after = predict(model, x);
    expect(after).toHaveLength(5);
    expect(after.map((a) => a.length)).toEqual(before.map((b) => b.length));
    after.forEach((values, i) => expect(Array.from(values)).toEqual(Array.from(before[i]!)));
    // A freshly built model with another seed does not predict the same (the comparison can fail).
    const other = findPreset('cnn-small').build(4);
    expect(Array.from(predict(other, x)[0]!)).not.toEqual(Array.from(before[0]!));
    x.dispose();
    other.dispose();
    model.dispose();
  });

  it('loads with tfjs itself: the standard model.json parser plus tf.loadLayersModel', async () => {
    const json = JSON.parse(files[CHECKPOINT_FILES.model] as string) as tf.io.ModelJSON;
    const weights = files[CHECKPOINT_FILES.weights] as Uint8Array;
    const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
      expect(manifest.flatMap((group) => group.paths)).toEqual(['weights.bin']);
      return [manifest.flatMap((group) => group.weights), weights.slice().buffer];
    });
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    expect(model.outputs.map((o) => o.name.split('/')[0])).toEqual([
      'logits',
      'features',
      'stage1',
      'stage2',
      'stage3',
    ]);
    const x = inputs(2);
    expect(Array.from(predict(model, x)[0]!)).toEqual(Array.from(predict(cnn, x)[0]!));
    x.dispose();
    model.dispose();
  });

  it('refuses a weights file of the wrong size, naming both byte counts', async () => {
    const weights = files[CHECKPOINT_FILES.weights] as Uint8Array;
    const needed = cnn.countParams() * 4;
    await expect(
      loadModel(
        bytes(files[CHECKPOINT_FILES.model]!),
        weights.subarray(0, weights.byteLength - 4),
        'ckpt/model.json',
      ),
    ).rejects.toThrow(
      `ckpt/model.json: its weights file has ${(needed - 4).toLocaleString('en-US')} bytes, the manifest needs ${needed.toLocaleString('en-US')}`,
    );
    expect(needed).toBeGreaterThan(1000);
  });

  it('refuses bad JSON, and JSON that is not a layers model, by name', async () => {
    const weights = files[CHECKPOINT_FILES.weights] as Uint8Array;
    await expect(loadModel(textFile('{"format": "layers-'), weights, 'ckpt/model.json')).rejects.toThrow(
      /^ckpt\/model\.json: not JSON \(.+\)$/,
    );
    await expect(
      loadModel(textFile('{"format": "graph-model"}'), weights, 'ckpt/model.json'),
    ).rejects.toThrow('ckpt/model.json: not a tfjs layers model (no modelTopology or weightsManifest)');
  });
});

describe('storedAnchors', () => {
  it('keeps well-formed anchors (indices and centrality) by set id and leaves out anything else', () => {
    const metadata = (anchors: unknown) =>
      ({ ...modelMetadata(cnn, 'cnn-small', 'teacher'), anchors }) as ModelMetadata;
    const ok = { indices: [3, 1], centrality: [9.5, 2] };
    expect(storedAnchors(metadata({ embedded: ok, full: { indices: [7], centrality: [1] } }))).toEqual({
      embedded: ok,
      full: { indices: [7], centrality: [1] },
    });
    const bad = {
      list: [1, 2],
      empty: { indices: [], centrality: [] },
      negative: { indices: [1, -1], centrality: [1, 1] },
      fraction: { indices: [1.5], centrality: [1] },
      short: { indices: [1, 2], centrality: [1] },
      infinite: { indices: [1], centrality: [Infinity] },
      text: { indices: ['1'], centrality: [1] },
      nothing: null,
    };
    expect(storedAnchors(metadata({ ...bad, ok }))).toEqual({ ok });
    expect(storedAnchors(metadata([ok]))).toEqual({});
    expect(storedAnchors(metadata(null))).toEqual({});
    expect(storedAnchors(null)).toEqual({});
    expect(modelMetadata(cnn, 'cnn-small', 'teacher', { anchors: {} })).not.toHaveProperty('anchors');
  });
});

describe('checkArchitecture', () => {
  it('accepts a loaded model of the same preset', async () => {
    const { model } = await loadModel(
      bytes(files[CHECKPOINT_FILES.model]!),
      bytes(files[CHECKPOINT_FILES.weights]!),
    );
    expect(() => checkArchitecture(model, 'cnn-small')).not.toThrow();
    model.dispose();
  });

  it('refuses a resnet8 checked against cnn-small, naming the mismatch', () => {
    const resnet8 = findPreset('resnet8').build(1);
    const count = resnet8.weights.length;
    expect(count).not.toBe(cnn.weights.length);
    expect(() => checkArchitecture(resnet8, 'cnn-small', 'ckpt/model.json')).toThrow(
      `ckpt/model.json: has ${count} weight tensors, the cnn-small preset has ${cnn.weights.length}`,
    );
    resnet8.dispose();
  });

  it('names the first weight whose shape differs when the counts agree', () => {
    // cnn-small's layout, but 8 filters in the first convolution.
    const input = tf.input({ shape: [32, 32, 3] });
    let h = input;
    const stages: tf.SymbolicTensor[] = [];
    [8, 32, 64].forEach((filters, s) => {
      if (s > 0) h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
      h = tf.layers
        .conv2d({ filters, kernelSize: 3, padding: 'same', name: `s${s}` })
        .apply(h) as tf.SymbolicTensor;
      stages.push(h);
    });
    const features = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
    const logits = tf.layers.dense({ units: 10 }).apply(features) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: [logits, features, ...stages] });
    expect(() => checkArchitecture(model, 'cnn-small', 'narrow.json')).toThrow(
      'narrow.json: weight 1 (s0/kernel) has shape [3, 3, 3, 8], the cnn-small preset expects [3, 3, 3, 16]',
    );
    model.dispose();
  });

  it('refuses a model with other outputs', () => {
    const input = tf.input({ shape: [32, 32, 3] });
    const pooled = tf.layers.globalAveragePooling2d({}).apply(input) as tf.SymbolicTensor;
    const model = tf.model({
      inputs: input,
      outputs: tf.layers.dense({ units: 10 }).apply(pooled) as tf.SymbolicTensor,
    });
    expect(() => checkArchitecture(model, 'cnn-small')).toThrow(
      'model.json: has 1 outputs, the cnn-small preset has 5 (logits, features, stages)',
    );
    model.dispose();
  });
});

describe('saveCheckpoint / loadCheckpoint', () => {
  it('round-trips the model, the optimizer slots and the run state', async () => {
    const config = parseTrainConfig({ ...DEFAULT_TRAIN_CONFIG, role: 'student', model: 'cnn-small' });
    const optimizer = createOptimizer(config);
    // One update with made-up gradients creates the momentum slots.
    const variables = cnn.trainableWeights.map((w) => w.read() as tf.Variable);
    const grads = variables.map((v, i) => ({ name: v.name, tensor: tf.fill(v.shape, (i + 1) / 100) }));
    optimizer.applyGradients(grads);
    tf.dispose(grads.map((g) => g.tensor));
    const state = { ...initialTrainerState(), epoch: 1, stepInEpoch: 3 };
    const store = memoryStore();
    const before = tf.memory().numTensors;
    await saveCheckpoint(store, cnn, optimizer, { config, state });
    expect(tf.memory().numTensors).toBe(before);
    expect([...store.files.keys()].sort()).toEqual(Object.values(CHECKPOINT_FILES).sort());

    const loaded = await loadCheckpoint(store);
    expect(loaded.run).toEqual({ format: 'distillery-run', version: 1, config, state });
    const expectedSlots = await optimizer.getWeights();
    expect(loaded.optimizerSlots.map((s) => s.name)).toEqual(expectedSlots.map((s) => s.name));
    loaded.optimizerSlots.forEach((slot, i) => {
      expect(slot.tensor.shape).toEqual(expectedSlots[i]!.tensor.shape);
      expect(Array.from(slot.tensor.dataSync())).toEqual(Array.from(expectedSlots[i]!.tensor.dataSync()));
    });
    // The slots of a momentum update are 0.9 * 0 + grad: the made-up gradient values.
    expect(loaded.optimizerSlots[1]!.tensor.dataSync()[0]).toBeCloseTo(0.01, 7);
    const x = inputs(2);
    expect(Array.from(predict(loaded.model, x)[0]!)).toEqual(Array.from(predict(cnn, x)[0]!));
    tf.dispose([x, ...loaded.optimizerSlots.map((s) => s.tensor)]);
    loaded.model.dispose();
    optimizer.dispose();
  });

  it('refuses a state file that is not a run state', async () => {
    const store = memoryStore();
    await store.write({ ...files, [CHECKPOINT_FILES.state]: JSON.stringify({ format: 'other' }) });
    await expect(loadCheckpoint(store)).rejects.toThrow('state.json: not a Distillery run state');
  });
});
