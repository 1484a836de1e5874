import { useEffect, useRef } from 'react';
import { reshuffleSamples } from '../store/actions';
import { useDatasetStore } from '../store/stores';
import type { SampleImage } from '../worker/protocol';

function SampleCanvas({ sample }: { sample: SampleImage }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const context = ref.current?.getContext('2d');
    context?.putImageData(new ImageData(new Uint8ClampedArray(sample.rgba), 32, 32), 0, 0);
  }, [sample]);
  return <canvas ref={ref} width={32} height={32} aria-label={sample.className} />;
}

export function SampleGrid() {
  const samples = useDatasetStore((s) => s.samples);
  const seed = useDatasetStore((s) => s.sampleSeed);
  return (
    <div className="samples">
      <div className="samples-head">
        <h3>Sample images</h3>
        <button
          type="button"
          data-testid="reshuffle"
          onClick={() => void reshuffleSamples()}
          disabled={!samples.length}
        >
          Reshuffle
        </button>
      </div>
      <ul className="sample-grid" data-testid="sample-grid" data-seed={seed}>
        {samples.map((sample) => (
          <li key={`${sample.split}-${sample.index}`} data-testid="sample" data-label={sample.className}>
            <SampleCanvas sample={sample} />
            <span>{sample.className}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
