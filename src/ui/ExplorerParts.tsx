/**
 * The temperature explorer's pieces, shared by its panel and by lecture mode: a test image, the T slider, the
 * teacher's (and student's) softmax at T as sorted bars, the numbers (entropy, KD's T^2 KL) and the "dark
 * knowledge" line. They read the explorer store and useExplorerNumbers only.
 */
import { useEffect, useRef } from 'react';
import { MAX_TEMPERATURE, MIN_TEMPERATURE } from '../engine/config/temperature';
import { setSlider, useExplorerStore } from '../store/explorerActions';
import { SLIDER_MAX, SLIDER_MIN, sliderOf } from '../store/explorerState';
import type { SampleImage } from '../worker/protocol';
import type { ExplorerNumbers } from './useExplorerNumbers';

export const percent = (p: number) => `${(p * 100).toFixed(1)}%`;
export const formatT = (t: number) => (t < 10 ? t.toFixed(2) : t.toFixed(1));

/** A 32x32 test image, drawn pixelated at the size the stylesheet gives it. */
export function TestImage({ image, className }: { image: SampleImage; className?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    ref.current
      ?.getContext('2d')
      ?.putImageData(new ImageData(new Uint8ClampedArray(image.rgba), 32, 32), 0, 0);
  }, [image]);
  return (
    <canvas
      ref={ref}
      width={32}
      height={32}
      className={className}
      aria-label={`test image ${image.index}: ${image.className}`}
    />
  );
}

/** T on a log scale from 0.5 to 20 (the slider's value is log2 T). */
export function TemperatureSlider() {
  const temperature = useExplorerStore((s) => s.temperature);
  return (
    <label className="temperature-control">
      <span>
        Temperature T = <strong data-testid="temperature-value">{formatT(temperature)}</strong>
      </span>
      <input
        type="range"
        data-testid="temperature-slider"
        min={SLIDER_MIN}
        max={SLIDER_MAX}
        step="any"
        value={sliderOf(temperature)}
        data-temperature={temperature}
        aria-valuetext={`T = ${formatT(temperature)}`}
        onChange={(event) => setSlider(Number(event.target.value))}
      />
      <span className="hint">
        {MIN_TEMPERATURE} (sharp) to {MAX_TEMPERATURE} (soft), log scale
      </span>
    </label>
  );
}

/** Teacher and student softmax at T, one row per class, sorted by the teacher's probability. */
export function SoftmaxBars({
  numbers,
  classNames,
  hasStudent,
}: {
  numbers: ExplorerNumbers;
  classNames: readonly string[];
  hasStudent: boolean;
}) {
  const { ranked, studentP, label } = numbers;
  return (
    <table className="softmax-bars" data-testid="softmax-bars">
      <thead>
        <tr>
          <th scope="col">class</th>
          <th scope="col">teacher</th>
          {hasStudent && studentP && <th scope="col">student</th>}
        </tr>
      </thead>
      <tbody>
        {ranked.map(({ classIndex, probability }) => {
          const name = classNames[classIndex] ?? String(classIndex);
          const s = studentP?.[classIndex];
          return (
            <tr
              key={classIndex}
              data-testid="softmax-bar"
              data-class={name}
              data-teacher-p={probability}
              className={classIndex === label ? 'true-class' : undefined}
            >
              <th scope="row">
                {name}
                {classIndex === label && <span className="tag">true</span>}
              </th>
              <td>
                <span className="bar-track">
                  <span className="bar teacher-bar" style={{ width: `${probability * 100}%` }} />
                </span>
                <span className="bar-value">{percent(probability)}</span>
              </td>
              {s !== undefined && (
                <td>
                  <span className="bar-track">
                    <span className="bar student-bar" style={{ width: `${s * 100}%` }} />
                  </span>
                  <span className="bar-value">{percent(s)}</span>
                </td>
              )}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Entropy, KD's soft term and the teacher's runner-ups at the current T. */
export function ExplorerNumbersView({
  numbers,
  classNames,
}: {
  numbers: ExplorerNumbers;
  classNames: readonly string[];
}) {
  const name = (i: number) => classNames[i] ?? String(i);
  const top = numbers.ranked[0]!;
  const maxEntropy = Math.log(numbers.classes);
  return (
    <div className="explorer-numbers">
      <dl>
        <dt>Teacher entropy</dt>
        <dd>
          <span data-testid="teacher-entropy" data-value={numbers.teacherEntropy}>
            {numbers.teacherEntropy.toFixed(3)}
          </span>{' '}
          nats <span className="hint">(uniform {maxEntropy.toFixed(3)})</span>
        </dd>
        {numbers.studentEntropy !== null && (
          <>
            <dt>Student entropy</dt>
            <dd data-testid="student-entropy">{numbers.studentEntropy.toFixed(3)} nats</dd>
          </>
        )}
        <dt>
          KD soft term T<sup>2</sup>·KL(teacher ‖ student)
        </dt>
        <dd data-testid="kd-soft-term" data-value={numbers.kdImage ?? ''}>
          {numbers.kdImage === null ? (
            'needs a student'
          ) : (
            <>
              {numbers.kdImage.toFixed(3)} <span className="hint">this image</span>
              <br />
              {numbers.kdMean!.toFixed(3)} <span className="hint">mean over the test split</span>
            </>
          )}
        </dd>
      </dl>
      <p className="dark-knowledge" data-testid="dark-knowledge">
        The teacher says <strong>{name(top.classIndex)}</strong> ({percent(top.probability)})
        {top.classIndex !== numbers.label && <> for this {name(numbers.label)}</>}
        {numbers.darkKnowledge.length > 0 ? (
          <>
            ; runner-ups:{' '}
            {numbers.darkKnowledge.map((c) => `${name(c.classIndex)} ${percent(c.probability)}`).join(', ')}
          </>
        ) : (
          <>; no other class reaches 1% at this T</>
        )}
        .
      </p>
    </div>
  );
}
