/** Two files chosen together as a tfjs model: the one ending in .json is the topology, the other its weights. */
export function pairModelFiles<T extends { readonly name: string }>(
  files: readonly T[],
): { modelJson: T; weights: T } {
  const isJson = (file: T) => file.name.toLowerCase().endsWith('.json');
  const json = files.filter(isJson);
  const others = files.filter((file) => !isJson(file));
  if (files.length !== 2 || json.length !== 1 || others.length !== 1) {
    const chosen = files.length ? files.map((f) => f.name).join(', ') : 'nothing';
    throw new Error(`choose two files together, the model's .json and its weights (.bin); got ${chosen}`);
  }
  return { modelJson: json[0]!, weights: others[0]! };
}
