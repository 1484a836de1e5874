/// <reference lib="webworker" />
// The umbrella package: layers (the models) and the gradients training needs, on whichever backend starts.
import '@tensorflow/tfjs';
import * as Comlink from 'comlink';
import { registerFastBatchNormGradient } from '../engine/backend/batchNormGradient';
import { benchmarkDistillStep, benchmarkTrainingStep } from '../engine/benchmark';
import { LabSession, type TeacherFiles } from '../engine/session';
import { indexedDbRunSlots } from './indexedDbRunSlots';
import type { RunEnd } from '../engine/run/runTypes';
import { pairModelFiles } from './modelFilePair';
import { workerTeacherHost } from './teacherHost';
import { loopHelperWorker } from './loopHelperHost';
import { wasmPaths } from './wasmFiles';
import { ProgressForwarder } from './progress';
import type { SessionRunListener } from '../engine/session';
import type {
  AnchorPreviewListener,
  OodListener,
  EngineApi,
  MultiStepLog,
  MutualProgressListener,
  MutualRequest,
  MutualResult,
  RunProgressListener,
  SplitLogits,
  SweepListener,
} from './protocol';
import type { SweepEnd, SweepRequest } from '../engine/config/sweep';

// Once, before any training: BatchNorm's backward pass without input-sized temporaries (every backend).
registerFastBatchNormGradient();

const servedUrl = (path: string) => new URL(`${import.meta.env.BASE_URL}${path}`, self.location.origin);

/** Prepared data is served beside the app, under <base>/data/. */
async function readPreparedFile(path: string): Promise<Uint8Array> {
  const url = servedUrl(`data/${path}`);
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(
      `${url.pathname}: ${response.status} ${response.statusText}; run \`npm run data\` to prepare it`,
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * The shipped teacher, served under <base>/teacher/. A static host answers a missing file with 404, or, as a
 * single-page-app fallback, with index.html: both mean none is shipped.
 */
async function readShippedTeacher(): Promise<TeacherFiles | null> {
  const modelUrl = servedUrl('teacher/model.json');
  const response = await fetch(modelUrl);
  const isHtml = response.headers.get('content-type')?.includes('text/html') ?? false;
  if (response.status === 404 || (response.ok && isHtml)) return null;
  if (!response.ok) throw new Error(`${modelUrl.pathname}: ${response.status} ${response.statusText}`);
  const modelJson = new Uint8Array(await response.arrayBuffer());
  let paths: string[];
  try {
    const manifest = (
      JSON.parse(new TextDecoder().decode(modelJson)) as { weightsManifest?: { paths: string[] }[] }
    ).weightsManifest;
    paths = manifest?.flatMap((group) => group.paths) ?? [];
  } catch (error) {
    throw new Error(`${modelUrl.pathname}: not JSON (${(error as Error).message})`, { cause: error });
  }
  const parts = await Promise.all(
    paths.map(async (path) => {
      const url = new URL(path, modelUrl);
      const part = await fetch(url);
      if (!part.ok) throw new Error(`${url.pathname}: ${part.status} ${part.statusText}`);
      return new Uint8Array(await part.arrayBuffer());
    }),
  );
  // Shards in manifest order make one weights buffer.
  const weights = new Uint8Array(parts.reduce((n, part) => n + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    weights.set(part, offset);
    offset += part.byteLength;
  }
  return { modelJson, weights, name: modelUrl.pathname };
}

/**
 * A turn of the Worker's event loop: queued messages (a pause, a stop) are handled before training goes on.
 * A MessageChannel rather than setTimeout, which browsers clamp to 4 ms once timers nest.
 */
const yieldChannel = new MessageChannel();
const yieldWaiters: (() => void)[] = [];
yieldChannel.port1.onmessage = () => yieldWaiters.shift()?.();
const yieldToHost = () =>
  new Promise<void>((resolve) => {
    yieldWaiters.push(resolve);
    yieldChannel.port2.postMessage(null);
  });

/**
 * On wasm the teacher's pass runs in a Worker of its own, a batch ahead (engine/distill/teacherAhead.ts), where
 * there is a second core for it.
 */
const teacherHost = (self.navigator.hardwareConcurrency ?? 1) >= 2 ? workerTeacherHost : undefined;

const session = new LabSession({
  readPreparedFile,
  readShippedTeacher,
  yieldToHost,
  runSlots: indexedDbRunSlots,
  wasmPaths,
  loopHelper: loopHelperWorker,
  ...(teacherHost ? { teacherHost } : {}),
});

/**
 * Runs `train` with the UI's listener behind a throttled forwarder: progress updates carry the mean step time,
 * the set-up and a rewind are passed on, and the last update goes out before the end.
 */
async function reportTo(
  listener: RunProgressListener,
  train: (run: SessionRunListener) => Promise<RunEnd>,
): Promise<RunEnd> {
  let msPerStep: number | null = null;
  const forwarder = new ProgressForwarder(
    (update) => listener.progress({ ...update, msPerStep }),
    () => performance.now(),
  );
  try {
    return await train({
      ready: (setup) => listener.ready(setup),
      timing: (ms) => {
        msPerStep = ms;
      },
      step: (log) => forwarder.step(log),
      epoch: (log) => forwarder.epoch(log),
      boundary: (position) => forwarder.boundary(position),
      saved: (position) => listener.saved(position),
      rewound: ({ steps, epochs }, position) => {
        forwarder.flush();
        listener.rewound({ steps, epochs, position });
      },
    });
  } finally {
    forwarder.flush();
    // The listener is a comlink proxy (typed as the plain interface it stands for); free its port.
    (listener as unknown as Comlink.Remote<RunProgressListener>)[Comlink.releaseProxy]();
  }
}

/** The explorer's logits go to the UI without a copy (the session hands out its own copy each time). */
const transferLogits = (logits: SplitLogits) =>
  Comlink.transfer(logits, [logits.logits.buffer as ArrayBuffer, logits.labels.buffer as ArrayBuffer]);

const readFile = async (file: File) => new Uint8Array(await file.arrayBuffer());

/** A mutual-learning run with its step logs sent in batches (at most 4 a second) and at each epoch's end. */
async function runMutual(request: MutualRequest, listener: MutualProgressListener): Promise<MutualResult> {
  let pending: MultiStepLog[] = [];
  let sent = performance.now();
  const flush = () => {
    if (pending.length) listener.steps(pending);
    pending = [];
    sent = performance.now();
  };
  try {
    return await session.runMutual(request, {
      step: (log) => {
        pending.push(log);
        if (performance.now() - sent >= 250) flush();
      },
      epoch: (log) => {
        flush();
        listener.epoch(log);
      },
    });
  } finally {
    flush();
    (listener as unknown as Comlink.Remote<MutualProgressListener>)[Comlink.releaseProxy]();
  }
}

/** The sweep, with its step counts sent at most 4 times a second (cell starts and results at once). */
async function runSweep(request: SweepRequest, listener: SweepListener): Promise<SweepEnd> {
  let sent = 0;
  try {
    return await session.runSweep(request, {
      cellStarted: (index) => listener.cellStarted(index),
      cellDone: (index, result) => listener.cellDone(index, result),
      cellStep: (index, step) => {
        if (performance.now() - sent < 250) return;
        sent = performance.now();
        listener.cellStep(index, step);
      },
    });
  } finally {
    (listener as unknown as Comlink.Remote<SweepListener>)[Comlink.releaseProxy]();
  }
}

const api: EngineApi = {
  initBackend: (requested) => session.initBackend(requested),
  usePreparedSet: (id) => session.usePreparedSet(id),
  async useUploads(files) {
    const read = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: await readFile(f) })));
    return session.useUploads(read);
  },
  async samples(count, seed) {
    const samples = session.samples(count, seed);
    return Comlink.transfer(
      samples,
      samples.map((s) => s.rgba.buffer as ArrayBuffer),
    );
  },
  async presets() {
    return session.presets();
  },
  startRun: (lane, config, listener) => reportTo(listener, (run) => session.startRun(lane, config, run)),
  resumeRun: (lane, listener) => reportTo(listener, (run) => session.resumeRun(lane, run)),
  async pauseRun(lane) {
    session.pauseRun(lane);
  },
  async stopRun(lane) {
    session.stopRun(lane);
  },
  savedRuns: () => session.savedRuns(),
  restoreSavedRun: (lane) => session.restoreSavedRun(lane),
  discardSavedRun: (lane) => session.discardSavedRun(lane),
  exportModel: (role) => session.exportModel(role),
  loadShippedTeacher: () => session.loadShippedTeacher(),
  async importTeacher(files) {
    const { modelJson, weights } = pairModelFiles(files);
    return session.importTeacher({
      modelJson: await readFile(modelJson),
      weights: await readFile(weights),
      name: modelJson.name,
    });
  },
  measureTeacher: () => session.measureTeacher(),
  async teacherInfo() {
    return session.teacherInfo();
  },
  async cancelTeacherMeasurement() {
    session.cancelTeacherMeasurement();
  },
  async distillMethods() {
    return session.distillMethods();
  },
  teacherLogits: async () => transferLogits(await session.teacherLogits()),
  studentLogits: async (source) => transferLogits(await session.studentLogits(source)),
  async previewAnchors(perClass, listener) {
    try {
      return await session.previewAnchors(perClass, (done, total) => listener.progress(done, total));
    } finally {
      (listener as unknown as Comlink.Remote<AnchorPreviewListener>)[Comlink.releaseProxy]();
    }
  },
  runAnchors: () => session.runAnchors(),
  async oodModels() {
    return (await session.oodModels()).map(({ key, label, role }) => ({ key, label, role }));
  },
  async oodSets() {
    return session.oodSets();
  },
  async addOodSet(files) {
    const read = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: await readFile(f) })));
    return session.addOodSet(read);
  },
  async runOod(request, listener) {
    let last = 0;
    try {
      return await session.runOod(request, (progress) => {
        // A few updates a second; the last one (done = total) always goes.
        const now = performance.now();
        if (now - last < 200 && progress.done < progress.total) return;
        last = now;
        listener.progress(progress);
      });
    } finally {
      (listener as unknown as Comlink.Remote<OodListener>)[Comlink.releaseProxy]();
    }
  },
  async cancelOod() {
    session.cancelOod();
  },
  anchorNeighbours: (record) => session.anchorNeighbours(record),
  async testImages(indices) {
    const images = session.testImages(indices);
    return Comlink.transfer(
      images,
      images.map((s) => s.rgba.buffer as ArrayBuffer),
    );
  },
  reportCard: () => session.reportCard(),
  runSweep: (request, listener) => runSweep(request, listener),
  cancelSweep: async () => session.cancelSweep(),
  runMutual: (request, listener) => runMutual(request, listener),
  stopMutual: async () => {
    session.stopMutual();
  },
  benchmark: (presetId, options) => benchmarkTrainingStep(presetId, options),
  benchmarkDistill: (methodId, { inline = false, ...options }) =>
    benchmarkDistillStep(methodId, { ...options, ...(teacherHost && !inline ? { teacherHost } : {}) }),
};

Comlink.expose(api);
