import { describe, expect, it } from 'vitest';
import { pairModelFiles } from './modelFilePair';

describe('pairModelFiles', () => {
  it('takes the .json as the topology and the other file as its weights, in either order', () => {
    expect(pairModelFiles([{ name: 'weights.bin' }, { name: 'Teacher.JSON' }])).toEqual({
      modelJson: { name: 'Teacher.JSON' },
      weights: { name: 'weights.bin' },
    });
  });

  it('refuses anything but one .json and one other file, naming what was chosen', () => {
    const message = "choose two files together, the model's .json and its weights (.bin); got";
    expect(() => pairModelFiles([{ name: 'model.json' }])).toThrow(`${message} model.json`);
    expect(() => pairModelFiles([{ name: 'a.json' }, { name: 'b.json' }])).toThrow(
      `${message} a.json, b.json`,
    );
    expect(() => pairModelFiles([{ name: 'a.bin' }, { name: 'b.bin' }])).toThrow(`${message} a.bin, b.bin`);
    expect(() => pairModelFiles([])).toThrow(`${message} nothing`);
  });
});
