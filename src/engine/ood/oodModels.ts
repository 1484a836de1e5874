/**
 * The models of a visit as the trust panel keys them: an identity per model object plus the weights' version,
 * so cached outputs are reused exactly while the weights stay the same; and a copy of a distilled student, so
 * that it outlives the run that trained it (the next distillation frees that run).
 */
import type * as tf from '@tensorflow/tfjs';
import { findPreset } from '../models/presets';

const ids = new WeakMap<tf.LayersModel, number>();
let nextId = 1;

/** `model#<identity>@<version>`: equal only for the same model object at the same weights version. */
export function oodModelKey(model: tf.LayersModel, version: string): string {
  let id = ids.get(model);
  if (id === undefined) {
    id = nextId++;
    ids.set(model, id);
  }
  return `model#${id}@${version}`;
}

/** A new model of the same preset holding a copy of every weight (BatchNorm statistics included). */
export function copyOfModel(model: tf.LayersModel, presetId: string): tf.LayersModel {
  const copy = findPreset(presetId).build(0);
  copy.setWeights(model.getWeights());
  return copy;
}
