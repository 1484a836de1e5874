import { formatCount } from '../engine/config/format';
import { OPTIMIZERS, SCHEDULES } from '../engine/training/hyperparams';
import { editForm } from '../store/trainingActions';
import { usePresetStore, useTrainingStore } from '../store/trainingStores';
import { checkForm, type NumericField } from '../store/trainForm';
import { hasLiveRun } from '../store/trainingState';
import type { TrainForm } from '../store/trainForm';
import type { ModelRole } from '../worker/protocol';
import { formatSi } from './format';

const NUMERIC_FIELDS: readonly { field: NumericField; label: string; testId: string; hint?: string }[] = [
  { field: 'learningRate', label: 'Learning rate', testId: 'lr' },
  { field: 'epochs', label: 'Epochs', testId: 'epochs' },
  { field: 'batchSize', label: 'Batch size', testId: 'batch' },
  { field: 'momentum', label: 'Momentum', testId: 'momentum', hint: 'SGD only' },
  { field: 'weightDecay', label: 'Weight decay', testId: 'weight-decay' },
  { field: 'seed', label: 'Seed', testId: 'seed' },
];

/** The run's settings. Refused values are named next to the form (the same reasons as the engine gives). */
export function TrainFormView({ role }: { role: ModelRole }) {
  const form = useTrainingStore((s) => s[role].form);
  const status = useTrainingStore((s) => s[role].status);
  return (
    <TrainFormFields
      idPrefix={role}
      role={role}
      form={form}
      locked={hasLiveRun(status)}
      onEdit={(patch) => editForm(role, patch)}
    />
  );
}

/**
 * A model's training settings as a form: preset (of `role`), optimizer, schedule, numbers, augmentation; the
 * reasons a value is refused below it. Test ids are `<idPrefix>-preset`, `<idPrefix>-lr` and so on.
 */
export function TrainFormFields({
  idPrefix,
  role,
  form,
  locked,
  onEdit,
}: {
  idPrefix: string;
  role: ModelRole;
  form: TrainForm;
  locked: boolean;
  onEdit: (patch: Partial<TrainForm>) => void;
}) {
  const presets = usePresetStore((s) => s.presets);
  const choices = presets?.filter((p) => p.role === role) ?? [];
  const preset = choices.find((p) => p.id === form.model);
  const { error } = checkForm(form, role);
  const id = (name: string) => `${idPrefix}-${name}`;
  return (
    <form className="train-form" onSubmit={(e) => e.preventDefault()} aria-describedby={id('config-error')}>
      <fieldset disabled={locked}>
        <label className="wide">
          Model
          <select
            data-testid={id('preset')}
            value={form.model}
            disabled={!presets}
            onChange={(e) => onEdit({ model: e.target.value })}
          >
            {!presets && <option value="">loading…</option>}
            {choices.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label}
              </option>
            ))}
          </select>
        </label>
        {preset && (
          <p className="preset-cost wide" data-testid={id('preset-cost')}>
            <span data-testid={id('parameters')} data-value={preset.parameters}>
              {formatCount(preset.parameters)} parameters
            </span>{' '}
            ·{' '}
            <span data-testid={id('flops')} data-value={preset.flopsPerImage}>
              {formatSi(preset.flopsPerImage)}FLOPs per image
            </span>
            <br />
            <span className="hint">{preset.description}</span>
          </p>
        )}
        <label>
          Optimizer
          <select
            data-testid={id('optimizer')}
            value={form.optimizer}
            onChange={(e) => onEdit({ optimizer: e.target.value })}
          >
            {OPTIMIZERS.map((name) => (
              <option key={name} value={name}>
                {name === 'sgd' ? 'SGD' : 'Adam'}
              </option>
            ))}
          </select>
        </label>
        <label>
          Schedule
          <select
            data-testid={id('schedule')}
            value={form.schedule}
            onChange={(e) => onEdit({ schedule: e.target.value })}
          >
            {SCHEDULES.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        {NUMERIC_FIELDS.map(({ field, label, testId, hint }) => (
          <label key={field}>
            <span>
              {label}
              {hint && <span className="hint"> ({hint})</span>}
            </span>
            <input
              type="text"
              inputMode="decimal"
              spellCheck={false}
              data-testid={id(testId)}
              value={form[field]}
              disabled={field === 'momentum' && form.optimizer !== 'sgd'}
              onChange={(e) => onEdit({ [field]: e.target.value })}
            />
          </label>
        ))}
        <label className="checkbox wide">
          <input
            type="checkbox"
            data-testid={id('augment')}
            checked={form.augment}
            onChange={(e) => onEdit({ augment: e.target.checked })}
          />
          Augment (random crop with 4-pixel padding, horizontal flip)
        </label>
      </fieldset>
      {/* Until the presets arrive no model can be chosen; that is not the user's mistake. */}
      {error && presets && !locked && (
        <p className="config-error" role="alert" id={id('config-error')} data-testid={id('config-error')}>
          {error}
        </p>
      )}
    </form>
  );
}
