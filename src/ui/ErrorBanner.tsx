import { dismissErrors, useNoticeStore } from '../store/stores';

export function ErrorBanner() {
  const errors = useNoticeStore((s) => s.errors);
  if (!errors.length) return null;
  return (
    <div className="error-banner" role="alert" data-testid="error-banner">
      <ul>
        {errors.map((message) => (
          <li key={message}>{message}</li>
        ))}
      </ul>
      <button type="button" onClick={dismissErrors} aria-label="Dismiss">
        ×
      </button>
    </div>
  );
}
