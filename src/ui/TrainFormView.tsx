import { formatCount } from '../engine/config/format';
import { CONFIG_SETTINGS, type Setting } from '../engine/config/training';
import { editForm } from '../store/trainingActions';
import { usePresetStore, useTrainingStore } from '../store/trainingStores';
import { checkForm } from '../store/trainForm';
import { hasLiveRun } from '../store/trainingState';
import type { TrainForm } from '../store/trainForm';
import type { ModelRole } from '../worker/protocol';
import { formatSi } from './format';

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
        {CONFIG_SETTINGS.map((setting) => (
          <SettingControl
            key={setting.key}
            setting={setting}
            testId={id(setting.flag)}
            value={form[setting.key]}
            disabled={setting.onlyWithOptimizer !== undefined && form.optimizer !== setting.onlyWithOptimizer}
            onEdit={(value) => onEdit({ [setting.key]: value })}
          />
        ))}
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

/** One row of the settings table as a control: a text box for a number, a menu for a choice, a checkbox. */
function SettingControl({
  setting,
  testId,
  value,
  disabled,
  onEdit,
}: {
  setting: Setting;
  testId: string;
  value: string | boolean;
  disabled: boolean;
  onEdit: (value: string | boolean) => void;
}) {
  if (setting.kind === 'switch')
    return (
      <label className="checkbox wide">
        <input
          type="checkbox"
          data-testid={testId}
          checked={value === true}
          onChange={(e) => onEdit(e.target.checked)}
        />
        {setting.label}
      </label>
    );
  const label = (
    <span>
      {setting.label}
      {setting.hint && <span className="hint"> ({setting.hint})</span>}
    </span>
  );
  if (setting.kind === 'choice')
    return (
      <label>
        {label}
        <select data-testid={testId} value={String(value)} onChange={(e) => onEdit(e.target.value)}>
          {setting.choices.map((choice) => (
            <option key={choice} value={choice}>
              {setting.choiceLabels?.[choice] ?? choice}
            </option>
          ))}
        </select>
      </label>
    );
  return (
    <label>
      {label}
      <input
        type="text"
        inputMode="decimal"
        spellCheck={false}
        data-testid={testId}
        value={String(value)}
        disabled={disabled}
        onChange={(e) => onEdit(e.target.value)}
      />
    </label>
  );
}
