/** The Distillation panel's method form: the method, its declared parameters (from DistillMethodInfo) and the labelled fraction. */
import {
  chooseLabelledFraction,
  chooseMethod,
  editDistillParam,
  resetDistillParams,
} from '../store/distillActions';
import { checkParams, defaultText, LABELLED_CHOICES, labelledText, rangeText } from '../store/distillForm';
import { useDistillStore } from '../store/distillStores';
import type { DistillMethodInfo } from '../worker/protocol';

function MethodParams({ method, locked }: { method: DistillMethodInfo; locked: boolean }) {
  const texts = useDistillStore((s) => s.paramTexts[method.id]) ?? {};
  const { errors } = checkParams(method, texts);
  if (!method.params.length) return <p className="hint wide">{method.id} has no parameters.</p>;
  return (
    <>
      {method.params.map((param) => {
        const error = errors[param.name];
        const errorId = `distill-param-error-${param.name}`;
        return (
          <label key={param.name} className="wide method-param">
            <span>
              {param.label} <code>{param.name}</code> <span className="hint">({rangeText(param)})</span>
            </span>
            <input
              type="text"
              inputMode="decimal"
              spellCheck={false}
              data-testid={`distill-param-${param.name}`}
              value={texts[param.name] ?? defaultText(param)}
              disabled={locked}
              aria-invalid={error !== undefined}
              aria-describedby={error ? errorId : undefined}
              onChange={(e) => editDistillParam(param.name, e.target.value)}
            />
            <span className="hint">{param.help}</span>
            {error && (
              <span className="param-error" role="alert" id={errorId} data-testid={errorId}>
                {error}
              </span>
            )}
          </label>
        );
      })}
      <button type="button" className="wide" disabled={locked} onClick={resetDistillParams}>
        Reset the parameters to their defaults
      </button>
    </>
  );
}

export function DistillMethodForm({ locked }: { locked: boolean }) {
  const methods = useDistillStore((s) => s.methods);
  const methodId = useDistillStore((s) => s.methodId);
  const labelledFraction = useDistillStore((s) => s.labelledFraction);
  const method = methods?.find((m) => m.id === methodId);
  return (
    <form className="train-form method-form" onSubmit={(e) => e.preventDefault()}>
      <fieldset disabled={locked}>
        <label className="wide">
          Method
          <select
            data-testid="distill-method"
            value={methodId}
            disabled={!methods}
            onChange={(e) => chooseMethod(e.target.value)}
          >
            {!methods && <option value={methodId}>loading…</option>}
            {methods?.map((m) => (
              <option key={m.id} value={m.id}>
                {m.label} ({m.id})
              </option>
            ))}
          </select>
        </label>
        {method && (
          <p className="wide method-summary" data-testid="distill-method-summary">
            {method.summary}
            <br />
            <span className="hint">Defaults: {method.defaultsFrom}.</span>
          </p>
        )}
        {method && <MethodParams method={method} locked={locked} />}
        <label className="wide">
          Labelled fraction
          <select
            data-testid="distill-labelled"
            value={String(labelledFraction)}
            onChange={(e) => chooseLabelledFraction(Number(e.target.value))}
          >
            {LABELLED_CHOICES.map((f) => (
              <option key={f} value={String(f)}>
                {labelledText(f)}
                {f === 1
                  ? ' (every label)'
                  : f === 0
                    ? ' (no labels: the teacher alone)'
                    : ' of the labels, class-balanced'}
              </option>
            ))}
          </select>
        </label>
      </fieldset>
    </form>
  );
}
